import type { Request, Response } from "express";
import { render } from "preact-render-to-string";
import { AppError } from "../../http/errors.js";
import { listRoles } from "../../roles/store.js";
import { ensureDefaultRoles } from "../../roles/defaults.js";
import { findConnection, findTest } from "../../sso/saml/connection-store.js";
import * as connections from "../../sso/saml/connections.js";
import { spUrls } from "../../sso/saml/sp.js";
import * as tenants from "../../tenants/use-cases.js";
import type { TenantArea } from "../areas.js";
import { recordConsoleAction } from "../audit.js";
import type { FieldErrors } from "../components/field.js";
import { fieldErrorsOf } from "../form-errors.js";
import { readSettings } from "../../tenants/settings.js";
import { areaRouter, ConsoleRefusal, consoleContext, consoleTenant } from "../http.js";
import { renderPage } from "../page.js";
import { findOidcConnection, findOidcTest } from "../../sso/oidc/connection-store.js";
import * as oidc from "../../sso/oidc/connections.js";
import { oidcProviderOf, oidcProviderOfPreset } from "./oidc-providers.js";
import { oidcRoutes } from "./oidc-routes.js";
import { SsoPage } from "./page.js";
import { providerOf, providerOfPreset } from "./providers.js";
import { TestReport } from "./report.js";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Security → SSO configuration. */
export const ssoArea: TenantArea = {
  path: "sso",
  label: "SSO configuration",
  group: "Security",
  scope: "sso",
  router: (deps) => {
    const r = areaRouter();
    const base = (slug: string) => `/console/t/${encodeURIComponent(slug)}/sso`;

    const show = async (
      req: Request,
      res: Response,
      o: { errors?: FieldErrors; values?: Record<string, string>; flash?: string } = {},
    ) => {
      const tenant = consoleTenant(res);
      const { session } = consoleContext(res);
      const conn = await findConnection(deps.db, tenant.id);
      const view = conn ? connections.viewConnection(deps, tenant, conn) : undefined;
      const oconn = await findOidcConnection(deps.db, tenant.id);
      const oview = oconn ? oidc.viewOidcConnection(deps, tenant, oconn) : undefined;
      const asked = req.query.provider ?? o.values?.provider;
      const samlProvider = providerOf(asked);
      // No choice asked for: the saved connection's provider (SAML first, as sign-in prefers it).
      const oidcProvider =
        oidcProviderOf(asked) ??
        (!samlProvider && !view && oview ? oidcProviderOfPreset(oview.preset) : undefined);
      const provider = samlProvider ?? (!oidcProvider && view ? providerOfPreset(view.preset) : undefined);
      const testId =
        typeof req.query.test === "string" && UUID.test(req.query.test) ? req.query.test : undefined;
      const test = testId && !oidcProvider ? await findTest(deps.db, tenant.id, testId) : undefined;
      const oidcTest = testId && oidcProvider ? await findOidcTest(deps.db, tenant.id, testId) : undefined;
      await ensureDefaultRoles(deps.db, tenant.id, deps.now());
      const roles = await listRoles(deps.db, tenant.id);
      const done = typeof req.query.done === "string" ? req.query.done : undefined;
      const words: Record<string, string> = {
        saved: "Identity provider details saved. Test the configuration next.",
        enabled: "Single sign-on is enabled.",
        disabled: "Single sign-on is disabled.",
        provisioning: "Provisioning preferences saved.",
        oidc_saved: "Provider details saved. Test the configuration next.",
        oidc_enabled: "OpenID Connect sign-in is enabled.",
        oidc_disabled: "OpenID Connect sign-in is disabled.",
      };
      renderPage(
        res,
        {
          title: "SSO configuration",
          status: o.errors ? 400 : 200,
          flash: o.flash
            ? { tone: "bad", text: o.flash }
            : done && words[done]
              ? { text: words[done] }
              : undefined,
        },
        <SsoPage
          base={base(tenant.slug)}
          csrf={session.csrf}
          tenant={tenant}
          conn={view}
          sp={spUrls(deps.config.publicUrl, tenant.slug)}
          provider={provider}
          test={test}
          roles={roles.map((x) => ({ key: x.key, name: x.name }))}
          errors={o.errors}
          values={o.values}
          oidc={{
            provider: oidcProvider,
            conn: oview,
            test: oidcTest,
            redirectUri: oidc.oidcUrls(deps.config.publicUrl, tenant.slug).redirectUri,
          }}
        />,
      );
    };

    const act = (action: string) => (req: Request, res: Response) =>
      recordConsoleAction(deps, {
        actor: consoleContext(res).actor,
        action,
        tenantId: consoleTenant(res).id,
        requestId: req.id,
        ip: req.ip,
        form: req.body,
      });

    r.get("/", (req, res) => show(req, res));
    oidcRoutes(deps, r, { base, show, act });

    r.post("/idp", async (req, res) => {
      const tenant = consoleTenant(res);
      const f = req.body as Record<string, string>;
      const provider = providerOf(f.provider) ?? providerOfPreset("custom");
      const body: Record<string, unknown> = { preset: provider.preset };
      const xml = (f.metadataXml ?? "").trim();
      const url = (f.metadataUrl ?? "").trim();
      if (xml) body.metadataXml = xml;
      else if (url) body.metadataUrl = url;
      else {
        if (f.ssoUrl?.trim()) body.ssoUrl = f.ssoUrl.trim();
        if (f.idpEntityId?.trim()) body.idpEntityId = f.idpEntityId.trim();
        if (f.certificate?.trim()) body.certificates = [f.certificate.trim()];
      }
      try {
        await connections.putConnection(deps, tenant.slug, body);
      } catch (err) {
        const errors = fieldErrorsOf(err, { certificates: "certificate", "certificates.0": "certificate" });
        if (!errors) throw err;
        return show(req, res, { errors, values: f });
      }
      await act("sso.idp.save")(req, res);
      res.redirect(303, `${base(tenant.slug)}?provider=${provider.key}&done=saved#test`);
    });

    r.post("/test", async (req, res) => {
      const tenant = consoleTenant(res);
      const t = await connections.startTest(deps, tenant.slug);
      await act("sso.test.start")(req, res);
      const provider = providerOf(req.body.provider);
      const report = `${base(tenant.slug)}?test=${t.id}${provider ? `&provider=${provider.key}` : ""}#test`;
      // console.js posts the form itself and opens the IdP sign-in in the tab it opened on click.
      if (req.get("x-console-fetch") === "1")
        return res.json({
          loginUrl: `/sso/${encodeURIComponent(tenant.slug)}/login?test=${t.id}`,
          reportUrl: report,
        });
      res.redirect(303, report);
    });

    r.get("/test/:id", async (req, res) => {
      const tenant = consoleTenant(res);
      const test = UUID.test(req.params.id) ? await findTest(deps.db, tenant.id, req.params.id) : undefined;
      if (!test) throw new ConsoleRefusal(404, "There is no such test.");
      res.type("html").send(render(<TestReport test={test} />));
    });

    r.post("/enable", async (req, res) => {
      const tenant = consoleTenant(res);
      try {
        await connections.enableConnection(deps, tenant.slug);
      } catch (err) {
        if (err instanceof AppError && err.status === 409)
          return show(req, res, {
            flash:
              "Run a passing test first: Enable is available only after a successful test of the current settings.",
          });
        throw err;
      }
      await act("sso.enable")(req, res);
      res.redirect(303, `${base(tenant.slug)}?done=enabled`);
    });

    r.post("/disable", async (req, res) => {
      const tenant = consoleTenant(res);
      await connections.disableConnection(deps, tenant.slug);
      await act("sso.disable")(req, res);
      res.redirect(303, `${base(tenant.slug)}?done=disabled`);
    });

    r.post("/provisioning", async (req, res) => {
      const tenant = consoleTenant(res);
      const f = req.body as Record<string, string>;
      const provisioning =
        f.provisioning === "jit" ? "jit" : f.provisioning === "manual" ? "manual" : undefined;
      try {
        if (!provisioning)
          throw new AppError(400, "VALIDATION_FAILED", "Choose JIT or manual", [
            { field: "provisioning", message: "Choose just-in-time or manual provisioning" },
          ]);
        const defaultRole = String(f.defaultRole ?? "");
        // The default role goes to everyone the IdP sends: a console role there would give every
        // member the tenant's console, and a session allowed only to configure SSO (a setup link
        // scoped "sso") could grant that to all. Only an operator may (admin API or operator pages).
        if (!consoleContext(res).operator && readSettings(tenant.settings).consoleRoles.includes(defaultRole))
          throw new AppError(400, "VALIDATION_FAILED", "The default role cannot be a console role", [
            {
              field: "settings.defaultRole",
              message: `“${defaultRole}” may use this console: as the default role every member would get it. Choose another role.`,
            },
          ]);
        await tenants.updateTenant(deps, tenant.slug, { settings: { defaultRole } });
        // Not a configuration change: a tested or enabled connection stays so (see setProvisioning).
        if (await findConnection(deps.db, tenant.id))
          await connections.setProvisioning(deps, tenant.slug, provisioning);
        if (await findOidcConnection(deps.db, tenant.id))
          await oidc.setOidcProvisioning(deps, tenant.slug, provisioning);
      } catch (err) {
        const errors = fieldErrorsOf(err, { "settings.defaultRole": "defaultRole" });
        if (!errors) throw err;
        return show(req, res, { errors, values: f });
      }
      await act("sso.provisioning")(req, res);
      res.redirect(303, `${base(tenant.slug)}?done=provisioning#provisioning`);
    });

    r.get("/sp-certificate.pem", async (_req, res) => {
      const tenant = consoleTenant(res);
      const conn = await findConnection(deps.db, tenant.id);
      if (!conn)
        throw new ConsoleRefusal(
          404,
          "Save the identity provider's details first: the SP certificate is made with the connection.",
        );
      res
        .type("application/x-pem-file")
        .set("Content-Disposition", `attachment; filename="roster-${tenant.slug}-sp-signing.pem"`)
        .send(conn.sp.signingCert);
    });
    return r;
  },
};
