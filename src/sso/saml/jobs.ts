import { ChangeSet, commitChanges } from "../../directory/changes.js";
import type { JobRegistry } from "../../jobs/registry.js";
import type { JobContext } from "../../jobs/types.js";
import { describeCertificate } from "./certificates.js";
import { findConnectionById, listConnectionIds, updateConnection } from "./connection-store.js";
import { purgeExpired } from "../request-store.js";

/** The daily certificate-expiry job. */
export const CERT_EXPIRY_JOB = "sso-certificate-expiry";
/** Days before expiry at which `sso.certificate_expiring` is emitted (once each). */
export const EXPIRY_THRESHOLDS = [30, 7, 1];
const DAY_MS = 86_400_000;

/**
 * Check every connection's IdP certificates: emit `sso.certificate_expiring` when one crosses 30,
 * 7 or 1 days left and `sso.certificate_expired` once it has expired. What was emitted is kept
 * per fingerprint, so running twice a day (or retrying) never emits twice.
 */
export async function checkCertificateExpiry(ctx: Pick<JobContext, "db" | "now">): Promise<number> {
  const now = ctx.now();
  let emitted = 0;
  for (const { tenantId, id } of await listConnectionIds(ctx.db)) {
    await ctx.db.transaction(async (trx) => {
      const conn = await findConnectionById(trx, tenantId, id);
      if (!conn) return;
      const changes = new ChangeSet();
      const alerts = { ...conn.expiryAlerts };
      for (const pem of conn.certificates) {
        const cert = describeCertificate(pem, now);
        const fp = cert.fingerprintSha256;
        const done = new Set(alerts[fp] ?? []);
        const base = {
          connectionId: conn.id,
          fingerprint: fp,
          subject: cert.subject,
          notAfter: cert.notAfter,
        };
        if (new Date(cert.notAfter) <= now) {
          if (!done.has(0)) changes.add("sso.certificate_expired", base);
          done.add(0);
        } else {
          const crossed = EXPIRY_THRESHOLDS.filter((t) => cert.daysUntilExpiry < t && !done.has(t));
          if (crossed.length > 0)
            changes.add("sso.certificate_expiring", {
              ...base,
              daysLeft: cert.daysUntilExpiry,
              threshold: Math.min(...crossed),
            });
          for (const t of crossed) done.add(t);
        }
        alerts[fp] = [...done].sort((a, b) => a - b);
      }
      if (changes.events.length === 0) return;
      emitted += changes.events.length;
      await updateConnection(trx, { ...conn, expiryAlerts: alerts });
      await commitChanges(trx, tenantId, changes, now.toISOString());
    });
  }
  return emitted;
}

/** Register the SSO capability's jobs: the daily certificate check (which reschedules itself). */
export function registerSsoJobs(jobs: JobRegistry): void {
  jobs.define({
    name: CERT_EXPIRY_JOB,
    queue: "default",
    maxAttempts: 5,
    handler: async (_payload, ctx) => {
      await checkCertificateExpiry(ctx);
      await purgeExpired(ctx.db, ctx.now().toISOString());
      const next = new Date(ctx.now().getTime() + DAY_MS);
      await jobs.enqueue(
        ctx.db,
        [{ name: CERT_EXPIRY_JOB, tenantId: null, payload: {}, dedupeKey: CERT_EXPIRY_JOB, runAt: next }],
        ctx.now(),
      );
    },
  });
}
