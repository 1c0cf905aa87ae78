import { createHash, randomFillSync, timingSafeEqual } from "node:crypto";

/** Readable prefixes so a leaked secret is recognisable (and scannable) at a glance. */
export const SECRET_PREFIX = {
  scim: "rst_scim_",
  admin: "rst_admin_",
  session: "rst_sess_",
  webhook: "rst_whsec_",
} as const;

// Each call into the CSPRNG costs ~25 µs whatever its size, and a SAML login makes two secrets
// (session token, OAuth code): draw them from a 4 KiB pool refilled from the same CSPRNG when
// used up, each byte handed out once (crypto.randomUUID keeps a cache the same way).
const pool = Buffer.alloc(4096);
let poolOffset = pool.length;

function randomBits256(): Buffer {
  if (poolOffset + 32 > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + 32));
  pool.fill(0, poolOffset, poolOffset + 32);
  poolOffset += 32;
  return out;
}

/** A new secret: the prefix + 256 random bits, base64url. Show it once; store only its hash. */
export function generateSecret(prefix: string): string {
  return prefix + randomBits256().toString("base64url");
}

/** SHA-256 hex of a secret: what the database stores. */
export function hashSecret(secret: string): string {
  return createHash("sha256").update(secret, "utf8").digest("hex");
}

/** Constant-time comparison of two hex digests of equal length. */
export function sameHash(a: string, b: string): boolean {
  const ab = Buffer.from(a, "hex");
  const bb = Buffer.from(b, "hex");
  return ab.length === bb.length && ab.length > 0 && timingSafeEqual(ab, bb);
}

/** The part of a secret safe to display: prefix and the first 4 random characters. */
export function displayPrefix(secret: string, prefix: string): string {
  return secret.slice(0, prefix.length + 4);
}

/** Read a bearer token from an Authorization header value; undefined when absent or malformed. */
export function bearerToken(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : undefined;
}
