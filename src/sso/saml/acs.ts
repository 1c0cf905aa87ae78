import type { CreatedSession } from "../../access/sessions.js";
import { isUniqueViolation } from "../../db/errors.js";
import { redirectTargetProblem } from "../../http/redirect-target.js";
import { hashSecret, sameHash } from "../../tenants/secrets.js";
import type { Tenant } from "../../tenants/store.js";
import {
  checkResponseEnvelope,
  checkSignatures,
  type Expected,
  inspectResponse,
  parseResponse,
  type RawFacts,
  SsoFailure,
} from "./acs-checks.js";
import { checkAssertion, type VerifiedAssertion } from "./assertion-checks.js";
import { describeCertificate } from "./certificates.js";
import type { SamlConnection } from "./connection-store.js";
import type { SsoDeps } from "./connections.js";
import type { Claims } from "../gate.js";
import { claimsFrom } from "./claims.js";
import { admitUser } from "../admit.js";
import { loadTenantConnection } from "./login.js";
import { consumeRequest, rememberAssertion, type SamlRequestRow } from "../request-store.js";
import { absoluteReturnUrl, isAllowedReturnUrl } from "../return-url.js";
import { CLOCK_SKEW_MS, spUrls } from "./sp.js";
import { countRefusal, type RefusalContext, recordRefusal } from "../refusals.js";
import { finishTest, recordTestFailure } from "./test-report.js";

/** What the ACS endpoint does next. */
export type AcsOutcome =
  | { kind: "redirect"; location: string; session: CreatedSession }
  | { kind: "test"; ok: boolean; message: string }
  | { kind: "refused"; failure: SsoFailure; tenant?: Tenant; trace?: string };

/** The POSTed form. */
export interface AcsForm {
  SAMLResponse?: string;
  RelayState?: string;
}

/** Everything known about one response once it is verified. */
export interface VerifiedLogin {
  tenant: Tenant;
  conn: SamlConnection;
  request: SamlRequestRow | null;
  verified: VerifiedAssertion;
  claims: Claims;
  relayState: string | null;
}

function fail(code: string, message: string, details: Record<string, unknown> = {}, status = 403): never {
  throw new SsoFailure(code, message, details, status);
}

/**
 * The request this response answers (loaded with the tenant), bound to this browser; null for
 * IdP-initiated logins (when allowed).
 */
function resolveRequest(
  tenant: Tenant,
  conn: SamlConnection,
  facts: RawFacts,
  request: SamlRequestRow | undefined,
  nonce: string | undefined,
  now: Date,
): SamlRequestRow | null {
  if (!facts.inResponseTo) {
    if (!conn.settings.allowIdpInitiated)
      fail(
        "IDP_INITIATED_NOT_ALLOWED",
        `Sign-in must start from ${tenant.name}'s login page (IdP-initiated login is off).`,
      );
    return null;
  }
  if (!request || request.consumedAt || new Date(request.expiresAt) <= now)
    fail(
      "UNKNOWN_REQUEST",
      "This sign-in response does not answer a current sign-in started here: start again.",
      { inResponseTo: facts.inResponseTo },
    );
  if (!nonce || !sameHash(hashSecret(nonce), request.browserHash))
    fail("OTHER_BROWSER", "This sign-in was started in another browser: start again from this one.", {
      inResponseTo: facts.inResponseTo,
    });
  return request;
}

function liveCertificates(conn: SamlConnection, now: Date): string[] {
  const live = conn.certificates.filter((pem) => new Date(describeCertificate(pem, now).notAfter) > now);
  if (live.length === 0)
    fail(
      "CERTIFICATE_EXPIRED",
      "The identity provider's certificate configured here has expired: the administrator must upload the new one.",
      {
        certificates: conn.certificates.map((pem) => describeCertificate(pem, now)),
      },
    );
  return live;
}

/** The posted response parsed, or why it cannot be (refused once the tenant is known). */
type Parsed = { doc: Document; failure?: undefined } | { doc?: undefined; failure: SsoFailure };

function parseForm(form: AcsForm): Parsed {
  try {
    if (!form.SAMLResponse) fail("NO_RESPONSE", "No sign-in response was received.", {}, 400);
    return { doc: parseResponse(Buffer.from(form.SAMLResponse, "base64").toString("utf8")) };
  } catch (err) {
    if (err instanceof SsoFailure) return { failure: err };
    throw err;
  }
}

/** Verify a response strictly; every failure is an SsoFailure. `ctx` collects what is known for the report. */
async function verify(
  deps: SsoDeps,
  loaded: { tenant: Tenant; conn: SamlConnection; request: SamlRequestRow | undefined },
  form: AcsForm,
  parsed: Parsed,
  nonce: string | undefined,
  ctx: RefusalContext,
): Promise<VerifiedLogin> {
  const { tenant, conn } = loaded;
  const now = deps.now();
  const urls = spUrls(deps.config.publicUrl, tenant.slug, conn);
  if (parsed.failure) throw parsed.failure;
  const inspected = await inspectResponse(parsed.doc, conn.sp.encryptionKey);
  const { facts } = inspected;
  ctx.facts = facts;
  const request = resolveRequest(tenant, conn, facts, loaded.request, nonce, now);
  ctx.request = request;
  if (request?.purpose !== "test" && conn.state !== "enabled")
    fail("SSO_NOT_ENABLED", `Single sign-on is not enabled for ${tenant.name}.`);
  checkResponseEnvelope(facts, urls.acsUrl, conn.idpEntityId);
  const expected: Expected = {
    acsUrl: urls.acsUrl,
    entityId: urls.entityId,
    idpEntityId: conn.idpEntityId,
    certificates: conn.certificates,
    liveCertificates: liveCertificates(conn, now),
    inResponseTo: request?.id ?? null,
    now,
  };
  checkSignatures(inspected, expected);
  // From here on what the assertion says was signed by the tenant's IdP.
  ctx.verified = true;
  const verified = checkAssertion(inspected.assertion, facts, expected);
  const claims = claimsFrom(verified, conn.settings);
  return { tenant, conn, request, verified, claims, relayState: form.RelayState ?? null };
}

/** When the assertion id may be forgotten: its NotOnOrAfter plus the allowed skew. */
export function replayUntil(v: VerifiedAssertion, now: Date): string {
  const end = v.notOnOrAfter
    ? Math.max(new Date(v.notOnOrAfter).getTime(), now.getTime())
    : now.getTime() + 3_600_000;
  return new Date(end + CLOCK_SKEW_MS).toISOString();
}

/** Use the assertion and the request up, once (replays are refused). */
export async function consumeOnce(
  trx: Parameters<typeof rememberAssertion>[0],
  v: VerifiedLogin,
  at: Date,
): Promise<void> {
  if (!(await rememberAssertion(trx, v.tenant.id, v.verified.id, replayUntil(v.verified, at))))
    fail("REPLAY", "This sign-in response was already used: start again.", { assertionId: v.verified.id });
  if (v.request && (await consumeRequest(trx, v.tenant.id, v.request.id, at.toISOString())) === 0)
    fail("REPLAY", "This sign-in was already completed: start again.", { inResponseTo: v.request.id });
}

function landing(deps: SsoDeps, v: VerifiedLogin): string {
  if (v.request?.returnTo) return v.request.returnTo;
  const { settings } = v.conn;
  // IdP-initiated: RelayState is attacker-controlled; only allow-listed or same-origin paths.
  if (
    !v.request &&
    v.relayState &&
    isAllowedReturnUrl(v.relayState, deps.config.publicUrl, settings.returnUrls)
  )
    return absoluteReturnUrl(v.relayState, deps.config.publicUrl);
  // Saved before the https rule existed (javascript:, data:, public http): not followed.
  if (settings.defaultReturnUrl && !redirectTargetProblem(settings.defaultReturnUrl))
    return settings.defaultReturnUrl;
  return `${deps.config.publicUrl}/sso/${encodeURIComponent(v.tenant.slug)}/session`;
}

/** The directory gate, the session (and OAuth code) and the event, in one transaction. */
async function finishLogin(deps: SsoDeps, v: VerifiedLogin): Promise<AcsOutcome> {
  const now = deps.now();
  return deps.db.transaction(async (trx) => {
    await consumeOnce(trx, v, now);
    const admitted = await admitUser(trx, deps, {
      tenant: v.tenant,
      settings: v.conn.settings,
      claims: v.claims,
      oauth: v.request?.oauth ?? null,
      landing: () => landing(deps, v),
      event: { idpInitiated: !v.request, assertionId: v.verified.id },
    });
    return { kind: "redirect" as const, ...admitted };
  });
}

/**
 * POST /sso/{slug}/acs: verify strictly, then the directory gate decides. A test login writes a
 * report and logs no one in. Every refusal is recorded (refusals.ts): counted and traced, and an
 * `sso.login_refused` event once a signature of the tenant's IdP verified.
 */
export async function handleAcs(
  deps: SsoDeps,
  slug: string,
  form: AcsForm,
  nonce: string | undefined,
  connectionId: string | null = null,
): Promise<AcsOutcome> {
  // Parsed first so that the request its InResponseTo names loads with the tenant (one query).
  const parsed = parseForm(form);
  const inResponseTo = parsed.doc?.documentElement.getAttribute("InResponseTo") || null;
  let loaded: Awaited<ReturnType<typeof loadTenantConnection>>;
  try {
    loaded = await loadTenantConnection(deps, slug, inResponseTo, connectionId);
  } catch (err) {
    if (!(err instanceof SsoFailure)) throw err;
    countRefusal(deps, err);
    return { kind: "refused", failure: err };
  }
  const { tenant, conn } = loaded;
  const ctx: RefusalContext = { verified: false };
  try {
    const v = await verify(deps, loaded, form, parsed, nonce, ctx);
    if (v.request?.purpose === "test") return await finishTest(deps, v);
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
      await recordTestFailure(deps, tenant, conn, ctx.request, err);
      return { kind: "test", ok: false, message: err.message };
    }
    const trace = await recordRefusal(deps, tenant, err, ctx);
    return { kind: "refused", failure: err, tenant, trace };
  }
}
