import { isIP } from "node:net";
import { z } from "zod";

/**
 * Where a browser may be sent with something worth stealing (an OAuth code, a signed-in landing
 * page): `https:`, or `http:` on the loopback interface only (RFC 8252 §7.3 native apps, local
 * development). Refused: `javascript:`, `data:`, `file:`, `vbscript:` and every other scheme,
 * plain `http:` on other hosts (the code would cross the network in clear, RFC 6749 §3.1.2.1),
 * credentials in the URL and wildcards (entries are matched exactly or by path prefix, so a
 * `*` means something other than what its author thought).
 */
export function redirectTargetProblem(raw: string): string | undefined {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return "must be an absolute URL";
  }
  if (u.protocol !== "https:" && !(u.protocol === "http:" && isLoopbackHost(u.hostname)))
    return "must be an https URL (http is allowed only for 127.0.0.1, [::1] and localhost)";
  if (u.username || u.password) return "must not contain credentials (user:password@)";
  if (raw.includes("*")) return "must not contain wildcards (*): list each URL exactly";
  return undefined;
}

/** Whether a URL's hostname is the loopback interface: 127.0.0.0/8, ::1 or localhost. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

/** A zod schema for a redirect target (the message names the rule broken). */
export const redirectTargetUrl = z
  .string()
  .trim()
  .max(2048)
  .superRefine((v, ctx) => {
    const problem = redirectTargetProblem(v);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  });
