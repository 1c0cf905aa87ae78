import { isIPv6 } from "node:net";
import type { Request } from "express";

/**
 * The rate-limit key of the client address (`req.ip`, which honours ROSTER_TRUST_PROXY). An
 * IPv4 address as is; an IPv6 address by its /64, because one host is usually given a whole /64
 * and could otherwise take a fresh key for every request.
 */
export function addressKey(req: Request): string {
  let ip = req.ip ?? req.socket.remoteAddress ?? "unknown";
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) ip = mapped[1];
  if (!isIPv6(ip)) return ip;
  return `${expandIpv6(ip).slice(0, 4).join(":")}::/64`;
}

/** The eight groups of an IPv6 address (a trailing dotted IPv4 part counts as two). */
function expandIpv6(ip: string): string[] {
  const [head, tail] = ip.split("%")[0].split("::");
  const groups = (part: string | undefined) =>
    (part ? part.split(":") : []).flatMap((g) => {
      const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(g);
      if (!v4) return [g.toLowerCase()];
      const n = v4.slice(1).map(Number);
      return [((n[0] << 8) | n[1]).toString(16), ((n[2] << 8) | n[3]).toString(16)];
    });
  const h = groups(head);
  const t = groups(tail);
  const fill = tail === undefined ? [] : Array(8 - h.length - t.length).fill("0");
  return [...h, ...fill, ...t].map((g) => g.replace(/^0+(?=.)/, ""));
}
