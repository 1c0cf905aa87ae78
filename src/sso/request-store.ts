import type { Db } from "../db/knex.js";
import { parseJson, toIso } from "../db/rows.js";

/** Why a login was started. */
export type RequestPurpose = "login" | "test" | "oauth";

/** OAuth authorize parameters carried through the SAML round trip. */
export interface OAuthParams {
  clientId: string;
  redirectUri: string;
  state: string | null;
  scope: string;
  nonce: string | null;
  codeChallenge: string | null;
}

/** A started SAML login (AuthnRequest), stored so any API process can check the response. */
export interface SamlRequestRow {
  id: string;
  tenantId: string;
  /** The connection whose login started it (its ACS alone answers it). */
  connectionId: string | null;
  browserHash: string;
  purpose: RequestPurpose;
  issueInstant: string;
  returnTo: string | null;
  testId: string | null;
  oauth: OAuthParams | null;
  createdAt: string;
  expiresAt: string;
  consumedAt: string | null;
}

/** The saml_requests columns (for queries that join them). */
export const REQUEST_COLUMNS = [
  "id",
  "tenant_id",
  "connection_id",
  "browser_hash",
  "purpose",
  "issue_instant",
  "return_to",
  "test_id",
  "oauth",
  "created_at",
  "expires_at",
  "consumed_at",
];

/** A saml_requests row as a SamlRequestRow. */
export function rowToRequest(r: any): SamlRequestRow {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    connectionId: r.connection_id ?? null,
    browserHash: r.browser_hash,
    purpose: r.purpose,
    issueInstant: r.issue_instant,
    returnTo: r.return_to ?? null,
    testId: r.test_id ?? null,
    oauth: parseJson(r.oauth, null),
    createdAt: toIso(r.created_at)!,
    expiresAt: toIso(r.expires_at)!,
    consumedAt: toIso(r.consumed_at),
  };
}

/** Insert a started request. */
export async function insertRequest(db: Db, r: SamlRequestRow): Promise<void> {
  await db("saml_requests").insert({
    id: r.id,
    tenant_id: r.tenantId,
    connection_id: r.connectionId,
    browser_hash: r.browserHash,
    purpose: r.purpose,
    issue_instant: r.issueInstant,
    return_to: r.returnTo,
    test_id: r.testId,
    oauth: r.oauth ? JSON.stringify(r.oauth) : null,
    created_at: r.createdAt,
    expires_at: r.expiresAt,
  });
}

/** A request of a tenant by its id, or undefined. */
export async function findRequest(db: Db, tenantId: string, id: string): Promise<SamlRequestRow | undefined> {
  const row = await db("saml_requests").where({ tenant_id: tenantId, id }).first();
  return row ? rowToRequest(row) : undefined;
}

/** Use a request up: 1 when this call consumed it, 0 when it was already used or expired. */
export async function consumeRequest(db: Db, tenantId: string, id: string, at: string): Promise<number> {
  return db("saml_requests")
    .where({ tenant_id: tenantId, id })
    .whereNull("consumed_at")
    .where("expires_at", ">", at)
    .update({ consumed_at: at });
}

/**
 * Record an assertion id until it expires: true the first time, false when already seen (a
 * replay). Shared by every process through the database; ON CONFLICT keeps a PostgreSQL
 * transaction usable.
 */
export async function rememberAssertion(
  db: Db,
  tenantId: string,
  assertionId: string,
  expiresAt: string,
): Promise<boolean> {
  const rows = await db("saml_replay")
    .insert({ tenant_id: tenantId, assertion_id: assertionId, expires_at: expiresAt })
    .onConflict(["tenant_id", "assertion_id"])
    .ignore()
    .returning("assertion_id");
  return Array.isArray(rows) && rows.length === 1;
}

/**
 * Pending (unconsumed) requests of a tenant, counted up to `cap` (the count stops there), and how
 * many of those are this browser's and still live. One query over the partial index
 * saml_requests_pending (migration 0010), which covers it.
 */
export async function countPendingRequests(
  db: Db,
  tenantId: string,
  browserHash: string,
  at: string,
  cap: number,
): Promise<{ total: number; browser: number }> {
  const pending = db("saml_requests")
    .where({ tenant_id: tenantId })
    .whereNull("consumed_at")
    .select("browser_hash", "expires_at")
    .limit(cap)
    .as("p");
  const row: any = await db
    .from(pending)
    .select(
      db.raw("count(*) as total"),
      db.raw("coalesce(sum(case when browser_hash = ? and expires_at > ? then 1 else 0 end), 0) as browser", [
        browserHash,
        at,
      ]),
    )
    .first();
  return { total: Number(row?.total ?? 0), browser: Number(row?.browser ?? 0) };
}

/** Delete a tenant's requests that expired unused; returns rows deleted. */
export async function deleteExpiredPending(db: Db, tenantId: string, at: string): Promise<number> {
  return db("saml_requests")
    .where({ tenant_id: tenantId })
    .whereNull("consumed_at")
    .where("expires_at", "<=", at)
    .delete();
}

/** Keep only a browser's newest `keep` pending requests (older tabs' logins end: "start again"). */
export async function evictOldestPending(
  db: Db,
  tenantId: string,
  browserHash: string,
  keep: number,
): Promise<number> {
  const newest = db("saml_requests")
    .where({ tenant_id: tenantId, browser_hash: browserHash })
    .whereNull("consumed_at")
    .orderBy([
      { column: "created_at", order: "desc" },
      { column: "id", order: "desc" },
    ])
    .limit(keep)
    .select("id");
  return db("saml_requests")
    .where({ tenant_id: tenantId, browser_hash: browserHash })
    .whereNull("consumed_at")
    .whereNotIn("id", newest)
    .delete();
}

/**
 * Delete expired requests, replay entries and OAuth codes (daily job). Requests go as soon as
 * they expire (the ACS refuses them the same way whether the row is there or not); replay
 * entries and codes a day after.
 */
export async function purgeExpired(db: Db, at: string): Promise<void> {
  const dayAgo = new Date(new Date(at).getTime() - 86_400_000).toISOString();
  await db("saml_requests").where("expires_at", "<", at).delete();
  await db("saml_replay").where("expires_at", "<", dayAgo).delete();
  await db("oauth_codes").where("expires_at", "<", dayAgo).delete();
}
