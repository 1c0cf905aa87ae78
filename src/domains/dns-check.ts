import { Resolver } from "node:dns/promises";

/** The DNS name an admin publishes the challenge at. */
export const challengeName = (domain: string) => `_roster-challenge.${domain}`;

/** What one look-up found. */
export type CheckResult =
  /** A TXT record at the challenge name equals the expected value. */
  | "found"
  /** The name exists with TXT records, but none is the expected value (changed, or another tenant's). */
  | "mismatch"
  /** No TXT record at the name (NXDOMAIN or no data). */
  | "missing"
  /** The resolver did not answer (timeout, SERVFAIL, refused): nothing is concluded from it. */
  | "dns_error";

/** DNS errors that mean "there is no such record" (node:dns codes); anything else is an outage. */
const ABSENT = new Set(["ENOTFOUND", "ENODATA"]);

/**
 * Look up `_roster-challenge.<domain>` TXT through real DNS (node:dns's c-ares resolver) on the
 * configured servers (ROSTER_DNS_SERVERS) or the system's. A TXT record arrives as chunks of at
 * most 255 bytes (RFC 1035 §3.3.14); they are joined before comparing. Only an exact match of a
 * whole record counts: a value inside a longer string is not proof.
 */
export async function checkChallenge(
  domain: string,
  expected: string,
  servers: readonly string[] | undefined,
): Promise<CheckResult> {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  if (servers?.length) resolver.setServers(servers);
  try {
    const records = await resolver.resolveTxt(challengeName(domain));
    return records.some((chunks) => chunks.join("").trim() === expected) ? "found" : "mismatch";
  } catch (err) {
    const code = (err as { code?: string }).code ?? "";
    return ABSENT.has(code) ? "missing" : "dns_error";
  } finally {
    resolver.cancel();
  }
}
