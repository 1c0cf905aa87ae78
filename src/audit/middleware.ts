import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { Deps } from "../deps.js";
import type { AdminIdentity } from "../tenants/admin-keys.js";
import { findTenantBySlug } from "../tenants/store.js";
import { ADMIN_ACTIONS, type AuditSpec, READ_ONLY } from "./actions.js";
import { summariseChanges } from "./changes.js";
import { recordAudit } from "./record.js";
import type { AuditActor } from "./store.js";

/**
 * The hook for other doors (the console): a handler that sets `res.locals.actor` before this
 * middleware runs is recorded as that actor (`{kind: "setup_link" | "console_user", id, name}`)
 * instead of the admin credential.
 */
export interface AuditLocals {
  actor?: AuditActor;
  admin?: AdminIdentity;
}

interface Compiled {
  method: string;
  pattern: string;
  regex: RegExp;
  names: string[];
  spec: AuditSpec | typeof READ_ONLY;
}

function compile(): Compiled[] {
  return Object.entries(ADMIN_ACTIONS).map(([key, spec]) => {
    const [method, pattern] = key.split(" ");
    const names: string[] = [];
    const source = pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/:(\w+)/g, (_m, n: string) => {
      names.push(n);
      return "([^/]+)";
    });
    return { method, pattern, regex: new RegExp(`^${source}/?$`), names, spec };
  });
}

function match(table: Compiled[], method: string, path: string) {
  for (const c of table) {
    if (c.method !== method) continue;
    const m = c.regex.exec(path);
    if (!m) continue;
    const params: Record<string, string> = {};
    c.names.forEach((n, i) => {
      try {
        params[n] = decodeURIComponent(m[i + 1]);
      } catch {
        params[n] = m[i + 1];
      }
    });
    return { spec: c.spec, params };
  }
  return undefined;
}

/** The actor of an admin request: what the console set, else the admin credential. */
export function actorOf(res: Response): AuditActor {
  const locals = res.locals as AuditLocals;
  if (locals.actor) return locals.actor;
  const admin = locals.admin;
  if (admin?.kind === "admin_key")
    return { kind: "admin_key", id: admin.id ?? null, name: admin.name ?? null };
  return { kind: "admin_token", id: null, name: "ROSTER_ADMIN_TOKEN" };
}

/**
 * Audit every admin action (issue 18), mounted once after adminAuth for all of /admin/v1: a
 * request that is not a read is matched against ADMIN_ACTIONS; its tenant and the target's
 * state before are read first (a deleted tenant is gone after), and once the route answered
 * 2xx/3xx the entry is appended (src/audit/record.ts) before the answer leaves, so an action
 * the client saw succeed is in the log. A failed request changed nothing and is not recorded.
 * (The entry commits just after the action's own transaction: a crash between the two loses the
 * entry, never the reverse.)
 */
export function auditAdminActions(deps: Deps): RequestHandler {
  const table = compile();
  return async (req: Request, res: Response, next: NextFunction) => {
    if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") return next();
    const found = match(table, req.method, req.path);
    if (found?.spec === READ_ONLY) return next();
    const params = found?.params ?? {};
    const spec: AuditSpec = found?.spec ?? {
      action: `${req.method} ${req.path}`.slice(0, 64),
      target: "unknown",
    };
    const tenant = params.slug ? await findTenantBySlug(deps.db, params.slug) : undefined;
    // Unknown tenant: the route answers 404 and nothing happened.
    if (params.slug && !tenant) return next();
    const before = spec.before ? await spec.before(deps, params).catch(() => undefined) : undefined;
    holdAnswer(res, next, async (answer) => {
      if (res.statusCode >= 400) return;
      const body = answer && typeof answer === "object" ? (answer as Record<string, unknown>) : undefined;
      const created = !spec.param && res.statusCode === 201;
      const requestFields =
        req.body && typeof req.body === "object" && !Array.isArray(req.body) ? Object.keys(req.body) : [];
      const changes = spec.before
        ? summariseChanges(before, body, requestFields)
        : created
          ? summariseChanges(undefined, body)
          : summariseChanges(undefined, req.body);
      const targetId = spec.param ? params[spec.param] : typeof body?.id === "string" ? body.id : null;
      const tenantId = tenant?.id ?? (spec.action === "tenant.created" ? (body?.id as string) : null) ?? null;
      const tenantSlug =
        tenant?.slug ?? (spec.action === "tenant.created" ? (body?.slug as string) : null) ?? null;
      await recordAudit(deps, {
        tenantId,
        tenantSlug,
        at: deps.now().toISOString(),
        actor: actorOf(res),
        action: spec.action,
        targetType: spec.target,
        targetId: targetId ? targetId.slice(0, 200) : null,
        changes,
        sourceIp: (req.ip ?? req.socket.remoteAddress ?? null)?.slice(0, 64) ?? null,
        requestId: req.id,
      });
    });
    next();
  };
}

/**
 * Hold the route's answer until `work` (given the JSON body, if any) is done, then send it; if
 * `work` fails, the error handler answers instead (500: the action happened, its record did not).
 */
function holdAnswer(res: Response, next: NextFunction, work: (answer: unknown) => Promise<void>): void {
  const json = res.json;
  const end = res.end;
  let answer: unknown;
  res.json = function (this: Response, body: unknown) {
    answer = body;
    return json.call(this, body);
  };
  res.end = function (this: Response, ...args: unknown[]) {
    res.end = end;
    res.json = json;
    work(answer).then(
      () => (end as (...a: unknown[]) => Response).apply(res, args),
      (err) => {
        // The headers of the held answer are not sent yet: the error handler may still answer.
        res.removeHeader("Content-Length");
        res.removeHeader("Content-Type");
        next(err);
      },
    );
    return res;
  } as Response["end"];
}
