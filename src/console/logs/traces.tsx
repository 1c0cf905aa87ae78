import type { Response } from "express";
import type { Deps } from "../../deps.js";
import { FIXES } from "../../sso/traces.js";
import { getTrace, getTraces } from "../../sso/refusals.js";
import { SelectField } from "../components/select.js";
import { DataTable } from "../components/table.js";
import { consoleTenant } from "../http.js";
import { renderPage } from "../page.js";
import { LogTabs } from "./scim-requests.js";

const OUTCOMES = ["refused", "succeeded"];
const time = (iso: string) => iso.slice(0, 19).replace("T", " ");

/** Sign-in traces, newest first, by outcome and reason code, paged by cursor (`before`). */
export async function tracesPage(deps: Deps, res: Response, query: Record<string, unknown>) {
  const tenant = consoleTenant(res);
  const logs = `/console/t/${encodeURIComponent(tenant.slug)}/logs`;
  const base = `${logs}/sign-ins`;
  // Only values the use case accepts reach it (tracesQuery): others show the unfiltered list.
  const outcome = OUTCOMES.find((o) => o === query.outcome);
  const reason =
    typeof query.reason === "string" && /^[A-Z_]{1,64}$/.test(query.reason) ? query.reason : undefined;
  const before =
    typeof query.before === "string" && /^[0-9A-Z]{10}$/.test(query.before) ? query.before : undefined;
  const page = await getTraces(deps, tenant.slug, {
    ...(outcome ? { outcome } : {}),
    ...(reason ? { reason } : {}),
    ...(before ? { before } : {}),
  });
  const href = (b?: string) => {
    const p = new URLSearchParams();
    if (outcome) p.set("outcome", outcome);
    if (reason) p.set("reason", reason);
    if (b) p.set("before", b);
    const s = p.toString();
    return s ? `${base}?${s}` : base;
  };
  const reasons = ["OK", ...Object.keys(FIXES)];
  renderPage(
    res,
    { title: "Logs: sign-in traces", current: logs },
    <>
      <LogTabs base={logs} current="sign-ins" />
      <form method="get" action={base} class="search" aria-label="Filter sign-in traces">
        <SelectField
          name="outcome"
          label="Outcome"
          value={outcome ?? ""}
          options={[{ value: "", label: "Any outcome" }, ...OUTCOMES.map((o) => ({ value: o, label: o }))]}
        />
        <SelectField
          name="reason"
          label="Reason"
          value={reason ?? ""}
          options={[
            { value: "", label: "Any reason" },
            ...(reason && !reasons.includes(reason) ? [reason] : [])
              .concat(reasons)
              .map((r) => ({ value: r, label: r })),
          ]}
        />
        <button type="submit">Filter</button>
      </form>
      <DataTable
        caption="Sign-in traces, newest first"
        columns={[
          { header: "Reference", cell: (t) => <a href={`${base}/${t.ref}`}>{t.ref}</a> },
          { header: "Time", cell: (t) => time(t.createdAt) },
          { header: "Outcome", cell: (t) => t.outcome },
          { header: "Reason", cell: (t) => <code>{t.reason}</code> },
          {
            header: "Identity",
            cell: (t) => (t.nameId ? `${t.nameId}${t.verified ? "" : " (unverified)"}` : ""),
          },
        ]}
        rows={page.traces}
        empty="No sign-in traced yet."
      />
      {before || page.next ? (
        <nav class="paging" aria-label="Sign-in trace pages">
          {before ? <a href={href()}>Newest</a> : null}
          {page.next ? <a href={href(page.next)}>Older traces</a> : null}
        </nav>
      ) : null}
    </>,
  );
}

/** One trace: the checks, the fix in words, the elided response as text. */
export async function tracePage(deps: Deps, res: Response, ref: string) {
  const tenant = consoleTenant(res);
  const t = `/console/t/${encodeURIComponent(tenant.slug)}`;
  const trace = await getTrace(deps, tenant.slug, ref); // another tenant's ref: 404
  renderPage(
    res,
    { title: `Sign-in trace ${trace.ref}`, current: `${t}/logs` },
    <>
      <LogTabs base={`${t}/logs`} current="sign-ins" />
      <dl class="facts">
        <dt>Time</dt>
        <dd>{trace.createdAt}</dd>
        <dt>Outcome</dt>
        <dd>{trace.outcome}</dd>
        <dt>Reason</dt>
        <dd>
          <code>{trace.reason}</code>
        </dd>
        <dt>Message</dt>
        <dd>{trace.message}</dd>
        <dt>Protocol</dt>
        <dd>{trace.protocol}</dd>
        <dt>Identity</dt>
        <dd>
          {trace.nameId ? (
            // The member list's search finds the user this NameID names (unverified until a signature verified).
            <a href={`${t}/members?q=${encodeURIComponent(trace.nameId)}`}>
              {trace.nameId}
              {trace.verified ? "" : " (unverified)"}
            </a>
          ) : (
            "—"
          )}
        </dd>
      </dl>
      {trace.fix ? (
        <>
          <h2>What to do</h2>
          <p>{trace.fix}</p>
        </>
      ) : null}
      <DataTable
        caption="Checks, in the order they ran"
        columns={[
          { header: "Check", cell: (c) => c.check },
          { header: "Result", cell: (c) => c.result },
          { header: "Detail", cell: (c) => c.detail ?? "" },
        ]}
        rows={trace.checks}
        empty="No check recorded."
      />
      <h2>Response (secrets elided)</h2>
      <pre class="log-text" tabindex={0}>
        {trace.response ?? "(no response was parsed)"}
      </pre>
    </>,
  );
}
