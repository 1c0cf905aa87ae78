import type { Response } from "express";
import { pingDb } from "../../db/knex.js";
import type { Deps } from "../../deps.js";
import { countJobs } from "../../jobs/store.js";
import { describeCertificate } from "../../sso/saml/certificates.js";
import { findConnectionById, listConnectionIds } from "../../sso/saml/connection-store.js";
import { findTenantById } from "../../tenants/store.js";
import { StatusBadge } from "../components/badge.js";
import { DataTable } from "../components/table.js";
import { renderPage } from "../page.js";

/** Certificates expiring within this many days are flagged. */
const SOON_DAYS = 30;
/** The health page lists at most this many connections' certificates (soonest first). */
const MAX_CERTS = 200;

/** System health: database, Redis, queue depth, IdP certificate expiries across tenants. */
export async function healthPage(deps: Deps, res: Response): Promise<void> {
  const now = deps.now();
  const [database, counts] = await Promise.all([pingDb(deps.db), countJobs(deps.db).catch(() => [])]);
  const redis = !deps.config.redisUrl
    ? "not used"
    : deps.redis?.state === "down"
      ? "down"
      : (await deps.driver.ready())
        ? "ok"
        : "down";
  const certs: Array<{ tenant: string; state: string; subject: string; notAfter: string; days: number }> = [];
  // Every SAML connection of every tenant (a tenant may have several: issue 16).
  for (const { tenantId, id } of (await listConnectionIds(deps.db)).slice(0, MAX_CERTS)) {
    const [tenant, conn] = await Promise.all([
      findTenantById(deps.db, tenantId),
      findConnectionById(deps.db, tenantId, id),
    ]);
    if (!tenant || !conn) continue;
    for (const pem of conn.certificates) {
      const c = describeCertificate(pem, now);
      const days = Math.floor((new Date(c.notAfter).getTime() - now.getTime()) / 86_400_000);
      certs.push({ tenant: tenant.slug, state: conn.state, subject: c.subject, notAfter: c.notAfter, days });
    }
  }
  certs.sort((a, b) => a.days - b.days);
  const pending = counts.filter((c) => c.state === "pending").reduce((n, c) => n + c.n, 0);
  const failed = counts.filter((c) => c.state === "failed").reduce((n, c) => n + c.n, 0);
  renderPage(
    res,
    { title: "System health" },
    <>
      <dl class="facts">
        <dt>Database</dt>
        <dd>
          <StatusBadge status={database ? "ok" : "down"} />{" "}
          {deps.config.database.client === "pg" ? "PostgreSQL" : "SQLite"}
        </dd>
        <dt>Redis</dt>
        <dd>
          <StatusBadge status={redis} tone={redis === "ok" ? "ok" : redis === "down" ? "bad" : "neutral"} />
        </dd>
        <dt>Jobs waiting</dt>
        <dd>{pending}</dd>
        <dt>Dead letters</dt>
        <dd>
          {failed} <a href="/console/operator/jobs?state=failed">Review</a>
        </dd>
      </dl>
      <DataTable
        caption="Job queue depth by queue and state"
        columns={[
          { header: "Queue", cell: (c) => c.queue },
          { header: "State", cell: (c) => c.state },
          { header: "Jobs", cell: (c) => String(c.n) },
        ]}
        rows={counts}
        empty="No jobs."
      />
      <DataTable
        caption="IdP signing certificates, soonest expiry first"
        columns={[
          {
            header: "Tenant",
            cell: (c) => <a href={`/console/t/${encodeURIComponent(c.tenant)}/sso`}>{c.tenant}</a>,
          },
          { header: "Connection", cell: (c) => <StatusBadge status={c.state} /> },
          { header: "Subject", cell: (c) => c.subject },
          { header: "Expires", cell: (c) => c.notAfter.slice(0, 10) },
          {
            header: "Status",
            cell: (c) => (
              <StatusBadge status={c.days < 0 ? "expired" : c.days <= SOON_DAYS ? "expiring" : "ok"} />
            ),
          },
        ]}
        rows={certs}
        empty="No SAML connections."
      />
    </>,
  );
}
