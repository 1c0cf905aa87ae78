import { createHmac, timingSafeEqual } from "node:crypto";
import { WebhookVerificationError } from "./errors.js";
import type { RosterEvent } from "./types.js";

export interface VerifyWebhookOptions {
  /** Largest allowed distance between the header's timestamp and now, seconds (default 300). */
  toleranceSeconds?: number;
  /** Now, unix seconds (tests). */
  now?: number;
}

/**
 * Verify a webhook delivery's `Roster-Signature` header (`t=<unix s>,v1=<hex>[,v1=<hex>]`,
 * `v1 = HMAC-SHA256(secret, "<t>.<raw body>")`) and return the parsed event.
 *
 * - `rawBody`: the bytes received, not re-serialised JSON (Express: `express.raw({type: "application/json"})`).
 * - `secrets`: every secret you hold for the endpoint; during a rotation keep both the new and
 *   the previous one (Roster signs with both until the grace period ends; either matching is enough).
 * - Refuses a timestamp more than `toleranceSeconds` from now (a replayed old request) and any
 *   body no v1 matches. Every candidate is compared in constant time, and all of them are
 *   compared whatever matched, so timing says nothing about which secret or byte differed.
 *
 * Throws `WebhookVerificationError` (`reason`: malformed | stale | signature). Delivery is at
 * least once: deduplicate on the returned event's `id`.
 */
export function verifyWebhook(
  rawBody: string | Uint8Array,
  signatureHeader: string | null | undefined,
  secrets: string | readonly string[],
  options: VerifyWebhookOptions = {},
): RosterEvent {
  const tolerance = options.toleranceSeconds ?? 300;
  const now = options.now ?? Math.floor(Date.now() / 1000);
  const keys = (typeof secrets === "string" ? [secrets] : [...secrets]).filter((s) => s.length > 0);
  if (!keys.length) throw new TypeError("verifyWebhook: give at least one webhook secret");
  const parts = (signatureHeader ?? "").split(",").map((p) => {
    const i = p.indexOf("=");
    return i < 0 ? ["", ""] : [p.slice(0, i).trim(), p.slice(i + 1).trim()];
  });
  const tValues = parts.filter(([k]) => k === "t");
  const t = tValues.length === 1 && /^\d{1,12}$/.test(tValues[0][1]) ? Number(tValues[0][1]) : Number.NaN;
  const signatures = parts.filter(([k, v]) => k === "v1" && /^[0-9a-f]{64}$/i.test(v)).map(([, v]) => v);
  if (!Number.isFinite(t) || !signatures.length)
    throw new WebhookVerificationError("malformed", "Roster-Signature header missing or malformed");
  if (Math.abs(now - t) > tolerance)
    throw new WebhookVerificationError("stale", `signature timestamp is more than ${tolerance} s from now`);
  const body = typeof rawBody === "string" ? Buffer.from(rawBody, "utf8") : Buffer.from(rawBody);
  let matched = false;
  for (const secret of keys) {
    const expected = createHmac("sha256", secret).update(`${t}.`, "utf8").update(body).digest();
    for (const sig of signatures) {
      // No early exit: every pair is compared (constant time per pair, same number of pairs).
      if (timingSafeEqual(Buffer.from(sig, "hex"), expected)) matched = true;
    }
  }
  if (!matched) throw new WebhookVerificationError("signature", "no signature matches a known secret");
  return JSON.parse(body.toString("utf8")) as RosterEvent;
}
