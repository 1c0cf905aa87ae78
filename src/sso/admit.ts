import { type CreatedSession, createSession } from "../access/sessions.js";
import type { Knex } from "knex";
import { ChangeSet, commitChanges } from "../directory/changes.js";
import { issueCode } from "../oauth/codes.js";
import type { Tenant } from "../tenants/store.js";
import type { SsoDeps } from "./deps.js";
import { SsoFailure } from "./failure.js";
import {
  type Claims,
  createJitUser,
  findDirectoryUser,
  type GateSettings,
  jitDomainProblem,
} from "./gate.js";
import type { OAuthParams } from "./request-store.js";

/** What admitting a verified person needs (SAML ACS and OpenID Connect callback alike). */
export interface AdmitInput {
  tenant: Tenant;
  settings: GateSettings & { sessionHours: number };
  claims: Claims;
  /** The OAuth authorize request the login serves (then the browser goes back with a code). */
  oauth: OAuthParams | null;
  /** Where the browser lands otherwise (called only then). */
  landing: () => string;
  /** Protocol-specific fields of the `sso.login_succeeded` event. */
  event: Record<string, unknown>;
}

function fail(code: string, message: string, details: Record<string, unknown>): never {
  throw new SsoFailure(code, message, details, 403);
}

/**
 * The directory gate, the session (and OAuth code) and the `sso.login_succeeded` event, in the
 * caller's transaction: the person must be in the tenant's directory and active (or be created
 * just in time when the connection allows it). Refusals are SsoFailures (USER_NOT_FOUND,
 * USER_INACTIVE, AMBIGUOUS_USER, EMAIL_OUTSIDE_DOMAINS).
 */
export async function admitUser(
  trx: Knex.Transaction,
  deps: Pick<SsoDeps, "now">,
  input: AdmitInput,
): Promise<{ location: string; session: CreatedSession }> {
  const now = deps.now();
  const at = now.toISOString();
  const { tenant, settings, claims } = input;
  const changes = new ChangeSet();
  const found = await findDirectoryUser(trx, tenant.id, claims, settings);
  if (found.kind === "ambiguous")
    fail(
      "AMBIGUOUS_USER",
      "More than one user in the directory matches this sign-in: ask your administrator.",
      {
        matchedBy: found.matchedBy,
      },
    );
  if (found.kind === "found" && !found.user.active)
    fail("USER_INACTIVE", `Your access to ${tenant.name} has been revoked`, { userId: found.user.id });
  if (found.kind === "unknown" && settings.provisioning !== "jit")
    fail("USER_NOT_FOUND", "User not found: ask your administrator to provision you", {
      nameId: claims.nameId,
    });
  if (found.kind === "unknown") {
    // Issue 16: once the tenant has verified domains, JIT creates only people of those domains.
    const outside = await jitDomainProblem(trx, tenant.id, claims);
    if (outside)
      fail(
        "EMAIL_OUTSIDE_DOMAINS",
        "Your e-mail address is outside your organisation's verified domains: ask your administrator to invite you",
        outside,
      );
  }
  const user =
    found.kind === "found"
      ? found.user
      : await createJitUser(trx, tenant.id, claims, tenant.settings.defaultRole, changes, at);
  const session = await createSession(trx, {
    tenantId: tenant.id,
    userId: user.id,
    nameId: claims.nameId,
    sessionIndex: claims.sessionIndex,
    ttlMs: settings.sessionHours * 3_600_000,
    now,
  });
  const location = input.oauth
    ? await issueCode(trx, {
        tenantId: tenant.id,
        userId: user.id,
        sessionId: session.session.id,
        oauth: input.oauth,
        now,
      })
    : input.landing();
  changes.add("sso.login_succeeded", {
    userId: user.id,
    userName: user.userName,
    sessionId: session.session.id,
    matchedBy: found.kind === "found" ? found.matchedBy : "jit",
    jit: found.kind !== "found",
    oauthClientId: input.oauth?.clientId ?? null,
    ...input.event,
  });
  await commitChanges(trx, tenant.id, changes, at);
  return { location, session };
}
