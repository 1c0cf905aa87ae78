import type { Request, Response } from "express";
import type { ComponentChildren } from "preact";
import { authenticateSession, SESSION_COOKIE } from "../access/sessions.js";
import type { Deps } from "../deps.js";
import { rolesOfUser } from "../sso/roles.js";
import { readCookie } from "../sso/http-util.js";
import { isAdminSecret } from "../tenants/admin-keys.js";
import { findTenantById } from "../tenants/store.js";
import { readSettings } from "../tenants/settings.js";
import { TENANT_AREAS } from "./areas.js";
import { recordConsoleAction } from "./audit.js";
import { Flash } from "./components/flash.js";
import { Layout } from "./components/layout.js";
import { ConsoleRefusal, preSessionToken, preSessionValid, sendHtml, setSessionCookie } from "./http.js";
import { exchangeLink } from "./links.js";
import { createConsoleSession, holdsConsoleRole } from "./sessions.js";
import type { Scope } from "./store.js";

/** A page before sign-in (no nav). */
export function bareHtml(res: Response, title: string, children: ComponentChildren, status = 200) {
  sendHtml(res, <Layout title={title}>{children}</Layout>, status);
}

/** Where a session lands: operators on tenants, a tenant session on its first area. */
export function landingOf(slug: string | null, scopes: Scope[]): string {
  if (!slug) return "/console/operator/tenants";
  const area = TENANT_AREAS.find((a) => scopes.includes(a.scope)) ?? TENANT_AREAS[0];
  return `/console/t/${encodeURIComponent(slug)}/${area.path}`;
}

async function startSession(
  deps: Deps,
  res: Response,
  input: Parameters<typeof createConsoleSession>[1],
): Promise<void> {
  const { session, token } = await createConsoleSession(deps.db, input);
  const ttl = Math.max(1, Math.floor((new Date(session.expiresAt).getTime() - input.now.getTime()) / 1000));
  setSessionCookie(deps, res, token, ttl);
}

/** GET /console/sign-in: the admin key form and the SSO entry. */
export function signInPage(deps: Deps, req: Request, res: Response, error?: string, status = 200) {
  const pre = preSessionToken(deps, req, res);
  bareHtml(
    res,
    "Sign in",
    <>
      {error ? <Flash tone="bad">{error}</Flash> : null}
      <section aria-labelledby="key-h">
        <h2 id="key-h">Operators: sign in with an admin key</h2>
        <form method="post" action="/console/sign-in">
          <input type="hidden" name="_csrf" value={pre} />
          <div class="field">
            <label for="f-key">Admin key</label>
            <p class="hint" id="f-key-hint">
              An admin key (rst_admin_…) or the ROSTER_ADMIN_TOKEN. It is exchanged for a console session and
              not kept in the browser.
            </p>
            <input
              id="f-key"
              name="key"
              type="password"
              autocomplete="off"
              required
              aria-describedby="f-key-hint"
            />
          </div>
          <button type="submit">Sign in</button>
        </form>
        <p class="hint">
          Or run <code>npm run cli -- console:link</code> on the server for a single-use sign-in link.
        </p>
      </section>
      <section aria-labelledby="sso-h">
        <h2 id="sso-h">Workspace admins: sign in with your organisation's SSO</h2>
        <form method="get" action="/console/sso/start">
          <div class="field">
            <label for="f-tenant">Workspace</label>
            <input id="f-tenant" name="tenant" type="text" autocomplete="organization" required />
          </div>
          <button type="submit" class="secondary">
            Continue with SSO
          </button>
        </form>
      </section>
    </>,
    status,
  );
}

/** POST /console/sign-in: an admin key for an operator session. */
export async function signInWithKey(deps: Deps, req: Request, res: Response) {
  if (!preSessionValid(req)) return signInPage(deps, req, res, "The form expired. Please try again.", 403);
  const key = typeof req.body?.key === "string" ? req.body.key.trim() : "";
  const who = key && key.length <= 200 ? await isAdminSecret(deps.db, deps.adminTokenHash, key) : undefined;
  if (!who) return signInPage(deps, req, res, "That admin key is not valid.", 401);
  const actorId = who.kind === "admin_token" ? "admin_token" : who.id!;
  await startSession(deps, res, {
    kind: "operator",
    actorId,
    tenantId: null,
    scopes: [],
    adminTokenHash: who.kind === "admin_token" ? deps.adminTokenHash : undefined,
    now: deps.now(),
  });
  await recordConsoleAction(deps, {
    actor: { kind: "operator", id: actorId },
    action: "console.sign_in.admin_key",
    tenantId: null,
    requestId: req.id,
    ip: req.ip,
  });
  res.redirect(303, landingOf(null, []));
}

/** GET /console/link or /console/setup: ask for a click before spending the link (mail scanners prefetch). */
export function linkPage(deps: Deps, req: Request, res: Response, kind: "link" | "setup") {
  const token = typeof req.query.token === "string" ? req.query.token : "";
  const pre = preSessionToken(deps, req, res);
  bareHtml(
    res,
    kind === "setup" ? "Set up single sign-on and provisioning" : "Operator sign-in",
    <form method="post" action={`/console/${kind}`}>
      <input type="hidden" name="_csrf" value={pre} />
      <input type="hidden" name="token" value={token} />
      <p>This link signs you in once. Continue when you are ready.</p>
      <button type="submit">Continue</button>
    </form>,
  );
}

/** POST /console/link and /console/setup: spend the link, start the session. */
export async function exchange(deps: Deps, req: Request, res: Response, kind: "link" | "setup") {
  if (!preSessionValid(req)) throw new ConsoleRefusal(403, "The form expired. Open the link again.");
  const link = await exchangeLink(deps, kind === "setup" ? "setup" : "operator", req.body?.token);
  const now = deps.now();
  if (link.kind === "operator") {
    await startSession(deps, res, {
      kind: "operator",
      actorId: link.id,
      tenantId: null,
      scopes: [],
      linkId: link.id,
      now,
    });
    await recordConsoleAction(deps, {
      actor: { kind: "operator", id: link.id },
      action: "console.sign_in.link",
      tenantId: null,
      requestId: req.id,
      ip: req.ip,
    });
    return res.redirect(303, landingOf(null, []));
  }
  const tenant = await findTenantById(deps.db, link.tenantId!);
  if (!tenant) throw new ConsoleRefusal(410, "This workspace no longer exists.");
  await startSession(deps, res, {
    kind: "setup_link",
    actorId: link.id,
    tenantId: tenant.id,
    scopes: link.scopes,
    linkId: link.id,
    now,
  });
  await recordConsoleAction(deps, {
    actor: { kind: "setup_link", id: link.id },
    action: "console.sign_in.setup_link",
    tenantId: tenant.id,
    requestId: req.id,
    ip: req.ip,
  });
  res.redirect(303, landingOf(tenant.slug, link.scopes));
}

/**
 * GET /console/sso/callback: the tenant's SSO login ended here (return_to). A live SSO session
 * of a directory user holding one of the tenant's consoleRoles becomes a console session tied
 * to it (revoking the SSO session, offboarding, or losing the role ends the console session).
 */
export async function ssoCallback(deps: Deps, req: Request, res: Response) {
  const now = deps.now();
  const live = await authenticateSession(deps.db, readCookie(req, SESSION_COOKIE), now);
  if (!live)
    throw new ConsoleRefusal(401, "Your sign-in did not complete. Start again from the sign-in page.");
  const tenant = await findTenantById(deps.db, live.session.tenantId);
  if (!tenant) throw new ConsoleRefusal(401, "This workspace no longer exists.");
  const roles = await rolesOfUser(deps.db, tenant.id, live.user.id);
  if (!holdsConsoleRole(roles, readSettings(tenant.settings).consoleRoles))
    throw new ConsoleRefusal(
      403,
      `Your account does not have a role that may administer ${tenant.name}. Ask an administrator of your workspace.`,
    );
  const scopes: Scope[] = ["sso", "scim", "members", "roles", "events"];
  await startSession(deps, res, {
    kind: "directory_user",
    actorId: live.user.id,
    tenantId: tenant.id,
    scopes,
    appSessionId: live.session.id,
    notAfter: new Date(live.session.expiresAt),
    now,
  });
  await recordConsoleAction(deps, {
    actor: { kind: "directory_user", id: live.user.id },
    action: "console.sign_in.sso",
    tenantId: tenant.id,
    requestId: req.id,
    ip: req.ip,
  });
  // The IdP's cross-site POST started this redirect chain, so a SameSite=Strict cookie would not
  // ride on a redirect: a page of ours starts a same-site navigation instead.
  handOver(res, landingOf(tenant.slug, scopes), "Continue to the console");
}

/**
 * A page that moves the browser on by a navigation of its own (meta refresh, and a link): the CSP
 * allows no inline script, and a redirect would not do (see the callers).
 */
export function handOver(res: Response, to: string, text: string) {
  sendHtml(
    res,
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta http-equiv="refresh" content={`0;url=${to}`} />
        <title>Roster console</title>
        <link rel="stylesheet" href="/console/static/console.css" />
      </head>
      <body>
        <main id="main">
          <h1>One moment…</h1>
          <p>
            <a href={to}>{text}</a>
          </p>
        </main>
      </body>
    </html>,
  );
}
