import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import { BlockList, isIP } from "node:net";

// Shared by webhook URL checks, webhook deliveries and IdP metadata fetching: one list of
// addresses never to reach.

/** The setting that lifts the address checks (development and tests): every refusal names it. */
export const ALLOW_PRIVATE_SETTING = "ROSTER_WEBHOOK_ALLOW_PRIVATE";

/** The sentence every refusal of an internal address ends with. */
export const ALLOW_PRIVATE_HINT = `refused unless ${ALLOW_PRIVATE_SETTING}=true (for development only)`;

// Targets a tenant admin must not reach: the operator's own network (SSRF). RFC 1918 private,
// RFC 6598 shared (CGNAT), loopback, link-local (cloud metadata at 169.254.169.254), "this"
// network, IETF protocol assignments, benchmarking, multicast and reserved.
const blocked4 = new BlockList();
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
  blocked4.addSubnet(net, bits, "ipv4");

// IPv6 ranges blocked outright: unspecified, loopback, ULA (RFC 4193), link-local, site-local
// (fec0::/10, deprecated by RFC 3879 but still routed inside some networks), multicast, the
// discard prefix (RFC 6666), and the local-use NAT64 prefix 64:ff9b:1::/48 (RFC 8215: the
// operator picks where the IPv4 address sits in it, so it cannot be decoded reliably, and it
// exists to translate to the operator's own IPv4 networks).
const blocked6 = new BlockList();
for (const [net, bits] of [
  ["::", 128],
  ["::1", 128],
  ["fc00::", 7],
  ["fe80::", 10],
  ["fec0::", 10],
  ["ff00::", 8],
  ["100::", 64],
  ["64:ff9b:1::", 48],
] as const)
  blocked6.addSubnet(net, bits, "ipv6");

/**
 * The 16 bytes of an IPv6 address (zone id ignored), or undefined when it is not one. Accepts
 * every textual form: `::` compression, hex groups, and a trailing dotted IPv4 (`::1.2.3.4`).
 */
export function ipv6Bytes(ip: string): Uint8Array | undefined {
  const text = ip.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (isIP(text) !== 6) return undefined;
  let head = text;
  const tail: number[] = [];
  const dotted = /(?:^|:)(\d+\.\d+\.\d+\.\d+)$/.exec(head);
  if (dotted) {
    const octets = dotted[1].split(".").map(Number);
    tail.push((octets[0] << 8) | octets[1], (octets[2] << 8) | octets[3]);
    head = head.slice(0, head.length - dotted[1].length);
    if (head.endsWith(":") && !head.endsWith("::")) head = head.slice(0, -1);
  }
  const [left, right] = head.includes("::") ? head.split("::") : [head, undefined];
  const groups = (s: string | undefined) => (s ? s.split(":").map((g) => Number.parseInt(g, 16)) : []);
  const l = groups(left);
  const r = [...groups(right), ...tail];
  const fill = right === undefined ? [] : new Array(8 - l.length - r.length).fill(0);
  const all = right === undefined ? [...l, ...tail] : [...l, ...fill, ...r];
  if (all.length !== 8) return undefined;
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

const v4 = (b: Uint8Array, at: number, xor = 0) => [0, 1, 2, 3].map((i) => b[at + i] ^ xor).join(".");
const isZero = (b: Uint8Array, from: number, to: number) => b.subarray(from, to).every((x) => x === 0);

/**
 * The IPv4 addresses an IPv6 address carries and that a packet to it may end up at: mapped
 * (`::ffff:a.b.c.d`, RFC 4291), compatible (`::a.b.c.d`, the deprecated `::/96`), SIIT
 * (`::ffff:0:a.b.c.d`, RFC 2765), NAT64 well-known prefix (`64:ff9b::/96`, RFC 6052), 6to4
 * (`2002:AABB:CCDD::/48`, RFC 3056: bits 16–47) and Teredo (`2001:0::/32`, RFC 4380: the
 * server's IPv4 in bits 32–63, the client's in the last 32 bits XORed with 0xffffffff).
 */
export function embeddedIpv4(b: Uint8Array): string[] {
  if (isZero(b, 0, 10) && b[10] === 0xff && b[11] === 0xff) return [v4(b, 12)];
  if (isZero(b, 0, 12)) return [v4(b, 12)];
  if (isZero(b, 0, 8) && b[8] === 0xff && b[9] === 0xff && isZero(b, 10, 12)) return [v4(b, 12)];
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && isZero(b, 4, 12))
    return [v4(b, 12)];
  if (b[0] === 0x20 && b[1] === 0x02) return [v4(b, 2)];
  if (b[0] === 0x20 && b[1] === 0x01 && b[2] === 0x00 && b[3] === 0x00) return [v4(b, 4), v4(b, 12, 0xff)];
  return [];
}

/**
 * Whether an IP address is loopback, private, link-local or otherwise internal; IPv6 forms that
 * carry an IPv4 address are judged by that address too. Anything that is not an IP address
 * counts as internal.
 */
export function isPrivateAddress(ip: string): boolean {
  const text = ip.replace(/^\[|\]$/g, "");
  const family = isIP(text.replace(/%.*$/, ""));
  if (family === 4) return blocked4.check(text, "ipv4");
  if (family !== 6) return true;
  // A zone id (fe80::1%eth0) only ever names a link-local scope.
  if (text.includes("%")) return true;
  const bytes = ipv6Bytes(text);
  if (!bytes) return true;
  if (blocked6.check(text, "ipv6")) return true;
  return embeddedIpv4(bytes).some((a) => blocked4.check(a, "ipv4"));
}

/** The host of a URL as an IP literal (brackets removed), or undefined when it is a name. */
export function ipLiteralHost(url: URL): string | undefined {
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return isIP(host) ? host : undefined;
}

type LookupCallback = (
  err: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A DNS lookup for http(s).request's `lookup` option that refuses private addresses at connect
 * time: the address checked is the address connected to, so a hostname that resolves (or
 * re-resolves, DNS rebinding) to 127.0.0.1 or 169.254.169.254 is never contacted. Node skips
 * `lookup` for IP-literal hosts: check those with isPrivateAddress first (ipLiteralHost).
 */
export function publicOnlyLookup(hostname: string, options: object, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, "");
    const list = addresses as LookupAddress[];
    const bad = list.find((a) => isPrivateAddress(a.address));
    if (bad || list.length === 0) {
      const e: NodeJS.ErrnoException = new Error(
        `${hostname} resolves to a loopback, private or link-local address (${bad?.address ?? "none"}): ${ALLOW_PRIVATE_HINT}`,
      );
      e.code = "EPRIVATE";
      return callback(e, "");
    }
    if ((options as { all?: boolean }).all) return callback(null, list);
    callback(null, list[0].address, list[0].family);
  });
}
