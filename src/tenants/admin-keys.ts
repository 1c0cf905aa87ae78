import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { z } from "zod";
import type { Db } from "../db/knex.js";
import { badRequest } from "../http/errors.js";
import { stringProblem } from "../http/input-guard.js";
import { parseInput } from "../http/validate.js";
import { displayPrefix, generateSecret, hashSecret, SECRET_PREFIX, sameHash } from "./secrets.js";

/** An operator admin key as listed (no secret). */
export interface AdminKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  revokedAt: string | null;
}

/** Body of an admin key: its name, as the column holds it (200 characters, no NUL). */
const createAdminKeyInput = z.object({ name: z.string().trim().min(1).max(200) });

/** Create an admin key; the secret is returned once and stored as its SHA-256. */
export async function createAdminKey(db: Db, name: string, now: Date): Promise<AdminKey & { token: string }> {
  // The CLI's --name: PostgreSQL refused a longer (or NUL-holding) one where SQLite stored it.
  ({ name } = parseInput(createAdminKeyInput, { name }));
  const problem = stringProblem(name);
  if (problem)
    throw badRequest("VALIDATION_FAILED", `Invalid name: contains ${problem}`, [
      { field: "name", message: `contains ${problem}` },
    ]);
  const token = generateSecret(SECRET_PREFIX.admin);
  const key = {
    id: randomUUID(),
    name,
    prefix: displayPrefix(token, SECRET_PREFIX.admin),
    createdAt: now.toISOString(),
  };
  await db("admin_keys").insert({ ...rowOf(key), key_hash: hashSecret(token) });
  return { ...key, revokedAt: null, token };
}

function rowOf(k: { id: string; name: string; prefix: string; createdAt: string }) {
  return { id: k.id, name: k.name, prefix: k.prefix, created_at: k.createdAt };
}

/** Number of admin keys not revoked. */
export async function countActiveAdminKeys(db: Db): Promise<number> {
  const row = await db("admin_keys").whereNull("revoked_at").count({ n: "*" }).first();
  return Number(row?.n ?? 0);
}

/** Every admin key, without secrets. */
export async function listAdminKeys(db: Knex): Promise<AdminKey[]> {
  const rows = await db("admin_keys").orderBy("created_at");
  return rows.map((r: any) => ({
    id: r.id,
    name: r.name,
    prefix: r.prefix,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
  }));
}

/** Revoke an admin key; false when there is no such active key. */
export async function revokeAdminKey(db: Knex, id: string, now: Date): Promise<boolean> {
  return (
    (await db("admin_keys").where({ id }).whereNull("revoked_at").update({ revoked_at: now.toISOString() })) >
    0
  );
}

/**
 * First start without ROSTER_ADMIN_TOKEN and without any admin key: create one and return its
 * secret so the server can print it once. Returns undefined when nothing was created.
 */
export async function bootstrapAdminKey(
  db: Knex,
  configured: boolean,
  now: Date,
): Promise<string | undefined> {
  if (configured) return undefined;
  return db.transaction(async (trx) => {
    if ((await countActiveAdminKeys(trx)) > 0) return undefined;
    return (await createAdminKey(trx, "bootstrap", now)).token;
  });
}

/** Who the bearer secret is: ROSTER_ADMIN_TOKEN or an active admin key (hashes compared in constant time); undefined otherwise. */
export async function isAdminSecret(
  db: Knex,
  configuredTokenHash: string | undefined,
  secret: string,
): Promise<AdminIdentity | undefined> {
  const hash = hashSecret(secret);
  if (configuredTokenHash && sameHash(configuredTokenHash, hash)) return { kind: "admin_token" };
  const row = await db("admin_keys").where({ key_hash: hash }).whereNull("revoked_at").first();
  return row && sameHash(row.key_hash, hash) ? { kind: "admin_key", id: row.id, name: row.name } : undefined;
}

/** Which admin credential a request used (kept on the records an auditor reads, never the secret). */
export interface AdminIdentity {
  kind: "admin_token" | "admin_key";
  id?: string;
  /** The admin key's name (the audit log records who, by name as well as id). */
  name?: string;
}
