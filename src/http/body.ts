import type { IncomingMessage } from "node:http";
import type { RequestHandler } from "express";
import { AppError, ScimError, type ScimType } from "./errors.js";
import { findBadString, formatPath, type JsonPath, MAX_JSON_DEPTH, scanJson } from "./input-guard.js";

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/** Options of a JSON body parser. */
export interface JsonBodyOptions {
  /** The media types to name in a 415 (SCIM: application/scim+json or application/json). */
  mediaTypes?: string;
}

/**
 * JSON body parser for the API and SCIM (RFC 7644 §3.1: application/scim+json, plain JSON
 * accepted too), mounted after authentication so strangers' bodies are never read. Lean on
 * purpose: it runs on every SCIM write. Over the limit → 413 (read stops at once); a body of
 * another media type → 415 naming the one to send (a form or text/plain used to be ignored and
 * every field reported missing); deeper than MAX_JSON_DEPTH → 400 before parsing; malformed → 400
 * invalidSyntax; a body that is not a JSON object or array → 400; other charsets → 415; a NUL or
 * an unpaired surrogate in any string or key → 400 naming where (see input-guard.ts).
 */
export function jsonBody(limitBytes: number, options: JsonBodyOptions = {}): RequestHandler {
  const mediaTypes = options.mediaTypes ?? "application/json";
  return (req, _res, next) => {
    if (req.method === "GET" || req.method === "HEAD") return next();
    const type = req.headers["content-type"];
    if (!type || !JSON_TYPE.test(type)) {
      // No body (a POST that only triggers an action, a DELETE): nothing to parse or refuse.
      if (!hasBody(req)) return next();
      return next(
        ScimError.status(
          415,
          `Send the request body as JSON with Content-Type: ${mediaTypes} (got ${type ? type.split(";")[0].trim() : "no Content-Type"})`,
          "UNSUPPORTED_MEDIA_TYPE",
        ),
      );
    }
    const charset = /;\s*charset=["']?([\w-]+)/i.exec(type)?.[1]?.toLowerCase();
    if (charset && charset !== "utf-8" && charset !== "utf8") {
      return next(ScimError.status(415, `Unsupported charset ${charset}: send UTF-8`));
    }
    const declared = Number(req.headers["content-length"]);
    if (declared > limitBytes) return next(tooLarge(limitBytes));
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limitBytes) {
        failed = true;
        req.pause();
        next(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on("error", () => {
      if (!failed) {
        failed = true;
        next(ScimError.status(400, "Request aborted"));
      }
    });
    req.on("end", () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString("utf8");
      if (text.trim() === "") return next();
      const scan = scanJson(text);
      if (scan.tooDeep) {
        return next(
          ScimError.of(
            "invalidSyntax",
            `Request body nests deeper than ${MAX_JSON_DEPTH} levels of objects and arrays`,
            "INVALID_JSON",
          ),
        );
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
        if (body === null || typeof body !== "object") throw new SyntaxError("not an object");
      } catch {
        return next(ScimError.of("invalidSyntax", "Request body is not valid JSON", "INVALID_JSON"));
      }
      const bad = scan.suspicious ? findBadString(body) : undefined;
      if (bad) return next(badStringError(bad.path, bad.problem));
      req.body = body;
      next();
    });
  };
}

/** Whether a request carries a body (RFC 9112 §6.3: a length above zero, or chunked). */
function hasBody(req: IncomingMessage): boolean {
  return req.headers["transfer-encoding"] !== undefined || Number(req.headers["content-length"]) > 0;
}

/** 400 naming where the refused string is; under /scim with the scimType its place calls for. */
function badStringError(path: JsonPath, problem: string): AppError {
  const field = formatPath(path) || "body";
  const message = `contains ${problem}: strings may not contain NUL characters or unpaired surrogates`;
  return new AppError(
    400,
    "VALIDATION_FAILED",
    `Invalid body: ${field} ${message}`,
    [{ field, message }],
    scimTypeAt(path),
  );
}

// RFC 7644 §3.12: a SearchRequest's filter → invalidFilter; a PATCH operation's path → invalidPath.
function scimTypeAt(path: JsonPath): ScimType {
  const last = path.at(-1);
  if (typeof last !== "string") return "invalidValue";
  if (path.length === 1 && last.toLowerCase() === "filter") return "invalidFilter";
  if (path.length >= 3 && last.toLowerCase() === "path" && typeof path.at(-2) === "number")
    return "invalidPath";
  return "invalidValue";
}

function tooLarge(limit: number) {
  return ScimError.status(413, `Request body exceeds the limit of ${limit} bytes`, "PAYLOAD_TOO_LARGE");
}
