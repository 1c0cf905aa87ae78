import type { Request, Response, Router } from "express";
import type { Deps } from "../../deps.js";
import { requireTenant } from "../../tenants/use-cases.js";
import { recordConsoleAction } from "../audit.js";
import { StatusBadge } from "../components/badge.js";
import { CopyValue } from "../components/copy.js";
import { Csrf, type FieldErrors } from "../components/field.js";
import { DataTable } from "../components/table.js";
import { fieldErrorsOf } from "../form-errors.js";
import { consoleContext } from "../http.js";
import { createSetupLink, listSetupLinks, revokeSetupLink } from "../links.js";
import { renderPage } from "../page.js";
import { SCOPES } from "../store.js";

const SCOPE_WORDS: Record<string, string> = {
  sso: "SSO configuration",
  scim: "SCIM provisioning",
  members: "Members",
  roles: "Groups & roles",
  events: "Events & webhooks",
};

/**
 * Operator → a tenant's setup links: create one (the URL shown once, to send to the customer's
 * IT admin), list them, revoke (its sessions end too). The same use cases as the admin API.
 */
export function setupLinkPages(deps: Deps, r: Router): void {
  const base = (slug: string) => `/console/operator/tenants/${encodeURIComponent(slug)}/setup-links`;
  const show = async (
    req: Request,
    res: Response,
    o: { created?: { url: string; expiresAt: string }; errors?: FieldErrors } = {},
  ) => {
    const { session } = consoleContext(res);
    const tenant = await requireTenant(deps, String(req.params.slug));
    const links = await listSetupLinks(deps, tenant.slug);
    const now = deps.now().toISOString();
    renderPage(
      res,
      {
        title: `Setup links for ${tenant.name}`,
        current: "/console/operator/tenants",
        status: o.errors ? 400 : 200,
        flash: req.query.done === "revoked" ? { text: "Setup link revoked; its sessions ended." } : undefined,
      },
      <>
        <p>
          A setup link lets the customer's IT admin configure this tenant without an account: send it, or
          redirect them to it.
        </p>
        {o.created ? (
          <div class="secret-once" role="status">
            <p>
              <strong>Copy the link now:</strong> it is shown only once and works once, until{" "}
              {o.created.expiresAt.slice(0, 16).replace("T", " ")} UTC.
            </p>
            <CopyValue id="setup-link-url" label="Setup link" value={o.created.url} secret />
          </div>
        ) : null}
        <h2>Create a setup link</h2>
        <form method="post" action={base(tenant.slug)}>
          <Csrf token={session.csrf} />
          <fieldset class={o.errors?.scopes ? "field field-invalid" : "field"}>
            <legend>Pages the link opens</legend>
            {SCOPES.map((s) => (
              <label>
                <input type="checkbox" name={`scope_${s}`} value="on" checked /> {SCOPE_WORDS[s]}
              </label>
            ))}
            {o.errors?.scopes ? <p class="field-error">{o.errors.scopes}</p> : null}
          </fieldset>
          <div class={o.errors?.expiresInMinutes ? "field field-invalid" : "field"}>
            <label for="f-expiresInMinutes">Valid for (minutes)</label>
            <input
              id="f-expiresInMinutes"
              name="expiresInMinutes"
              type="number"
              min="1"
              max="43200"
              value="4320"
            />
            {o.errors?.expiresInMinutes ? <p class="field-error">{o.errors.expiresInMinutes}</p> : null}
          </div>
          <button type="submit">Create setup link</button>
        </form>
        <DataTable
          caption="Setup links"
          columns={[
            { header: "Created", cell: (l) => l.createdAt.slice(0, 16).replace("T", " ") },
            { header: "Pages", cell: (l) => l.scopes.map((s) => SCOPE_WORDS[s] ?? s).join(", ") },
            { header: "Expires", cell: (l) => l.expiresAt.slice(0, 16).replace("T", " ") },
            {
              header: "Status",
              cell: (l) => (
                <StatusBadge
                  status={
                    l.revokedAt ? "revoked" : l.usedAt ? "used" : l.expiresAt <= now ? "expired" : "active"
                  }
                />
              ),
            },
            {
              header: "Actions",
              cell: (l) =>
                l.revokedAt ? null : (
                  <form method="post" action={`${base(tenant.slug)}/${l.id}/revoke`} class="inline">
                    <Csrf token={session.csrf} />
                    <button
                      type="submit"
                      class="secondary"
                      aria-label={`Revoke the setup link created ${l.createdAt}`}
                    >
                      Revoke
                    </button>
                  </form>
                ),
            },
          ]}
          rows={links}
          empty="No setup links yet."
        />
      </>,
    );
  };

  r.get("/tenants/:slug/setup-links", (req, res) => show(req, res));
  r.post("/tenants/:slug/setup-links", async (req, res) => {
    const { actor } = consoleContext(res);
    const scopes = SCOPES.filter((s) => req.body[`scope_${s}`] === "on");
    const minutes = Number(req.body.expiresInMinutes);
    try {
      const link = await createSetupLink(
        deps,
        String(req.params.slug),
        { scopes, expiresInMinutes: Number.isFinite(minutes) ? minutes : req.body.expiresInMinutes },
        `console:${actor.id}`,
      );
      const tenant = await requireTenant(deps, String(req.params.slug));
      await recordConsoleAction(deps, {
        actor,
        action: "setup_link.create",
        tenantId: tenant.id,
        target: link.id,
        requestId: req.id,
        ip: req.ip,
        form: req.body,
      });
      await show(req, res, { created: { url: link.url, expiresAt: link.expiresAt } });
    } catch (err) {
      const errors = fieldErrorsOf(err);
      if (!errors) throw err;
      await show(req, res, { errors });
    }
  });
  r.post("/tenants/:slug/setup-links/:id/revoke", async (req, res) => {
    const tenant = await requireTenant(deps, String(req.params.slug));
    await revokeSetupLink(deps, tenant.slug, String(req.params.id));
    await recordConsoleAction(deps, {
      actor: consoleContext(res).actor,
      action: "setup_link.revoke",
      tenantId: tenant.id,
      target: String(req.params.id),
      requestId: req.id,
      ip: req.ip,
      form: req.body,
    });
    res.redirect(303, `${base(tenant.slug)}?done=revoked`);
  });
}
