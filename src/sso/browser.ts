import { randomBytes } from "node:crypto";
import type { Request, Response } from "express";
import { readCookie, setCookie } from "./http-util.js";

/** The short-lived cookie that binds a started login (SAML or OpenID Connect) to this browser. */
export const REQUEST_COOKIE = "roster_sso_req";

/** This browser's binding nonce: its cookie's (several tabs share it) or a new one. */
export function browserNonce(req: Request): string {
  const existing = readCookie(req, REQUEST_COOKIE);
  return existing && /^[A-Za-z0-9_-]{43}$/.test(existing) ? existing : randomBytes(32).toString("base64url");
}

/**
 * Set (or refresh) the binding cookie. The SAML ACS POST comes cross-site from the IdP: SameSite=None
 * (needs Secure) or, on plain-http development hosts, no SameSite attribute (browsers allow a
 * top-level POST for 2 minutes). The OpenID Connect callback is a top-level GET, sent either way.
 */
export function setBrowserCookie(res: Response, nonce: string, secure: boolean): void {
  setCookie(res, REQUEST_COOKIE, nonce, {
    maxAgeSeconds: 600,
    path: "/sso/",
    secure,
    sameSite: secure ? "None" : undefined,
  });
}
