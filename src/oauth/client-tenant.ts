import type { Db } from "../db/knex.js";
import { findTenantById } from "../tenants/store.js";
import { findClient } from "./store.js";

/** At most this many clients are remembered (every real client fits; the map restarts beyond). */
const MAX_CACHED = 10_000;

/**
 * The slug of the tenant an OAuth client belongs to, for per-tenant rate limits on /oauth/*.
 * Remembered per process: a client never moves to another tenant and slugs never change. Unknown
 * ids are not remembered, so made-up ids cannot fill the map (each costs one indexed read, and
 * the per-address limit bounds how many a client may try).
 */
export function clientTenantSlugs(db: Db): (clientId: string) => Promise<string | undefined> {
  const known = new Map<string, string>();
  return async (clientId) => {
    if (!/^[\x21-\x7e]{1,200}$/.test(clientId)) return undefined;
    const hit = known.get(clientId);
    if (hit) return hit;
    const client = await findClient(db, clientId);
    const tenant = client ? await findTenantById(db, client.tenantId) : undefined;
    if (!tenant) return undefined;
    if (known.size >= MAX_CACHED) known.clear();
    known.set(clientId, tenant.slug);
    return tenant.slug;
  };
}
