import type { Request, Response, Router } from "express";
import { render } from "preact-render-to-string";
import type { Deps } from "../../deps.js";
import { AppError } from "../../http/errors.js";
import { findOidcTest } from "../../sso/oidc/connection-store.js";
import * as oidc from "../../sso/oidc/connections.js";
import type { FieldErrors } from "../components/field.js";
import { fieldErrorsOf } from "../form-errors.js";
import { ConsoleRefusal, consoleTenant } from "../http.js";
import { oidcProviderOf, OIDC_PROVIDERS } from "./oidc-providers.js";
import { OidcTestReport } from "./oidc-report.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ENTRA_TENANT = /^[0-9a-fA-F-]{36}$/;

interface Page {
  base: (slug: string) => string;
  show: (
    req: Request,
    res: Response,
    o?: { errors?: FieldErrors; values?: Record<string, string>; flash?: string },
  ) => Promise<void>;
  act: (action: string) => (req: Request, res: Response) => Promise<unknown>;
}

/** The PUT …/oidc body a console form makes (the admin use case validates it). */
function bodyOf(f: Record<string, string>) {
  const provider = oidcProviderOf(f.provider) ?? OIDC_PROVIDERS[3];
  const body: Record<string, unknown> = { preset: provider.preset };
  const text = (k: string) => (typeof f[k] === "string" ? f[k].trim() : "");
  if (provider.issuer === "url" && text("issuer")) body.issuer = text("issuer");
  if (provider.issuer === "entra" && text("entraTenantId")) {
    body.entraTenantId = text("entraTenantId");
    // Entra's issuer names the directory (never common/organizations).
    if (ENTRA_TENANT.test(text("entraTenantId")))
      body.issuer = `https://login.microsoftonline.com/${text("entraTenantId").toLowerCase()}/v2.0`;
  }
  if (text("clientId")) body.clientId = text("clientId");
  // Write-only: empty keeps the saved secret.
  if (typeof f.clientSecret === "string" && f.clientSecret !== "") body.clientSecret = f.clientSecret;
  if (provider.domains)
    body.domains = text("domains")
      .split(/[\s,]+/)
      .filter(Boolean);
  if (provider.emailVerifiedToggle && f._emailVerifiedShown)
    body.requireEmailVerified = f.requireEmailVerified === "on";
  return { provider, body };
}

/**
 * The SSO page's OpenID Connect actions, through the same use cases as PUT/POST
 * /admin/v1/tenants/{slug}/oidc… (no second path to the data). The area router already checked
 * the session, the "sso" scope, the tenant and the CSRF token of every POST.
 */
export function oidcRoutes(deps: Deps, r: Router, page: Page): void {
  const { base, show, act } = page;
  const back = (slug: string, key: string, rest: string) =>
    `${base(slug)}?provider=${encodeURIComponent(key)}${rest}`;

  r.post("/oidc", async (req, res) => {
    const tenant = consoleTenant(res);
    const f = req.body as Record<string, string>;
    const { provider, body } = bodyOf(f);
    try {
      await oidc.putOidcConnection(deps, tenant.slug, body);
    } catch (err) {
      // The API names fields as its contract does; the form names Entra's issuer by its tenant id.
      const errors = fieldErrorsOf(
        err,
        provider.issuer === "entra" ? { issuer: "entraTenantId" } : { issuer: "issuer" },
      );
      if (!errors) throw err;
      // Google's issuer is fixed: a discovery problem there is the form's, not a field's.
      if (provider.issuer === "fixed" && errors.issuer) errors._form = `Issuer: ${errors.issuer}`;
      return show(req, res, { errors, values: { ...f, clientSecret: "" } });
    }
    await act("sso.oidc.save")(req, res);
    res.redirect(303, back(tenant.slug, provider.key, "&done=oidc_saved#test"));
  });

  r.post("/oidc/test", async (req, res) => {
    const tenant = consoleTenant(res);
    const t = await oidc.startOidcTest(deps, tenant.slug);
    await act("sso.oidc.test.start")(req, res);
    const key = oidcProviderOf(req.body.provider)?.key ?? "custom-oidc";
    const report = back(tenant.slug, key, `&test=${t.id}#test`);
    // console.js posts the form itself and opens the provider's sign-in in the tab it opened on click.
    if (req.get("x-console-fetch") === "1") return res.json({ loginUrl: t.loginUrl, reportUrl: report });
    res.redirect(303, report);
  });

  r.get("/oidc/test/:id", async (req, res) => {
    const tenant = consoleTenant(res);
    const test = UUID.test(req.params.id) ? await findOidcTest(deps.db, tenant.id, req.params.id) : undefined;
    if (!test) throw new ConsoleRefusal(404, "There is no such test.");
    res.type("html").send(render(<OidcTestReport test={test} />));
  });

  r.post("/oidc/enable", async (req, res) => {
    const tenant = consoleTenant(res);
    const key = oidcProviderOf(req.body.provider)?.key ?? "custom-oidc";
    try {
      await oidc.enableOidcConnection(deps, tenant.slug);
    } catch (err) {
      if (err instanceof AppError && err.status === 409)
        return show(req, res, {
          values: { provider: key },
          flash:
            "Run a passing test first: Enable is available only after a successful test of the current settings.",
        });
      throw err;
    }
    await act("sso.oidc.enable")(req, res);
    res.redirect(303, back(tenant.slug, key, "&done=oidc_enabled"));
  });

  r.post("/oidc/disable", async (req, res) => {
    const tenant = consoleTenant(res);
    const key = oidcProviderOf(req.body.provider)?.key ?? "custom-oidc";
    await oidc.disableOidcConnection(deps, tenant.slug);
    await act("sso.oidc.disable")(req, res);
    res.redirect(303, back(tenant.slug, key, "&done=oidc_disabled"));
  });
}
