import { createHmac, timingSafeEqual } from "node:crypto";

/** hex HMAC-SHA256(secret, "<t>.<body>"). */
export function sign(secret: string, t: number, body: string): string {
  return createHmac("sha256", secret).update(`${t}.${body}`, "utf8").digest("hex");
}

/**
 * The `Roster-Signature` header: `t=<unix seconds>,v1=<hex>`, with a second `v1=` signed by the
 * previous secret while a rotation's grace period runs (Stripe's scheme: a receiver accepts the
 * request when any v1 matches a secret it knows).
 */
export function signatureHeader(secrets: string[], t: number, body: string): string {
  return [`t=${t}`, ...secrets.map((s) => `v1=${sign(s, t, body)}`)].join(",");
}

/**
 * Verify a `Roster-Signature` header as a receiver should: a v1 matches (constant time) and
 * the timestamp is within `toleranceSec` of now (a replayed old request is refused).
 */
export function verifySignature(
  secret: string,
  header: string,
  body: string,
  nowSec = Math.floor(Date.now() / 1000),
  toleranceSec = 300,
): boolean {
  const parts = header.split(",").map((p) => p.trim().split("="));
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  if (!Number.isInteger(t) || Math.abs(nowSec - t) > toleranceSec) return false;
  const expected = Buffer.from(sign(secret, t, body), "hex");
  return parts
    .filter(([k]) => k === "v1")
    .some(([, v]) => {
      const got = Buffer.from(v ?? "", "hex");
      return got.length === expected.length && timingSafeEqual(got, expected);
    });
}
