import type { Response } from "express";
import type { Deps } from "../../deps.js";
import { readRecentEvents } from "../../events/recent.js";
import { SelectField } from "../components/select.js";
import { DataTable } from "../components/table.js";
import { consoleTenant } from "../http.js";
import { renderPage } from "../page.js";

/** The filter's choices: prefixes first, then the types the README lists. */
export const EVENT_TYPES = [
  "user.*",
  "group.*",
  "role.*",
  "role_mapping.*",
  "access.*",
  "session.*",
  "sso.*",
  "console.*",
  "user.created",
  "user.updated",
  "user.deactivated",
  "user.reactivated",
  "user.deleted",
  "group.created",
  "group.updated",
  "group.deleted",
  "group.user_added",
  "group.user_removed",
  "role.assigned",
  "role.revoked",
  "role.manual_added",
  "role.manual_removed",
  "access.revoked",
  "session.revoked",
  "console.action",
];

/** One line that says what an event is about, from its data (ids shortened, never secrets). */
function summaryOf(data: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const k of ["userName", "displayName", "role", "action", "target", "reason", "trigger"]) {
    const v = data[k];
    if (typeof v === "string" && v) parts.push(`${k}: ${v.length > 60 ? `${v.slice(0, 60)}…` : v}`);
  }
  const actor = data.actor as { kind?: string; id?: string } | undefined;
  if (actor?.kind) parts.push(`by ${actor.kind}${actor.id ? ` ${actor.id.slice(0, 8)}` : ""}`);
  return parts.join(" · ");
}

/** Events: the tenant's event log newest first, filtered by type, paged by cursor. */
export async function eventsPage(deps: Deps, res: Response, query: Record<string, unknown>) {
  const tenant = consoleTenant(res);
  const base = `/console/t/${encodeURIComponent(tenant.slug)}/events`;
  const type = EVENT_TYPES.find((t) => t === query.type);
  const before =
    typeof query.before === "string" && /^\d{1,18}$/.test(query.before) ? query.before : undefined;
  const page = await readRecentEvents(deps, tenant.slug, {
    ...(type ? { type } : {}),
    ...(before ? { before } : {}),
    limit: "50",
  });
  const href = (b?: string) => {
    const p = new URLSearchParams();
    if (type) p.set("type", type);
    if (b) p.set("before", b);
    const s = p.toString();
    return s ? `${base}?${s}` : base;
  };
  renderPage(
    res,
    { title: "Events & webhooks" },
    <>
      <p>
        <a href={`${base}/webhooks`}>Webhook endpoints and deliveries</a>
      </p>
      <form method="get" action={base} class="search" aria-label="Filter events">
        <SelectField
          name="type"
          label="Event type"
          value={type ?? ""}
          options={[{ value: "", label: "All events" }, ...EVENT_TYPES.map((t) => ({ value: t, label: t }))]}
        />
        <button type="submit">Filter</button>
      </form>
      <DataTable
        caption={type ? `Events of type ${type}, newest first` : "Events, newest first"}
        columns={[
          { header: "Id", cell: (e) => e.id },
          { header: "Time", cell: (e) => e.createdAt.slice(0, 19).replace("T", " ") },
          { header: "Type", cell: (e) => <code>{e.type}</code> },
          { header: "Details", cell: (e) => summaryOf(e.data) },
        ]}
        rows={page.events}
        empty="No event yet."
      />
      {before || page.next ? (
        <nav class="paging" aria-label="Event pages">
          {before ? <a href={href()}>Newest</a> : null}
          {page.next ? <a href={href(page.next)}>Older events</a> : null}
        </nav>
      ) : null}
    </>,
  );
}
