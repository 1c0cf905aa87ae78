import type { Response } from "express";
import type { Deps } from "../../deps.js";
import { listMembersPage } from "../../directory/members.js";
import { StatusBadge } from "../components/badge.js";
import { SelectField } from "../components/select.js";
import { DataTable } from "../components/table.js";
import { consoleTenant } from "../http.js";
import { renderPage } from "../page.js";

const STATUSES = ["active", "deactivated", "invited"] as const;

/** The list's query as the page reads it: anything unknown is dropped, not an error page. */
export function listQueryOf(query: Record<string, unknown>) {
  const str = (v: unknown) => (typeof v === "string" ? v : undefined);
  const q = str(query.q)?.trim().slice(0, 512) || undefined;
  const status = STATUSES.find((s) => s === query.status);
  const cursor = str(query.cursor);
  return { q, status, cursor: cursor && /^[A-Za-z0-9_-]{1,2800}$/.test(cursor) ? cursor : undefined };
}

/** Members: search (name, userName, e-mail), status filter, keyset pages of 50. */
export async function membersListPage(deps: Deps, res: Response, query: Record<string, unknown>) {
  const tenant = consoleTenant(res);
  const base = `/console/t/${encodeURIComponent(tenant.slug)}/members`;
  const q = listQueryOf(query);
  const page = await listMembersPage(deps, tenant.slug, { ...q, limit: "50" });
  const href = (cursor?: string) => {
    const params = new URLSearchParams();
    if (q.q) params.set("q", q.q);
    if (q.status) params.set("status", q.status);
    if (cursor) params.set("cursor", cursor);
    const s = params.toString();
    return s ? `${base}?${s}` : base;
  };
  renderPage(
    res,
    { title: "Members" },
    <>
      <form method="get" action={base} class="search" aria-label="Search members">
        <div class="field">
          <label for="f-q">Search by name, username or e-mail</label>
          <input id="f-q" name="q" type="search" value={q.q ?? ""} autocomplete="off" />
        </div>
        <SelectField
          name="status"
          label="Status"
          value={q.status ?? ""}
          options={[
            { value: "", label: "All" },
            { value: "active", label: "Active" },
            { value: "deactivated", label: "Deactivated" },
            { value: "invited", label: "Invited" },
          ]}
        />
        <button type="submit">Search</button>
      </form>
      <p>
        <a href={`${base}/invite`}>Invite a member</a>
        <span class="muted"> (manual provisioning, with a role before their first sign-in)</span>
      </p>
      <DataTable
        caption={q.q ? `Members starting with “${q.q}”` : "Members"}
        columns={[
          {
            header: "Name",
            cell: (u) => <a href={`${base}/${encodeURIComponent(u.id)}`}>{u.displayName ?? u.userName}</a>,
          },
          { header: "Username", cell: (u) => u.userName },
          { header: "E-mail", cell: (u) => u.email ?? "" },
          { header: "Status", cell: (u) => <StatusBadge status={u.status} tone={toneOf(u.status)} /> },
        ]}
        rows={page.users}
        empty={q.q || q.status ? "No member matches." : "No members yet."}
      />
      {q.cursor || page.next ? (
        <nav class="paging" aria-label="Members pages">
          {q.cursor ? <a href={href()}>First page</a> : null}
          {page.next ? <a href={href(page.next)}>Next page</a> : null}
        </nav>
      ) : null}
    </>,
  );
}

/** Badge tone of a member status. */
export function toneOf(status: string): "ok" | "warn" | "bad" | "neutral" {
  return status === "active" ? "ok" : status === "invited" ? "warn" : "bad";
}
