import type { ErrorRequestHandler, Request, RequestHandler } from "express";
import type { Logger } from "pino";
import { AppError, ScimError } from "./errors.js";

/** RFC 7644 §3.12 error body; `status` is a string. */
export function scimErrorBody(status: number, detail: string, scimType?: string) {
  return {
    schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
    status: String(status),
    ...(scimType ? { scimType } : {}),
    detail,
  };
}

function isScimRequest(req: Request): boolean {
  return req.originalUrl.startsWith("/scim/");
}

const ADMIN_CODES: Record<number, string> = {
  400: "INVALID_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  412: "PRECONDITION_FAILED",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  429: "RATE_LIMITED",
  501: "NOT_IMPLEMENTED",
};

/**
 * The one place errors become responses: SCIM errors under /scim, `{ error: { code, message } }`
 * elsewhere. Unknown errors are logged and answered 500, never 404.
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    let status = 500;
    let code = "INTERNAL";
    let message = "Internal server error";
    let scimType: string | undefined;
    let details: unknown;
    if (err instanceof ScimError) {
      status = err.status;
      scimType = err.scimType;
      message = err.message;
      code = err.code ?? ADMIN_CODES[status] ?? "INVALID_REQUEST";
    } else if (err instanceof AppError) {
      status = err.status;
      code = err.code;
      message = err.message;
      details = err.details;
      scimType = err.scimType;
    } else {
      const log = req.log ?? logger;
      log.error({ err }, "unhandled error");
    }
    if (res.headersSent) return;
    if (status === 401 && !res.get("WWW-Authenticate"))
      res.set("WWW-Authenticate", isScimRequest(req) ? 'Bearer realm="scim"' : 'Bearer realm="admin"');
    if (isScimRequest(req)) {
      res
        .status(status)
        .type("application/scim+json")
        .send(JSON.stringify(scimErrorBody(status, message, scimType)));
      return;
    }
    res.status(status).json({ error: { code, message, ...(details ? { details } : {}) } });
  };
}

/** Unknown routes: 404 in the dialect of the path. */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  next(
    isScimRequest(req)
      ? ScimError.status(404, `No SCIM endpoint at ${req.method} ${req.path}`)
      : new AppError(404, "NOT_FOUND", `No route for ${req.method} ${req.path}`),
  );
};
