import { redirectTargetProblem } from "../http/redirect-target.js";

/**
 * Where a browser may be sent after login: a same-origin relative path, or a URL on the
 * connection's allow-list (same origin, and the path equal to the entry's or under it when the
 * entry ends with "/"). Everything else (other hosts, "//host", "/\\host", javascript:) is refused:
 * return_to and RelayState are attacker-controlled (open redirect).
 */
export function isAllowedReturnUrl(target: string, publicUrl: string, allowList: string[]): boolean {
  if (target.length > 2048 || target.includes("\\") || hasControlCharacter(target)) return false;
  if (target.startsWith("/") && !target.startsWith("//")) {
    try {
      return new URL(target, publicUrl).origin === new URL(publicUrl).origin;
    } catch {
      return false;
    }
  }
  let u: URL;
  try {
    u = new URL(target);
  } catch {
    return false;
  }
  // The same rules as at save (https, loopback http, no credentials): entries saved before
  // they existed are skipped, not trusted.
  if (redirectTargetProblem(target)) return false;
  return allowList.some((entry) => {
    if (redirectTargetProblem(entry)) return false;
    let e: URL;
    try {
      e = new URL(entry);
    } catch {
      return false;
    }
    if (e.origin !== u.origin) return false;
    return e.pathname.endsWith("/") ? u.pathname.startsWith(e.pathname) : u.pathname === e.pathname;
  });
}

/** An allowed return URL made absolute (relative paths resolve against the public URL). */
export function absoluteReturnUrl(target: string, publicUrl: string): string {
  return new URL(target, `${publicUrl}/`).toString();
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20 || s.charCodeAt(i) === 0x7f) return true;
  return false;
}
