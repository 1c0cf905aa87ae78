import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import type { Db } from "../db/knex.js";
import { insertSigningKey, listSigningKeys } from "./store.js";

/** The id_token signing algorithm. */
export const ID_TOKEN_ALG = "RS256";

interface LoadedKeys {
  at: number;
  current: { kid: string; key: CryptoKey | Uint8Array };
  publicJwks: JWK[];
}

// Per database (tests run several in one process); refreshed every minute so a new key appears.
const caches = new WeakMap<object, LoadedKeys>();
const CACHE_MS = 60_000;

/** Make the first signing key (RS256, kid = its JWK thumbprint); keys live in the database so every process signs alike. */
async function createKey(db: Db, now: Date): Promise<void> {
  const { privateKey, publicKey } = await generateKeyPair(ID_TOKEN_ALG, { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  await insertSigningKey(db, {
    kid,
    alg: ID_TOKEN_ALG,
    privateJwk: JSON.stringify(await exportJWK(privateKey)),
    publicJwk: JSON.stringify({ ...publicJwk, kid, alg: ID_TOKEN_ALG, use: "sig" }),
    createdAt: now.toISOString(),
  });
}

async function load(db: Db, now: Date): Promise<LoadedKeys> {
  const cached = caches.get(db);
  if (cached && now.getTime() - cached.at < CACHE_MS) return cached;
  let rows = await listSigningKeys(db);
  if (rows.length === 0) {
    await createKey(db, now);
    rows = await listSigningKeys(db);
  }
  const newest = rows[0];
  const loaded: LoadedKeys = {
    at: now.getTime(),
    current: { kid: newest.kid, key: await importJWK(JSON.parse(newest.privateJwk), ID_TOKEN_ALG) },
    publicJwks: rows.map((r) => JSON.parse(r.publicJwk) as JWK),
  };
  caches.set(db, loaded);
  return loaded;
}

/** The key new id_tokens are signed with. */
export async function currentSigningKey(db: Db, now: Date) {
  return (await load(db, now)).current;
}

/** The JWKS document (every live public key, so tokens signed before a rotation still verify). */
export async function jwks(db: Db, now: Date): Promise<{ keys: JWK[] }> {
  return { keys: (await load(db, now)).publicJwks };
}
