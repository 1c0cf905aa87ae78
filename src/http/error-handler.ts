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

// RFC 6749 §5.2: OAuth endpoints answer errors as {"error", "error_description"}.
function isOAuthRequest(req: Request): boolean {
  return req.originalUrl.startsWith("/oauth/") || req.originalUrl.startsWith("/.well-known/");
}

const ADMIN_CODES: Record<number, string> = {
  400: "INVALID_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  405: "METHOD_NOT_ALLOWED",
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
    if (status === 405 && err instanceof AppError && Array.isArray(err.details))
      res.set("Allow", (err.details as string[]).join(", "));
    if (status === 401 && !res.get("WWW-Authenticate"))
      res.set("WWW-Authenticate", isScimRequest(req) ? 'Bearer realm="scim"' : 'Bearer realm="admin"');
    if (isScimRequest(req)) {
      res
        .status(status)
        .type("application/scim+json")
        .send(JSON.stringify(scimErrorBody(status, message, scimType)));
      return;
    }
    if (isOAuthRequest(req)) {
      const error = status >= 500 ? "server_error" : "invalid_request";
      res.status(status).set("Cache-Control", "no-store").json({ error, error_description: message });
      return;
    }
    res.status(status).json({ error: { code, message, ...(details && status !== 405 ? { details } : {}) } });
  };
}

/**
 * Unknown routes: 404 in the dialect of the path; a path that exists with other methods: 405
 * with `Allow` (RFC 9110 §15.5.6), e.g. DELETE /scim/v2/Users → Allow: GET, HEAD, POST.
 */
export const notFoundHandler: RequestHandler = (req, _res, next) => {
  const allowed = allowedMethods(req.app.router as unknown as RouterLike, req.path);
  if (allowed.length) {
    const message = `${req.method} is not allowed on ${req.path}; use ${allowed.join(", ")}`;
    // details carries the Allow list to the error handler (sent as the header, not in the body).
    return next(new AppError(405, "METHOD_NOT_ALLOWED", message, allowed));
  }
  next(
    isScimRequest(req)
      ? ScimError.status(404, `No SCIM endpoint at ${req.method} ${req.path}`)
      : new AppError(404, "NOT_FOUND", `No route for ${req.method} ${req.path}`),
  );
};

/** What allowedMethods reads of Express 5's router (router@2): its layers and their routes. */
interface RouterLike {
  stack: Array<{
    match(path: string): { path: string } | false;
    route?: { methods: Record<string, boolean> };
    handle: unknown;
  }>;
}

/**
 * The methods some route answers on this path, walking the app's routers (mounted routers
 * recursively, with the mount prefix removed as Express does). Layer.match only reads (router
 * 2.x returns the match instead of storing it on the layer).
 */
function allowedMethods(router: RouterLike, path: string): string[] {
  const found = new Set<string>();
  const visit = (r: RouterLike, p: string) => {
    for (const layer of r.stack) {
      let m: { path: string } | false;
      try {
        m = layer.match(p);
      } catch {
        continue; // a malformed escape in a parameter (urlGuard answers those first)
      }
      if (!m) continue;
      if (layer.route) {
        for (const [method, on] of Object.entries(layer.route.methods)) {
          if (!on) continue;
          if (method === "_all") return void found.add("*");
          found.add(method.toUpperCase());
          if (method === "get") found.add("HEAD");
        }
      } else if (Array.isArray((layer.handle as Partial<RouterLike>)?.stack)) {
        const rest = p.slice(m.path.length);
        visit(layer.handle as RouterLike, rest.startsWith("/") ? rest : `/${rest}`);
      }
    }
  };
  visit(router, path);
  if (found.has("*")) return [];
  return [...found].sort();
}
