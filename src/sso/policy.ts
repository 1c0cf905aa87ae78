import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { z } from "zod";
import { recordEvents } from "../events/outbox.js";
import { AppError, conflict } from "../http/errors.js";
import { parseInput } from "../http/validate.js";
import type { JobRegistry } from "../jobs/registry.js";
import { listConnections } from "./saml/connection-store.js";
import { requireTenant } from "../tenants/use-cases.js";
import type { Tenant } from "../tenants/store.js";
import * as store from "./policy-store.js";
import { listRoutedDomains } from "../domains/store.js";
import { findOidcConnection } from "./oidc/connection-store.js";

/** What the policy use cases need. */
export interface PolicyDeps {
  db: Knex;
  now: () => Date;
  jobs: JobRegistry;
}

const DAY = 86_400_000;
/** A connection's last successful test login must be this recent to turn "Require SSO" on. */
export const TEST_FRESH_DAYS = 30;
/** Break-glass accounts a tenant may name. */
export const MAX_BREAK_GLASS = 10;
/** The job that records a break-glass window's expiry (the window closes by itself regardless). */
export const BREAK_GLASS_EXPIRE_JOB = "break-glass-expire";

/** An e-mail as policies store it: trimmed, lower case, one @, at most 320 characters (RFC 5321 §4.5.3.1). */
export const emailSchema = z
  .string()
  .trim()
  .max(320)
  .toLowerCase()
  .regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/, "must be an e-mail address");

/** Body of PUT …/sso-policy. */
export const putPolicyInput = z
  .object({
    requireSso: z.boolean(),
    breakGlass: z.array(emailSchema).max(MAX_BREAK_GLASS).optional(),
  })
  .strict();

/** Body of POST …/sso-policy/break-glass/arm. */
export const armInput = z
  .object({
    email: emailSchema,
    minutes: z.number().int().min(1).max(60),
    reason: z.string().trim().min(1).max(1000),
  })
  .strict();

/** Body of POST …/sso-policy/break-glass/disarm. */
export const disarmInput = z.object({ email: emailSchema }).strict();

const refuse = (code: string, message: string) => new AppError(409, code, message, { reason: code });

/**
 * The tenant's enabled connections of either protocol, with their last successful test and the
 * verified domains that route to them (the routing discover follows: domains naming no
 * connection go to the default SAML connection when enabled, else to OpenID Connect).
 */
async function enabledConnections(deps: PolicyDeps, tenant: Tenant) {
  const saml = await listConnections(deps.db, tenant.id);
  const samlDefaultEnabled = saml.some((c) => c.isDefault && c.state === "enabled");
  const out = saml
    .filter((c) => c.state === "enabled")
    .map((c) => ({
      testedAt: c.testedAt,
      domains: () => listRoutedDomains(deps.db, tenant.id, c.id, c.isDefault, true),
    }));
  const oidc = await findOidcConnection(deps.db, tenant.id);
  if (oidc?.state === "enabled")
    out.push({
      testedAt: oidc.testedAt,
      domains: () => listRoutedDomains(deps.db, tenant.id, oidc.id, !samlDefaultEnabled, true),
    });
  return out;
}

/**
 * The preconditions of "Require SSO", each met or not; turning it on is refused with the first
 * unmet one. Each has locked organisations out elsewhere (an IdP never tested, enforcement keyed
 * on an unverified domain, no way back).
 */
export async function requireSsoChecklist(deps: PolicyDeps, tenant: Tenant, breakGlass: string[]) {
  const enabled = await enabledConnections(deps, tenant);
  const fresh = deps.now().getTime() - TEST_FRESH_DAYS * DAY;
  const tested = enabled.filter((c) => c.testedAt && new Date(c.testedAt).getTime() >= fresh);
  let routed = false;
  for (const c of tested) if ((await c.domains()).length > 0) routed = true;
  return [
    {
      code: "SSO_POLICY_NO_ENABLED_CONNECTION",
      met: enabled.length > 0,
      message: "Enable an SSO connection first (test it, then enable it)",
    },
    {
      code: "SSO_POLICY_NOT_TESTED",
      met: tested.length > 0,
      message: `No enabled connection has a successful test login in the last ${TEST_FRESH_DAYS} days: run one (POST …/saml/test or …/oidc/test)`,
    },
    {
      code: "SSO_POLICY_NO_VERIFIED_DOMAIN",
      met: routed,
      message: "Verify at least one domain that routes to an enabled, recently tested connection",
    },
    {
      code: "SSO_POLICY_NO_BREAK_GLASS",
      met: breakGlass.length > 0,
      message: "Name at least one break-glass e-mail (breakGlass)",
    },
  ];
}

async function whyNotRequire(deps: PolicyDeps, tenant: Tenant, breakGlass: string[]) {
  const unmet = (await requireSsoChecklist(deps, tenant, breakGlass)).find((c) => !c.met);
  return unmet ? refuse(unmet.code, unmet.message) : undefined;
}

/** The four preconditions of "Require SSO" for the console's checklist, in order. */
export async function getRequireSsoChecklist(deps: PolicyDeps, slug: string) {
  const tenant = await requireTenant(deps, slug);
  const p = await store.findPolicy(deps.db, tenant.id);
  return requireSsoChecklist(deps, tenant, p.breakGlass);
}

/** The policy as the admin API shows it, with the open break-glass windows. */
async function viewPolicy(deps: Pick<PolicyDeps, "db" | "now">, p: store.SsoPolicy) {
  const at = deps.now().toISOString();
  const armed = [];
  for (const email of p.breakGlass) {
    const w = await store.findOpenWindow(deps.db, p.tenantId, email, at);
    if (w) armed.push({ email, reason: w.reason, armedAt: w.armedAt, expiresAt: w.expiresAt });
  }
  return { requireSso: p.requireSso, breakGlass: p.breakGlass, armed, updatedAt: p.updatedAt };
}

/** GET …/sso-policy. */
export async function getPolicy(deps: PolicyDeps, slug: string) {
  const tenant = await requireTenant(deps, slug);
  return viewPolicy(deps, await store.findPolicy(deps.db, tenant.id));
}

/**
 * PUT …/sso-policy: turning `requireSso` on is refused (409, `details.reason`) unless a
 * connection is enabled, passed a test login in the last 30 days, a verified domain routes to
 * it and a break-glass e-mail is named. Turning it off always works (admin API, CLI).
 */
export async function putPolicy(deps: PolicyDeps, slug: string, body: unknown, actor = "admin-api") {
  const input = parseInput(putPolicyInput, body);
  const tenant = await requireTenant(deps, slug);
  const current = await store.findPolicy(deps.db, tenant.id);
  const breakGlass = [...new Set(input.breakGlass ?? current.breakGlass)];
  if (input.requireSso) {
    const problem = await whyNotRequire(deps, tenant, breakGlass);
    if (problem) throw problem;
  }
  const at = deps.now().toISOString();
  const next: store.SsoPolicy = {
    tenantId: tenant.id,
    requireSso: input.requireSso,
    breakGlass,
    updatedAt: at,
  };
  await deps.db.transaction(async (trx) => {
    await store.savePolicy(trx, next, at);
    await recordEvents(
      trx,
      tenant.id,
      [{ type: "sso.policy_changed", data: { requireSso: next.requireSso, breakGlass, actor } }],
      at,
    );
  });
  return viewPolicy(deps, next);
}

/** POST …/break-glass/arm: open a window (≤ 60 minutes) for one named account. */
export async function armBreakGlass(deps: PolicyDeps, slug: string, body: unknown) {
  const input = parseInput(armInput, body);
  const tenant = await requireTenant(deps, slug);
  const policy = await store.findPolicy(deps.db, tenant.id);
  if (!policy.breakGlass.includes(input.email))
    throw conflict(
      "BREAK_GLASS_NOT_NAMED",
      `${input.email} is not a break-glass account of this tenant (PUT …/sso-policy)`,
    );
  const now = deps.now();
  const w: store.BreakGlassWindow = {
    id: randomUUID(),
    tenantId: tenant.id,
    email: input.email,
    reason: input.reason,
    armedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + input.minutes * 60_000).toISOString(),
    closedAt: null,
    closedBy: null,
  };
  await deps.db.transaction(async (trx) => {
    if (await store.findOpenWindow(trx, tenant.id, input.email, w.armedAt))
      throw conflict("BREAK_GLASS_ARMED", `${input.email} is armed already; disarm it first`);
    await store.insertWindow(trx, w);
    await deps.jobs.enqueue(
      trx,
      [
        {
          name: BREAK_GLASS_EXPIRE_JOB,
          tenantId: tenant.id,
          payload: { windowId: w.id },
          runAt: new Date(w.expiresAt),
        },
      ],
      now,
    );
    await recordEvents(trx, tenant.id, [{ type: "sso.break_glass_armed", data: windowData(w) }], w.armedAt);
  });
  return { email: w.email, reason: w.reason, armedAt: w.armedAt, expiresAt: w.expiresAt };
}

const windowData = (w: store.BreakGlassWindow) => ({
  windowId: w.id,
  email: w.email,
  reason: w.reason,
  armedAt: w.armedAt,
  expiresAt: w.expiresAt,
});

/** POST …/break-glass/disarm: close the account's open window now. */
export async function disarmBreakGlass(deps: PolicyDeps, slug: string, body: unknown) {
  const input = parseInput(disarmInput, body);
  const tenant = await requireTenant(deps, slug);
  const at = deps.now().toISOString();
  await deps.db.transaction(async (trx) => {
    const w = await store.findOpenWindow(trx, tenant.id, input.email, at);
    if (!w || (await store.closeWindow(trx, tenant.id, w.id, "disarmed", at)) === 0)
      throw new AppError(404, "BREAK_GLASS_NOT_ARMED", `${input.email} is not armed`);
    await recordEvents(
      trx,
      tenant.id,
      [{ type: "sso.break_glass_disarmed", data: { ...windowData(w), disarmedAt: at } }],
      at,
    );
  });
  return getPolicy(deps, slug);
}

/** Register the job that records a window's expiry (idempotent: a closed window is left alone). */
export function registerPolicyJobs(jobs: JobRegistry): void {
  jobs.define<{ windowId: string }>({
    name: BREAK_GLASS_EXPIRE_JOB,
    queue: "urgent",
    maxAttempts: 10,
    handler: async (payload, ctx) => {
      if (!ctx.tenantId) return;
      const tenantId = ctx.tenantId;
      const w = await store.findWindow(ctx.db, tenantId, payload.windowId);
      if (!w || w.closedAt) return;
      const now = ctx.now();
      if (new Date(w.expiresAt) > now) {
        await jobs.enqueue(
          ctx.db,
          [{ name: BREAK_GLASS_EXPIRE_JOB, tenantId, payload, runAt: new Date(w.expiresAt) }],
          now,
        );
        return;
      }
      await ctx.db.transaction(async (trx) => {
        if ((await store.closeWindow(trx, tenantId, w.id, "expired", w.expiresAt)) === 0) return;
        await recordEvents(
          trx,
          tenantId,
          [{ type: "sso.break_glass_expired", data: windowData(w) }],
          now.toISOString(),
        );
      });
    },
  });
}
