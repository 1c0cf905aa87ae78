import type { Response } from "express";
import type { Deps } from "../../deps.js";
import { listWebhooks } from "../../events/webhooks-store.js";
import * as hooks from "../../events/webhooks.js";
import { requireTenant } from "../../tenants/use-cases.js";
import { StatusBadge } from "../components/badge.js";
import { ConfirmAction } from "../components/confirm.js";
import { CopyValue } from "../components/copy.js";
import { Csrf, type FieldErrors, TextField } from "../components/field.js";
import { SelectField } from "../components/select.js";
import { DataTable } from "../components/table.js";
import { consoleContext, consoleTenant } from "../http.js";
import { renderPage } from "../page.js";

const DONE: Record<string, string> = {
  deleted: "Endpoint deleted.",
  redelivered: "Delivery queued again.",
};

/** Webhook endpoints: list, create (the signing secret shown once, with copy), delete. */
export async function webhooksPage(
  deps: Deps,
  res: Response,
  o: {
    done?: unknown;
    created?: { url: string; secret: string };
    errors?: FieldErrors;
    values?: Record<string, string>;
  } = {},
) {
  const tenant = consoleTenant(res);
  const { session } = consoleContext(res);
  const base = `/console/t/${encodeURIComponent(tenant.slug)}/events/webhooks`;
  // The admin API's listing: the tenant's endpoints, never their secrets.
  const list = (await listWebhooks(deps.db, (await requireTenant(deps, tenant.slug)).id)).map(
    hooks.publicWebhook,
  );
  const done = typeof o.done === "string" ? DONE[o.done] : undefined;
  const v = o.values ?? {};
  renderPage(
    res,
    {
      title: "Webhooks",
      current: `/console/t/${encodeURIComponent(tenant.slug)}/events`,
      flash: done ? { text: done } : undefined,
      status: o.errors ? 400 : 200,
    },
    <>
      <p>
        <a href={`/console/t/${encodeURIComponent(tenant.slug)}/events`}>Event log</a>
      </p>
      {o.created ? (
        <div class="secret-once" role="status">
          <p>
            <strong>Copy the signing secret of {o.created.url} now:</strong> it is shown only once. Your
            receiver checks the <code>Roster-Signature</code> header with it.
          </p>
          <CopyValue id="webhook-secret" label="Signing secret" value={o.created.secret} secret />
        </div>
      ) : null}
      <DataTable
        caption="Endpoints"
        columns={[
          { header: "URL", cell: (w) => <a href={`${base}/${encodeURIComponent(w.id)}`}>{w.url}</a> },
          { header: "Events", cell: (w) => w.events.join(", ") },
          { header: "Status", cell: (w) => <StatusBadge status={w.active ? "active" : "disabled"} /> },
          {
            header: "Delete",
            cell: (w) => (
              <ConfirmAction
                id={`delete-${w.id}`}
                action={`${base}/${encodeURIComponent(w.id)}/delete`}
                csrf={session.csrf}
                summary="Delete…"
                button="Delete endpoint"
              >
                <p>{w.url} stops receiving events; pending deliveries are dropped.</p>
              </ConfirmAction>
            ),
          },
        ]}
        rows={list}
        empty="No endpoint yet."
      />
      <h2>Add an endpoint</h2>
      {o.errors?._form ? (
        <p class="field-error" role="alert">
          {o.errors._form}
        </p>
      ) : null}
      <form method="post" action={base}>
        <Csrf token={session.csrf} />
        <TextField
          name="url"
          label="URL"
          type="url"
          value={v.url}
          errors={o.errors}
          required
          hint="https://, reachable from Roster."
        />
        <TextField
          name="events"
          label="Events"
          value={v.events ?? "*"}
          errors={o.errors}
          required
          hint="Types or prefixes separated by commas, e.g. user.deactivated, role.*  — or * for all."
        />
        <button type="submit">Add endpoint</button>
      </form>
    </>,
  );
}

/** One endpoint's deliveries (newest first): state, attempts, last answer, redeliver; failed = dead letters. */
export async function deliveriesPage(deps: Deps, res: Response, id: string, query: Record<string, unknown>) {
  const tenant = consoleTenant(res);
  const { session } = consoleContext(res);
  const base = `/console/t/${encodeURIComponent(tenant.slug)}/events/webhooks/${encodeURIComponent(id)}`;
  const hook = hooks.publicWebhook(await hooks.requireWebhook(deps, tenant.slug, id));
  const state = (["pending", "delivered", "failed"] as const).find((s) => s === query.state);
  const before =
    typeof query.before === "string" && /^\d{1,10}$/.test(query.before) ? query.before : undefined;
  const page = await hooks.listDeliveries(deps, tenant.slug, id, {
    ...(state ? { state } : {}),
    ...(before ? { before } : {}),
    limit: "50",
  });
  const done = typeof query.done === "string" ? DONE[query.done] : undefined;
  renderPage(
    res,
    {
      title: `Deliveries to ${hook.url}`,
      current: `/console/t/${encodeURIComponent(tenant.slug)}/events`,
      flash: done ? { text: done } : undefined,
    },
    <>
      <p>
        <a href={`/console/t/${encodeURIComponent(tenant.slug)}/events/webhooks`}>All endpoints</a>
      </p>
      <form method="get" action={base} class="search" aria-label="Filter deliveries">
        <SelectField
          name="state"
          label="State"
          value={state ?? ""}
          options={[
            { value: "", label: "All" },
            { value: "pending", label: "Pending (retrying)" },
            { value: "delivered", label: "Delivered" },
            { value: "failed", label: "Failed (dead letters)" },
          ]}
        />
        <button type="submit">Filter</button>
      </form>
      <DataTable
        caption={state === "failed" ? "Dead letters: deliveries that gave up" : "Deliveries, newest first"}
        columns={[
          { header: "Event", cell: (d) => `${d.eventId} ${d.eventType}` },
          {
            header: "State",
            cell: (d) => (
              <StatusBadge
                status={d.state}
                tone={d.state === "delivered" ? "ok" : d.state === "failed" ? "bad" : "warn"}
              />
            ),
          },
          { header: "Attempts", cell: (d) => String(d.attempts) },
          {
            header: "Last answer",
            cell: (d) => (d.lastStatus ? `HTTP ${d.lastStatus}` : (d.lastError ?? "—")),
          },
          {
            header: "Next attempt",
            cell: (d) => (d.nextAttemptAt ? d.nextAttemptAt.slice(0, 19).replace("T", " ") : "—"),
          },
          {
            header: "Actions",
            cell: (d) => (
              <form
                method="post"
                action={`${base}/deliveries/${encodeURIComponent(d.id)}/redeliver`}
                class="inline"
              >
                <Csrf token={session.csrf} />
                <button type="submit" class="secondary" aria-label={`Redeliver event ${d.eventId}`}>
                  Redeliver
                </button>
              </form>
            ),
          },
        ]}
        rows={page.deliveries}
        empty="No delivery."
      />
      {page.next ? (
        <nav class="paging" aria-label="Delivery pages">
          <a
            href={`${base}?${new URLSearchParams({ ...(state ? { state } : {}), before: page.next }).toString()}`}
          >
            Older deliveries
          </a>
        </nav>
      ) : null}
    </>,
  );
}
