import { lookup } from "node:dns/promises";
import { BlockList, isIP } from "node:net";
import { AppError } from "../http/errors.js";

// Targets a tenant admin must not reach: the operator's own network (SSRF). RFC 1918 private,
// RFC 6598 shared (CGNAT), loopback, link-local (cloud metadata at 169.254.169.254), "this"
// network, multicast and reserved; IPv6 loopback, unspecified, ULA (RFC 4193), link-local, multicast.
const blocked = new BlockList();
for (const [net, bits] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["224.0.0.0", 4],
  ["240.0.0.0", 4],
] as const)
  blocked.addSubnet(net, bits, "ipv4");
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["ff00::", 8],
] as const)
  blocked.addSubnet(net, bits, "ipv6");

/** Whether an IP address is loopback, private, link-local or otherwise internal. */
export function isPrivateAddress(ip: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return isPrivateAddress(mapped[1]);
  const family = isIP(ip);
  if (family === 0) return true;
  return blocked.check(ip, family === 4 ? "ipv4" : "ipv6");
}

const invalid = (message: string) =>
  new AppError(400, "INVALID_WEBHOOK_URL", message, [{ field: "url", message }]);

/**
 * Refuse webhook URLs that are not http(s) or whose host resolves (every address, so a
 * round-robin name cannot slip one through) to an internal address, unless the operator
 * allows private networks (ROSTER_WEBHOOK_ALLOW_PRIVATE, for development and tests).
 */
export async function assertWebhookUrl(raw: string, allowPrivateNetwork: boolean): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid("must be an absolute URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw invalid("must be an http(s) URL");
  if (url.username || url.password) throw invalid("must not carry credentials");
  if (allowPrivateNetwork) return url;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  let addresses: string[];
  try {
    addresses = isIP(host)
      ? [host]
      : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    throw invalid(`host '${host}' does not resolve`);
  }
  if (addresses.length === 0 || addresses.some(isPrivateAddress))
    throw invalid(`host '${host}' resolves to a loopback, private or link-local address`);
  return url;
}
