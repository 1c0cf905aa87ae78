import type { Request, Response } from "express";
import type { Deps } from "../../deps.js";
import * as tenants from "../../tenants/use-cases.js";
import type { TenantArea } from "../areas.js";
import { recordConsoleAction } from "../audit.js";
import { StatusBadge } from "../components/badge.js";
import { CopyValue } from "../components/copy.js";
import { Csrf, type FieldErrors, TextField } from "../components/field.js";
import { DataTable } from "../components/table.js";
import { fieldErrorsOf } from "../form-errors.js";
import { areaRouter, ConsoleRefusal, consoleContext, consoleTenant } from "../http.js";
import { renderPage } from "../page.js";
import { PROVIDERS } from "../sso/providers.js";

/** Directory → SCIM: the base URL, tokens (shown once, last use, revoke), where each value goes. */
export const scimArea: TenantArea = {
  path: "scim",
  label: "SCIM provisioning",
  group: "Directory",
  scope: "scim",
  router: (deps: Deps) => {
    const r = areaRouter();
    const base = (slug: string) => `/console/t/${encodeURIComponent(slug)}/scim`;

    const show = async (
      req: Request,
      res: Response,
      o: { created?: { name: string; token: string }; errors?: FieldErrors } = {},
    ) => {
      const tenant = consoleTenant(res);
      const { session } = consoleContext(res);
      const tokens = await tenants.listScimTokens(deps, tenant.slug);
      const now = deps.now().toISOString();
      renderPage(
        res,
        {
          title: "SCIM provisioning",
          status: o.errors ? 400 : 200,
          flash: req.query.done === "revoked" ? { text: "Token revoked." } : undefined,
        },
        <>
          <p>Your identity provider creates, updates and deactivates members here through SCIM 2.0.</p>
          <CopyValue id="scim-base-url" label="SCIM base URL" value={`${deps.config.publicUrl}/scim/v2`} />
          {o.created ? (
            <div class="secret-once" role="status">
              <p>
                <strong>Copy the token “{o.created.name}” now:</strong> it is shown only once. Paste it into
                your identity provider's SCIM settings.
              </p>
              <CopyValue id="scim-new-token" label="SCIM token" value={o.created.token} secret />
            </div>
          ) : null}
          <h2>Create a token</h2>
          <form method="post" action={`${base(tenant.slug)}/tokens`}>
            <Csrf token={session.csrf} />
            <TextField
              name="name"
              label="Token name"
              errors={o.errors}
              required
              hint="Which IdP uses it, e.g. “Entra ID”."
            />
            <button type="submit">Create token</button>
          </form>
          <DataTable
            caption="Tokens"
            columns={[
              { header: "Name", cell: (t) => t.name },
              { header: "Prefix", cell: (t) => <code>{t.prefix}</code> },
              { header: "Created", cell: (t) => t.createdAt.slice(0, 16).replace("T", " ") },
              {
                header: "Last used",
                cell: (t) => (t.lastUsedAt ? t.lastUsedAt.slice(0, 16).replace("T", " ") : "Never"),
              },
              {
                header: "Status",
                cell: (t) => (
                  <StatusBadge
                    status={
                      t.revokedAt ? "revoked" : t.expiresAt && t.expiresAt <= now ? "expired" : "active"
                    }
                  />
                ),
              },
              {
                header: "Actions",
                cell: (t) =>
                  t.revokedAt ? null : (
                    <form
                      method="post"
                      action={`${base(tenant.slug)}/tokens/${encodeURIComponent(t.id)}/revoke`}
                      class="inline"
                    >
                      <Csrf token={session.csrf} />
                      <button type="submit" class="secondary" aria-label={`Revoke token ${t.name}`}>
                        Revoke
                      </button>
                    </form>
                  ),
              },
            ]}
            rows={tokens}
            empty="No tokens yet."
          />
          <h2>Where each value goes</h2>
          <dl class="facts">
            {PROVIDERS.map((p) => (
              <>
                <dt>{p.name}</dt>
                <dd>{p.scimNote}</dd>
              </>
            ))}
          </dl>
        </>,
      );
    };

    r.get("/", (req, res) => show(req, res));
    r.post("/tokens", async (req, res) => {
      const tenant = consoleTenant(res);
      try {
        const t = await tenants.createScimToken(deps, tenant.slug, { name: String(req.body.name ?? "") });
        await recordConsoleAction(deps, {
          actor: consoleContext(res).actor,
          action: "scim.token.create",
          tenantId: tenant.id,
          target: t.id,
          requestId: req.id,
          ip: req.ip,
          form: req.body,
        });
        await show(req, res, { created: { name: t.name, token: t.token } });
      } catch (err) {
        const errors = fieldErrorsOf(err);
        if (!errors) throw err;
        await show(req, res, { errors });
      }
    });
    r.post("/tokens/:id/revoke", async (req, res) => {
      const tenant = consoleTenant(res);
      if (!/^[0-9a-f-]{36}$/i.test(req.params.id)) throw new ConsoleRefusal(404, "There is no such token.");
      await tenants.revokeScimToken(deps, tenant.slug, req.params.id);
      await recordConsoleAction(deps, {
        actor: consoleContext(res).actor,
        action: "scim.token.revoke",
        tenantId: tenant.id,
        target: req.params.id,
        requestId: req.id,
        ip: req.ip,
        form: req.body,
      });
      res.redirect(303, `${base(tenant.slug)}?done=revoked`);
    });
    return r;
  },
};
