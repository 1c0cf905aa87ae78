import { Router } from "express";
import { serialId } from "../../db/rows.js";
import type { Deps } from "../../deps.js";
import { AppError } from "../../http/errors.js";
import { notifyJobsEnqueued } from "../../jobs/notify.js";
import { listJobs, resetFailedJob } from "../../jobs/store.js";
import { createAdminKey, listAdminKeys, revokeAdminKey } from "../../tenants/admin-keys.js";
import * as tenants from "../../tenants/use-cases.js";
import { recordConsoleAction } from "../audit.js";
import { StatusBadge } from "../components/badge.js";
import { ConfirmAction } from "../components/confirm.js";
import { CopyValue } from "../components/copy.js";
import { Csrf, type FieldErrors, TextField } from "../components/field.js";
import { DataTable, pageOf } from "../components/table.js";
import { ConsoleRefusal, consoleContext } from "../http.js";
import { renderPage } from "../page.js";
import { fieldErrorsOf } from "../form-errors.js";
import { auditLogPage } from "./audit-log.js";
import { healthPage } from "./health.js";
import { setupLinkPages } from "./setup-links.js";

const PAGE = 50;

/** Operator pages (behind requireOperator): tenants, admin keys, jobs, health. */
export function operatorRouter(deps: Deps): Router {
  const r = Router();
  const flashOf = (q: unknown) => {
    const done = (q as Record<string, unknown>).done;
    const words: Record<string, string> = {
      created: "Tenant created.",
      saved: "Settings saved.",
      deleted: "Tenant deleted.",
      revoked: "Admin key revoked.",
      retried: "Job queued again.",
    };
    return typeof done === "string" && words[done] ? { text: words[done] } : undefined;
  };

  const tenantsPage = async (
    res: Parameters<typeof renderPage>[0],
    q: unknown,
    errors?: FieldErrors,
    values: Record<string, string> = {},
  ) => {
    const { session } = consoleContext(res);
    const list = await tenants.listTenants(deps);
    const page = pageOf(q);
    const rows = list.slice((page - 1) * PAGE, page * PAGE);
    renderPage(
      res,
      { title: "Tenants", flash: flashOf(q), status: errors ? 400 : 200 },
      <>
        <DataTable
          caption="Tenants"
          columns={[
            {
              header: "Name",
              cell: (t) => <a href={`/console/t/${encodeURIComponent(t.slug)}/sso`}>{t.name}</a>,
            },
            { header: "Slug", cell: (t) => <code>{t.slug}</code> },
            { header: "Created", cell: (t) => t.createdAt.slice(0, 10) },
            {
              header: "Settings",
              cell: (t) => (
                <a href={`/console/operator/tenants/${encodeURIComponent(t.slug)}`}>
                  Settings<span class="sr-only"> of {t.name}</span>
                </a>
              ),
            },
          ]}
          rows={rows}
          empty="No tenants yet: create the first one below."
          paging={{
            page,
            hasNext: list.length > page * PAGE,
            href: (p) => `/console/operator/tenants?page=${p}`,
          }}
        />
        <h2>Create a tenant</h2>
        <form method="post" action="/console/operator/tenants">
          <Csrf token={session.csrf} />
          <TextField name="name" label="Name" value={values.name} errors={errors} required />
          <TextField
            name="slug"
            label="Slug"
            value={values.slug}
            errors={errors}
            required
            hint="2–63 lowercase letters, digits or dashes; it appears in SSO URLs."
          />
          <button type="submit">Create tenant</button>
        </form>
      </>,
    );
  };

  r.get("/tenants", (req, res) => tenantsPage(res, req.query));
  r.post("/tenants", async (req, res) => {
    const body = { slug: String(req.body.slug ?? "").trim(), name: String(req.body.name ?? "") };
    try {
      const t = await tenants.createTenant(deps, body);
      await recordConsoleAction(deps, {
        actor: consoleContext(res).actor,
        action: "tenant.create",
        tenantId: t.id,
        target: t.slug,
        requestId: req.id,
        ip: req.ip,
        form: req.body,
      });
      res.redirect(303, "/console/operator/tenants?done=created");
    } catch (err) {
      const errors = fieldErrorsOf(err);
      if (!errors) throw err;
      await tenantsPage(res, {}, errors, body);
    }
  });

  const settingsPage = async (
    res: Parameters<typeof renderPage>[0],
    slug: string,
    q: unknown,
    errors?: FieldErrors,
  ) => {
    const { session } = consoleContext(res);
    const t = await tenants.requireTenant(deps, slug);
    renderPage(
      res,
      {
        title: `Tenant ${t.name}`,
        current: "/console/operator/tenants",
        flash: flashOf(q),
        status: errors ? 400 : 200,
      },
      <>
        <p>
          <a href={`/console/t/${encodeURIComponent(t.slug)}/sso`}>Open this tenant's pages</a> ·{" "}
          <a href={`/console/operator/tenants/${encodeURIComponent(t.slug)}/setup-links`}>Setup links</a>
        </p>
        <form method="post" action={`/console/operator/tenants/${encodeURIComponent(t.slug)}`}>
          <Csrf token={session.csrf} />
          <TextField name="name" label="Name" value={t.name} errors={errors} required />
          <TextField
            name="defaultRole"
            label="Default role"
            value={t.settings.defaultRole}
            errors={errors}
            hint="The role new members get (it must exist)."
          />
          <TextField
            name="consoleRoles"
            label="Console roles"
            value={t.settings.consoleRoles.join(", ")}
            errors={errors}
            hint="Members holding one of these roles may sign in to this tenant's console through its SSO (comma-separated)."
          />
          <button type="submit">Save settings</button>
        </form>
        <h2>Danger zone</h2>
        <ConfirmAction
          id="delete-tenant"
          action={`/console/operator/tenants/${encodeURIComponent(t.slug)}/delete`}
          csrf={session.csrf}
          summary="Delete this tenant…"
          button="Delete tenant"
          typed={t.slug}
        >
          <p>
            This deletes {t.name} with all its users, groups, roles, SSO connection, tokens and events. It
            cannot be undone.
          </p>
        </ConfirmAction>
      </>,
    );
  };

  r.get("/tenants/:slug", (req, res) => settingsPage(res, req.params.slug, req.query));
  r.post("/tenants/:slug", async (req, res) => {
    const slug = req.params.slug;
    const roles = String(req.body.consoleRoles ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    try {
      const t = await tenants.updateTenant(deps, slug, {
        name: String(req.body.name ?? ""),
        settings: { defaultRole: String(req.body.defaultRole ?? "").trim(), consoleRoles: roles },
      });
      await recordConsoleAction(deps, {
        actor: consoleContext(res).actor,
        action: "tenant.settings",
        tenantId: t.id,
        target: t.slug,
        requestId: req.id,
        ip: req.ip,
        form: req.body,
      });
      res.redirect(303, `/console/operator/tenants/${encodeURIComponent(t.slug)}?done=saved`);
    } catch (err) {
      const errors = fieldErrorsOf(err, {
        "settings.defaultRole": "defaultRole",
        "settings.consoleRoles": "consoleRoles",
      });
      if (!errors) throw err;
      await settingsPage(res, slug, {}, errors);
    }
  });
  r.post("/tenants/:slug/delete", async (req, res) => {
    const t = await tenants.requireTenant(deps, req.params.slug);
    if (req.body.confirm !== t.slug)
      throw new ConsoleRefusal(400, `Type the tenant's slug (${t.slug}) to delete it.`);
    await tenants.deleteTenant(deps, t.slug);
    await recordConsoleAction(deps, {
      actor: consoleContext(res).actor,
      action: "tenant.delete",
      tenantId: null,
      target: t.slug,
      requestId: req.id,
      ip: req.ip,
      form: req.body,
    });
    res.redirect(303, "/console/operator/tenants?done=deleted");
  });

  const keysPage = async (
    res: Parameters<typeof renderPage>[0],
    q: unknown,
    created?: { name: string; token: string },
    errors?: FieldErrors,
  ) => {
    const { session } = consoleContext(res);
    const keys = await listAdminKeys(deps.db);
    renderPage(
      res,
      { title: "Admin keys", flash: flashOf(q), status: errors ? 400 : 200 },
      <>
        {created ? (
          <div class="secret-once" role="status">
            <p>
              <strong>Copy the key for “{created.name}” now:</strong> it is shown only once.
            </p>
            <CopyValue id="new-admin-key" label="New admin key" value={created.token} secret />
          </div>
        ) : null}
        <DataTable
          caption="Admin keys"
          columns={[
            { header: "Name", cell: (k) => k.name },
            { header: "Prefix", cell: (k) => <code>{k.prefix}</code> },
            { header: "Created", cell: (k) => k.createdAt.slice(0, 10) },
            { header: "Status", cell: (k) => <StatusBadge status={k.revokedAt ? "revoked" : "active"} /> },
            {
              header: "Actions",
              cell: (k) =>
                k.revokedAt ? null : (
                  <form
                    method="post"
                    action={`/console/operator/admin-keys/${encodeURIComponent(k.id)}/revoke`}
                    class="inline"
                  >
                    <Csrf token={session.csrf} />
                    <button type="submit" class="secondary" aria-label={`Revoke ${k.name}`}>
                      Revoke
                    </button>
                  </form>
                ),
            },
          ]}
          rows={keys}
          empty="No admin keys."
        />
        <h2>Create an admin key</h2>
        <form method="post" action="/console/operator/admin-keys">
          <Csrf token={session.csrf} />
          <TextField
            name="name"
            label="Name"
            errors={errors}
            required
            hint="What the key is for, e.g. “billing app”."
          />
          <button type="submit">Create admin key</button>
        </form>
      </>,
    );
  };
  r.get("/admin-keys", (req, res) => keysPage(res, req.query));
  r.post("/admin-keys", async (req, res) => {
    try {
      const k = await createAdminKey(deps.db, String(req.body.name ?? ""), deps.now());
      await recordConsoleAction(deps, {
        actor: consoleContext(res).actor,
        action: "admin_key.create",
        tenantId: null,
        target: k.id,
        requestId: req.id,
        ip: req.ip,
        form: req.body,
      });
      await keysPage(res, {}, { name: k.name, token: k.token });
    } catch (err) {
      const errors = fieldErrorsOf(err);
      if (!errors) throw err;
      await keysPage(res, {}, undefined, errors);
    }
  });
  r.post("/admin-keys/:id/revoke", async (req, res) => {
    if (!(await revokeAdminKey(deps.db, req.params.id, deps.now())))
      throw new ConsoleRefusal(404, "No such active admin key.");
    await recordConsoleAction(deps, {
      actor: consoleContext(res).actor,
      action: "admin_key.revoke",
      tenantId: null,
      target: req.params.id,
      requestId: req.id,
      ip: req.ip,
      form: req.body,
    });
    res.redirect(303, "/console/operator/admin-keys?done=revoked");
  });

  r.get("/jobs", async (req, res) => {
    const { session } = consoleContext(res);
    const state =
      req.query.state === "failed" || req.query.state === "pending" || req.query.state === "done"
        ? req.query.state
        : "failed";
    const before = typeof req.query.before === "string" ? serialId(req.query.before) : undefined;
    const jobs = await listJobs(deps.db, { state, limit: PAGE, beforeId: before ?? undefined });
    renderPage(
      res,
      { title: "Jobs and dead letters", flash: flashOf(req.query) },
      <>
        <nav aria-label="Job states" class="actions">
          {(["failed", "pending", "done"] as const).map((s) => (
            <a href={`/console/operator/jobs?state=${s}`} aria-current={s === state ? "page" : undefined}>
              {s === "failed" ? "Dead letters (failed)" : s}
            </a>
          ))}
        </nav>
        <DataTable
          caption={state === "failed" ? "Failed jobs (dead letters)" : `Jobs: ${state}`}
          columns={[
            { header: "Id", cell: (j) => String(j.id) },
            { header: "Job", cell: (j) => <code>{j.name}</code> },
            { header: "Attempts", cell: (j) => `${j.attempts} / ${j.maxAttempts}` },
            { header: "Last error", cell: (j) => j.lastError ?? "—" },
            { header: "Updated", cell: (j) => j.updatedAt },
            {
              header: "Actions",
              cell: (j) =>
                j.state === "failed" ? (
                  <form method="post" action={`/console/operator/jobs/${j.id}/retry`} class="inline">
                    <Csrf token={session.csrf} />
                    <button type="submit" class="secondary" aria-label={`Retry job ${j.id}`}>
                      Retry
                    </button>
                  </form>
                ) : null,
            },
          ]}
          rows={jobs}
          empty={state === "failed" ? "No dead letters." : "No jobs in this state."}
        />
        {jobs.length === PAGE ? (
          <a href={`/console/operator/jobs?state=${state}&before=${jobs.at(-1)!.id}`}>Older</a>
        ) : null}
      </>,
    );
  });
  r.post("/jobs/:id/retry", async (req, res) => {
    const id = serialId(req.params.id);
    const job = id ? await resetFailedJob(deps.db, id, deps.now()) : undefined;
    if (!job) throw new AppError(404, "FAILED_JOB_NOT_FOUND", `No failed job with id ${req.params.id}.`);
    notifyJobsEnqueued();
    await recordConsoleAction(deps, {
      actor: consoleContext(res).actor,
      action: "job.retry",
      tenantId: job.tenantId ?? null,
      target: String(job.id),
      requestId: req.id,
      ip: req.ip,
      form: req.body,
    });
    res.redirect(303, "/console/operator/jobs?state=failed&done=retried");
  });

  r.get("/health", (_req, res) => healthPage(deps, res));
  r.get("/audit-log", (req, res) => auditLogPage(deps, res, req.query as Record<string, unknown>));
  setupLinkPages(deps, r);
  return r;
}
