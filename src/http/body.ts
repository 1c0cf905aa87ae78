import type { RequestHandler } from "express";
import { ScimError } from "./errors.js";

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

/**
 * JSON body parser for the API and SCIM (RFC 7644 §3.1: application/scim+json, plain JSON
 * accepted too), mounted after authentication so strangers' bodies are never read. Lean on
 * purpose: it runs on every SCIM write. Over the limit → 413 (read stops at once); malformed
 * → 400 invalidSyntax; a body that is not a JSON object or array → 400; other charsets → 415.
 */
export function jsonBody(limitBytes: number): RequestHandler {
  return (req, _res, next) => {
    const type = req.headers["content-type"];
    if (req.method === "GET" || req.method === "HEAD" || !type || !JSON_TYPE.test(type)) return next();
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
      try {
        const body = JSON.parse(text);
        if (body === null || typeof body !== "object") throw new SyntaxError("not an object");
        req.body = body;
      } catch {
        return next(ScimError.of("invalidSyntax", "Request body is not valid JSON", "INVALID_JSON"));
      }
      next();
    });
  };
}

function tooLarge(limit: number) {
  return ScimError.status(413, `Request body exceeds the limit of ${limit} bytes`, "PAYLOAD_TOO_LARGE");
}
