import type { Response } from "express";
import { auditPage, operatorAuditQuery, verifyAuditLog } from "../../audit/admin.js";
import type { Deps } from "../../deps.js";
import { StatusBadge } from "../components/badge.js";
import { DataTable } from "../components/table.js";
import { renderPage } from "../page.js";

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const ACTION = /^[a-z0-9_.:-]{1,64}$/i;

/**
 * The audit log across tenants, newest first, by tenant and action, paged by cursor, with the
 * hash chains' verify result on top: the use cases of GET /admin/v1/audit-log and …/verify.
 */
export async function auditLogPage(deps: Deps, res: Response, query: Record<string, unknown>) {
  const base = "/console/operator/audit-log";
  const str = (v: unknown, re: RegExp) => (typeof v === "string" && re.test(v.trim()) ? v.trim() : undefined);
  const tenant = str(query.tenant, SLUG);
  const action = str(query.action, ACTION);
  const before = str(query.before, /^\d{1,9}$/);
  const q = { ...(tenant ? { tenant } : {}), ...(action ? { action } : {}) };
  // An unknown tenant slug is the use case's 404 (a console page, not a 500).
  // Verifying reads every entry of every chain: only when asked (a button), not on every load.
  const wantVerify = query.verify === "1";
  const [page, verify] = await Promise.all([
    operatorAuditQuery(deps, { ...q, ...(before ? { before } : {}), limit: "50" }).then((aq) =>
      auditPage(deps, aq),
    ),
    wantVerify ? verifyAuditLog(deps) : Promise.resolve(undefined),
  ]);
  const href = (b?: string) => {
    const p = new URLSearchParams(q);
    if (b) p.set("before", b);
    const s = p.toString();
    return s ? `${base}?${s}` : base;
  };
  renderPage(
    res,
    { title: "Audit log", current: base },
    <>
      <section aria-label="Verify">
        {verify ? (
          <p>
            <StatusBadge status={verify.ok ? "intact" : "broken"} tone={verify.ok ? "ok" : "bad"} />{" "}
            {verify.ok
              ? `${verify.entries} entries in ${verify.chains} chains verified.`
              : `${verify.brokenAt?.message ?? ""} (chain ${verify.brokenAt?.chain ?? ""}).`}
          </p>
        ) : (
          <form method="get" action={base}>
            {tenant ? <input type="hidden" name="tenant" value={tenant} /> : null}
            {action ? <input type="hidden" name="action" value={action} /> : null}
            <input type="hidden" name="verify" value="1" />
            <button type="submit" class="secondary">
              Verify the hash chains now
            </button>
          </form>
        )}
      </section>
      <form method="get" action={base} class="search" aria-label="Filter the audit log">
        <div class="field">
          <label for="f-tenant">Tenant (slug)</label>
          <input id="f-tenant" name="tenant" value={tenant ?? ""} />
        </div>
        <div class="field">
          <label for="f-action">Action</label>
          <input id="f-action" name="action" value={action ?? ""} />
        </div>
        <button type="submit">Filter</button>
      </form>
      <DataTable
        caption="Audit entries, newest first"
        columns={[
          { header: "Seq", cell: (e) => e.seq },
          { header: "Time", cell: (e) => e.at.slice(0, 19).replace("T", " ") },
          { header: "Tenant", cell: (e) => e.tenant?.slug ?? "(operator)" },
          { header: "Actor", cell: (e) => `${e.actor.kind}${e.actor.name ? ` ${e.actor.name}` : ""}` },
          { header: "Action", cell: (e) => <code>{e.action}</code> },
          { header: "Target", cell: (e) => (e.target ? `${e.target.type} ${e.target.id ?? ""}` : "") },
          { header: "Source IP", cell: (e) => e.sourceIp ?? "" },
        ]}
        rows={page.entries}
        empty="No audit entry."
      />
      {before || page.next ? (
        <nav class="paging" aria-label="Audit log pages">
          {before ? <a href={href()}>Newest</a> : null}
          {page.next ? <a href={href(page.next)}>Older entries</a> : null}
        </nav>
      ) : null}
    </>,
  );
}
