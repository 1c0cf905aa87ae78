import { createHash } from "node:crypto";
import type { CreatedSession } from "../../access/sessions.js";
import { isUniqueViolation } from "../../db/errors.js";
import { listVerifiedDomains } from "../../domains/store.js";
import { redirectTargetProblem } from "../../http/redirect-target.js";
import { hashSecret, sameHash } from "../../tenants/secrets.js";
import type { Tenant } from "../../tenants/store.js";
import { admitUser } from "../admit.js";
import type { SsoDeps } from "../deps.js";
import { SsoFailure } from "../failure.js";
import type { Claims } from "../gate.js";
import { countRefusal, type RefusalContext, recordRefusal } from "../refusals.js";
import { consumeRequest, findRequest, rememberAssertion, type SamlRequestRow } from "../request-store.js";
import { claimsOf, checkPresetClaims } from "./claims.js";
import type { OidcConnection } from "./connection-store.js";
import { oidcUrls } from "./connections.js";
import { currentDiscovery, derivedSecrets, loadTenantOidc, STATE } from "./login.js";
import { exchangeCode } from "./provider.js";
import { finishOidcTest, recordOidcTestFailure } from "./test-report.js";

/** What the callback endpoint does next. */
export type CallbackOutcome =
  | { kind: "redirect"; location: string; session: CreatedSession }
  | { kind: "test"; ok: boolean; message: string }
  | { kind: "refused"; failure: SsoFailure; tenant?: Tenant; trace?: string };

/** A verified login: the id_token's claims, checked, as the gate reads them. */
export interface VerifiedOidcLogin {
  tenant: Tenant;
  conn: OidcConnection;
  request: SamlRequestRow;
  idToken: Record<string, unknown>;
  claims: Claims;
}

function fail(code: string, message: string, details: Record<string, unknown> = {}, status = 403): never {
  throw new SsoFailure(code, message, details, status);
}

/**
 * The started login this callback answers, bound to this browser: the state names a live request
 * of this tenant, and the browser holds the cookie whose hash the request stored.
 */
async function resolveRequest(
  deps: SsoDeps,
  tenant: Tenant,
  q: Record<string, string>,
  browserNonce?: string,
) {
  const state = q.state;
  if (!state || !STATE.test(state))
    fail("STATE_MISMATCH", "This sign-in response does not answer a sign-in started here: start again.", {
      problem: state ? "malformed state" : "no state",
    });
  if (!browserNonce)
    fail(
      "BROWSER_COOKIE_MISSING",
      "This browser did not start this sign-in (its sign-in cookie is missing): start again.",
    );
  const request = await findRequest(deps.db, tenant.id, state);
  if (!request || new Date(request.expiresAt) <= deps.now())
    fail(
      "STATE_MISMATCH",
      "This sign-in response does not answer a current sign-in started here: start again.",
      {
        problem: request ? "expired" : "unknown state",
      },
    );
  if (!sameHash(hashSecret(browserNonce), request.browserHash))
    fail("STATE_MISMATCH", "This sign-in was started in another browser: start again from this one.", {
      problem: "started by another browser",
    });
  if (request.consumedAt) fail("CODE_REPLAY", "This sign-in response was already used: start again.");
  return request;
}

/** The code and the request are used once, before the code goes to the provider (replays never reach it). */
async function useOnce(deps: SsoDeps, tenant: Tenant, request: SamlRequestRow, code: string | undefined) {
  const at = deps.now();
  await deps.db.transaction(async (trx) => {
    if (code) {
      const id = `oidc-code:${createHash("sha256").update(code).digest("base64url")}`;
      const until = new Date(at.getTime() + 86_400_000).toISOString();
      if (!(await rememberAssertion(trx, tenant.id, id, until)))
        fail("CODE_REPLAY", "This sign-in code was already used: start again.");
    }
    if ((await consumeRequest(trx, tenant.id, request.id, at.toISOString())) === 0)
      fail("CODE_REPLAY", "This sign-in response was already used: start again.");
  });
}

async function verify(
  deps: SsoDeps,
  tenant: Tenant,
  conn: OidcConnection,
  q: Record<string, string>,
  browserNonce: string | undefined,
  ctx: RefusalContext,
): Promise<VerifiedOidcLogin> {
  const request = await resolveRequest(deps, tenant, q, browserNonce);
  ctx.request = request;
  if (request.purpose !== "test" && conn.state !== "enabled")
    fail("SSO_NOT_ENABLED", `Single sign-on is not enabled for ${tenant.name}.`);
  await useOnce(deps, tenant, request, q.code);
  const discovery = await currentDiscovery(deps, conn);
  const redirectUri = oidcUrls(deps.config.publicUrl, tenant.slug).redirectUri;
  const callbackUrl = new URL(redirectUri);
  for (const [k, v] of Object.entries(q)) callbackUrl.searchParams.set(k, v);
  const { nonce, codeVerifier } = derivedSecrets(browserNonce!, request.id);
  const { claims: idToken } = await exchangeCode(deps, conn, discovery, callbackUrl, {
    state: request.id,
    nonce,
    codeVerifier,
    redirectUri,
  });
  // From here on the claims were signed by the tenant's provider for this login.
  ctx.verified = true;
  const claims = claimsOf(conn, idToken);
  ctx.facts = { assertion: { nameId: claims.nameId } };
  const verified = conn.preset === "google" ? await listVerifiedDomains(deps.db, tenant.id) : [];
  checkPresetClaims(conn, idToken, verified);
  if (claims.nameId.length > 512)
    fail("ID_TOKEN_INVALID", "The sign-in names a user longer than Roster stores.", {
      length: claims.nameId.length,
    });
  return { tenant, conn, request, idToken, claims };
}

function landing(deps: SsoDeps, v: VerifiedOidcLogin): string {
  if (v.request.returnTo) return v.request.returnTo;
  const d = v.conn.settings.defaultReturnUrl;
  if (d && !redirectTargetProblem(d)) return d;
  return `${deps.config.publicUrl}/sso/${encodeURIComponent(v.tenant.slug)}/session`;
}

async function finishLogin(deps: SsoDeps, v: VerifiedOidcLogin): Promise<CallbackOutcome> {
  return deps.db.transaction(async (trx) => {
    const admitted = await admitUser(trx, deps, {
      tenant: v.tenant,
      settings: v.conn.settings,
      claims: v.claims,
      oauth: v.request.oauth,
      landing: () => landing(deps, v),
      event: {
        protocol: "oidc",
        connectionId: v.conn.id,
        idpInitiated: false,
        subject: String(v.idToken.sub),
      },
    });
    return { kind: "redirect" as const, ...admitted };
  });
}

/**
 * GET /sso/{slug}/oidc/callback: the browser's way back from the provider. The state and the
 * browser cookie first, then code and request used once, then the exchange and every id_token
 * check (provider.ts), the preset's claim rules (claims.ts), and the directory gate. A test login
 * writes a report and logs no one in. Refusals are recorded as for SAML (refusals.ts): traced and
 * counted, and an `sso.login_refused` event once the id_token verified.
 */
export async function handleOidcCallback(
  deps: SsoDeps,
  slug: string,
  query: Record<string, string>,
  browserNonce: string | undefined,
): Promise<CallbackOutcome> {
  let loaded: Awaited<ReturnType<typeof loadTenantOidc>>;
  try {
    loaded = await loadTenantOidc(deps, slug);
  } catch (err) {
    if (!(err instanceof SsoFailure)) throw err;
    countRefusal(deps, err);
    return { kind: "refused", failure: err };
  }
  const { tenant, conn } = loaded;
  const ctx: RefusalContext = { verified: false };
  try {
    const v = await verify(deps, tenant, conn, query, browserNonce, ctx);
    if (v.request.purpose === "test") return await finishOidcTest(deps, v);
    for (let attempt = 0; ; attempt++) {
      try {
        return await finishLogin(deps, v);
      } catch (err) {
        // Two first logins of the same JIT user at once: the loser retries and finds the user.
        if (!isUniqueViolation(err) || attempt > 0) throw err;
      }
    }
  } catch (err) {
    if (!(err instanceof SsoFailure)) throw err;
    if (ctx.request?.purpose === "test") {
      await recordOidcTestFailure(deps, tenant, ctx.request, err, ctx.verified);
      return { kind: "test", ok: false, message: err.message };
    }
    const trace = await recordRefusal(deps, tenant, err, ctx);
    return { kind: "refused", failure: err, tenant, trace };
  }
}
