import type { Response } from "express";
import type { ComponentChildren } from "preact";
import { OPERATOR_NAV, tenantNav } from "./areas.js";
import { Layout } from "./components/layout.js";
import { consoleContext, sendHtml } from "./http.js";

/** What a page says about itself. */
export interface PageOptions {
  title: string;
  /** Path whose nav link is current (defaults to the request path). */
  current?: string;
  flash?: { tone?: "ok" | "warn" | "bad"; text: string };
  status?: number;
}

/** Who the session is, in words, for the header (ids, never secrets). */
function whoOf(kind: string, id: string): string {
  if (kind === "operator")
    return id === "admin_token" ? "Operator (admin token)" : `Operator (${id.slice(0, 8)})`;
  if (kind === "setup_link") return `Setup link ${id.slice(0, 8)}`;
  return "Tenant admin (SSO)";
}

/** Render a console page inside the layout, with the nav this session may see. */
export function renderPage(res: Response, opts: PageOptions, children: ComponentChildren): void {
  const ctx = consoleContext(res);
  const tenant = ctx.tenant;
  sendHtml(
    res,
    <Layout
      title={opts.title}
      tenant={tenant ? { slug: tenant.slug, name: tenant.name } : undefined}
      tenantNav={tenant ? tenantNav(tenant.slug, ctx.operator ? "all" : ctx.session.scopes) : undefined}
      operatorNav={ctx.operator ? OPERATOR_NAV : undefined}
      current={opts.current ?? res.req.originalUrl.split("?")[0]}
      who={whoOf(ctx.session.kind, ctx.session.actorId)}
      csrf={ctx.session.csrf}
      returnUrl={res.locals.returnUrl as string | undefined}
      flash={opts.flash}
    >
      {children}
    </Layout>,
    opts.status,
  );
}
