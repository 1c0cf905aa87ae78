import type { Response } from "express";
import type { Deps } from "../../deps.js";
import { getRequest, listRequests } from "../../scim/request-log/admin.js";
import { SelectField } from "../components/select.js";
import { DataTable } from "../components/table.js";
import { consoleTenant } from "../http.js";
import { renderPage } from "../page.js";

const STATUSES = ["2xx", "4xx", "5xx"];
const METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const time = (iso: string) => iso.slice(0, 19).replace("T", " ");

/** The tabs of the Logs area. */
export function LogTabs(props: { base: string; current: "scim" | "sign-ins" }) {
  return (
    <nav class="tabs" aria-label="Logs">
      <a href={props.base} aria-current={props.current === "scim" ? "page" : undefined}>
        SCIM requests
      </a>{" "}
      <a href={`${props.base}/sign-ins`} aria-current={props.current === "sign-ins" ? "page" : undefined}>
        Sign-in traces
      </a>
    </nav>
  );
}

/** SCIM requests, newest first, by status class and method, paged by cursor (`before`). */
export async function scimRequestsPage(deps: Deps, res: Response, query: Record<string, unknown>) {
  const tenant = consoleTenant(res);
  const base = `/console/t/${encodeURIComponent(tenant.slug)}/logs`;
  // Only values the use case accepts reach it: a hand-edited URL shows the unfiltered list.
  const status = STATUSES.find((s) => s === query.status);
  const method = METHODS.find((m) => m === query.method);
  const before =
    typeof query.before === "string" && /^\d{1,9}$/.test(query.before) ? query.before : undefined;
  const page = await listRequests(deps, tenant.slug, {
    ...(status ? { status } : {}),
    ...(method ? { method } : {}),
    ...(before ? { before } : {}),
  });
  const href = (b?: string) => {
    const p = new URLSearchParams();
    if (status) p.set("status", status);
    if (method) p.set("method", method);
    if (b) p.set("before", b);
    const s = p.toString();
    return s ? `${base}?${s}` : base;
  };
  renderPage(
    res,
    { title: "Logs: SCIM requests", current: base },
    <>
      <LogTabs base={base} current="scim" />
      <form method="get" action={base} class="search" aria-label="Filter SCIM requests">
        <SelectField
          name="status"
          label="Status"
          value={status ?? ""}
          options={[{ value: "", label: "Any status" }, ...STATUSES.map((s) => ({ value: s, label: s }))]}
        />
        <SelectField
          name="method"
          label="Method"
          value={method ?? ""}
          options={[{ value: "", label: "Any method" }, ...METHODS.map((m) => ({ value: m, label: m }))]}
        />
        <button type="submit">Filter</button>
      </form>
      <DataTable
        caption="SCIM requests, newest first"
        columns={[
          { header: "Time", cell: (e) => <a href={`${base}/scim/${e.id}`}>{time(e.at)}</a> },
          { header: "Method", cell: (e) => e.method },
          { header: "Path", cell: (e) => <code>{e.path}</code> },
          { header: "Status", cell: (e) => String(e.status) },
          { header: "Token", cell: (e) => e.tokenName ?? "" },
          { header: "Detail", cell: (e) => e.detail ?? e.subject ?? "" },
        ]}
        rows={page.requests}
        empty="No SCIM request logged."
      />
      {before || page.next ? (
        <nav class="paging" aria-label="SCIM request pages">
          {before ? <a href={href()}>Newest</a> : null}
          {page.next ? <a href={href(page.next)}>Older requests</a> : null}
        </nav>
      ) : null}
    </>,
  );
}

/** One SCIM request: its fields, the members it touched, its redacted bodies as text. */
export async function scimRequestPage(deps: Deps, res: Response, id: string) {
  const tenant = consoleTenant(res);
  const t = `/console/t/${encodeURIComponent(tenant.slug)}`;
  const e = await getRequest(deps, tenant.slug, id); // another tenant's id: 404 (tenant in the query)
  // A request on /Users touched users (the member page); one on /Groups, groups.
  const users = /\/Users(\/|\?|$)/.test(e.path);
  const body = (v: unknown) => (v === null ? "(not kept)" : JSON.stringify(v, null, 2));
  const fields: Array<[string, string]> = [
    ["Time", e.at],
    ["Method", e.method],
    ["Path", e.path],
    ["Status", String(e.status)],
    ["Duration", `${e.durationMs} ms`],
    ["Token", e.tokenName ?? "—"],
    ["User agent", e.userAgent ?? "—"],
    ["Request id", e.requestId ?? "—"],
    ["SCIM error type", e.scimType ?? "—"],
    ["Detail", e.detail ?? "—"],
    ["Subject", e.subject ?? "—"],
  ];
  renderPage(
    res,
    { title: `SCIM request ${e.id}`, current: `${t}/logs` },
    <>
      <LogTabs base={`${t}/logs`} current="scim" />
      <dl class="facts">
        {fields.map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd>{v}</dd>
          </>
        ))}
      </dl>
      <h2>Resources touched</h2>
      {e.resourceIds.length === 0 ? (
        <p>None.</p>
      ) : (
        <ul>
          {e.resourceIds.map((r) => (
            <li>{users ? <a href={`${t}/members/${encodeURIComponent(r)}`}>{r}</a> : r}</li>
          ))}
        </ul>
      )}
      <h2>Request body</h2>
      <pre class="log-text" tabindex={0}>
        {body(e.requestBody)}
      </pre>
      <h2>Response body</h2>
      <pre class="log-text" tabindex={0}>
        {body(e.responseBody)}
      </pre>
    </>,
  );
}
