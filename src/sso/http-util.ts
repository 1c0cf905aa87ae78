import type { Request, RequestHandler, Response } from "express";
import { AppError } from "../http/errors.js";
import { findBadString } from "../http/input-guard.js";

/** Requests whose form body was read (a stream is read once). */
const formsRead = new WeakSet<Request>();

/**
 * Form body parser for the public SSO and OAuth endpoints (no body parser is mounted before
 * them): application/x-www-form-urlencoded only, read up to `limitBytes` (413 beyond). The
 * values land in req.body as a flat string map (repeated keys keep the first value).
 */
export function formBody(limitBytes: number, opts: { refuseBadStrings?: boolean } = {}): RequestHandler {
  return (req, _res, next) => {
    // Read already (the rate limiter reads /oauth/token's form to find the client's tenant).
    if (formsRead.has(req)) return next();
    formsRead.add(req);
    const type = req.headers["content-type"] ?? "";
    req.body = {};
    if (!/^application\/x-www-form-urlencoded\s*(;|$)/i.test(type)) return next();
    if (Number(req.headers["content-length"]) > limitBytes) return next(tooLarge(limitBytes));
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (c: Buffer) => {
      if (failed) return;
      size += c.length;
      if (size > limitBytes) {
        failed = true;
        req.pause();
        return next(tooLarge(limitBytes));
      }
      chunks.push(c);
    });
    req.on("error", () => {
      if (!failed) {
        failed = true;
        next(new AppError(400, "INVALID_REQUEST", "Request aborted"));
      }
    });
    req.on("end", () => {
      if (failed) return;
      const out: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(Buffer.concat(chunks).toString("utf8")))
        if (!(k in out)) out[k] = v;
      // As for JSON bodies (src/http/input-guard.ts): a NUL is refused here, for the forms whose
      // fields are stored (the console); PostgreSQL would refuse it later with a 500 where SQLite
      // stores it. The OAuth and SAML endpoints answer in their own protocol's words instead
      // (e.g. RFC 6749 invalid_client for a client_id no client can have).
      const bad = opts.refuseBadStrings ? findBadString(out) : undefined;
      if (bad)
        return next(
          new AppError(
            400,
            "INVALID_REQUEST",
            `Form field ${String(bad.path[0] ?? "")} contains ${bad.problem}`,
          ),
        );
      req.body = out;
      next();
    });
  };
}

function tooLarge(limit: number) {
  return new AppError(413, "PAYLOAD_TOO_LARGE", `Request body exceeds the limit of ${limit} bytes`);
}

/** One cookie's value from the Cookie header, or undefined. */
export function readCookie(req: Request, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i < 0) continue;
    if (part.slice(0, i).trim() === name) {
      const v = part.slice(i + 1).trim();
      try {
        return decodeURIComponent(v);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/** Cookie attributes. */
export interface CookieOptions {
  maxAgeSeconds: number;
  path?: string;
  secure: boolean;
  sameSite?: "Lax" | "Strict" | "None";
}

/** Append a Set-Cookie header (HttpOnly always). */
export function setCookie(res: Response, name: string, value: string, o: CookieOptions): void {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    `Path=${o.path ?? "/"}`,
    `Max-Age=${o.maxAgeSeconds}`,
    "HttpOnly",
  ];
  if (o.secure) parts.push("Secure");
  if (o.sameSite) parts.push(`SameSite=${o.sameSite}`);
  res.append("Set-Cookie", parts.join("; "));
}

/** A query parameter as a single string, or undefined. */
export function queryString(req: Request, name: string): string | undefined {
  const v = (req.query as Record<string, unknown>)[name];
  return typeof v === "string" ? v : undefined;
}
