import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { z } from "zod";
import * as domainStore from "../../domains/store.js";
import { AppError, conflict, notFound } from "../../http/errors.js";
import { redirectTargetUrl } from "../../http/redirect-target.js";
import { parseInput } from "../../http/validate.js";
import { requireTenant } from "../../tenants/use-cases.js";
import type { Tenant } from "../../tenants/store.js";
import type { SsoDeps } from "../deps.js";
import { fieldError } from "../saml/certificates.js";
import * as store from "./connection-store.js";
import type { OidcConnection, OidcSettings } from "./connection-store.js";
import { OIDC_PRESET_KEYS, OIDC_PRESETS, entraTenantOf } from "./presets.js";
import { discover } from "./provider.js";
import { OutboundRefused } from "./outbound.js";

const claimName = z.string().trim().min(1).max(256);
const domain = z
  .string()
  .trim()
  .toLowerCase()
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/,
    "must be a domain name such as example.com",
  );

/** Body of PUT /admin/v1/tenants/{slug}/oidc (issue 17's connection contract; `type` optional here). */
export const putOidcInput = z
  .object({
    type: z.literal("oidc").optional(),
    name: z.string().trim().min(1).max(200).optional(),
    preset: z.enum(OIDC_PRESET_KEYS).optional(),
    issuer: z.string().trim().url("must be an absolute URL").max(1024).optional(),
    clientId: z.string().trim().min(1).max(512).optional(),
    clientSecret: z.string().min(1).max(4096).optional(),
    scopes: z
      .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/, "must be a scope token"))
      .min(1)
      .max(20)
      .optional(),
    domains: z.array(domain).max(50).optional(),
    provisioning: z.enum(["jit", "manual"]).optional(),
    attributeMapping: z
      .object({
        userName: claimName,
        email: claimName,
        givenName: claimName,
        familyName: claimName,
        displayName: claimName,
        groups: claimName,
        id: claimName,
      })
      .partial()
      .strict()
      .optional(),
    matching: z
      .object({ userName: z.boolean(), email: z.boolean(), idField: z.enum(["externalId", "id"]) })
      .partial()
      .strict()
      .optional(),
    requireEmailVerified: z.boolean().optional(),
    entraTenantId: z
      .string()
      .trim()
      .regex(/^[0-9a-fA-F-]{36}$/, "must be a directory (tenant) id")
      .optional(),
    returnUrls: z.array(redirectTargetUrl).max(50).optional(),
    defaultReturnUrl: redirectTargetUrl.nullable().optional(),
    sessionHours: z.number().int().min(1).max(720).optional(),
  })
  .strict();

type PutInput = z.output<typeof putOidcInput>;

/** Roster's redirect URI for a tenant (what the admin registers at the provider). */
export function oidcUrls(publicUrl: string, slug: string) {
  const base = `${publicUrl}/sso/${encodeURIComponent(slug)}/oidc`;
  return { redirectUri: `${base}/callback`, loginUrl: `${base}/login` };
}

function settingsOf(
  input: PutInput,
  preset: string,
  current?: OidcSettings,
  presetChanged = false,
): OidcSettings {
  const p = OIDC_PRESETS[preset];
  const base: OidcSettings = current ?? {
    provisioning: "manual",
    returnUrls: [],
    defaultReturnUrl: null,
    attributeMapping: { ...p.attributeMapping },
    matching: { ...p.matching },
    requireEmailVerified: p.requireEmailVerified,
    entraTenantId: null,
    sessionHours: 12,
  };
  return {
    provisioning: input.provisioning ?? base.provisioning,
    returnUrls: input.returnUrls ?? base.returnUrls,
    defaultReturnUrl: input.defaultReturnUrl === undefined ? base.defaultReturnUrl : input.defaultReturnUrl,
    attributeMapping: {
      ...(presetChanged ? p.attributeMapping : base.attributeMapping),
      ...(input.attributeMapping ?? {}),
    },
    matching: { ...(presetChanged ? p.matching : base.matching), ...(input.matching ?? {}) },
    requireEmailVerified:
      input.requireEmailVerified ?? (presetChanged ? p.requireEmailVerified : base.requireEmailVerified),
    entraTenantId: input.entraTenantId?.toLowerCase() ?? base.entraTenantId,
    sessionHours: input.sessionHours ?? base.sessionHours,
  };
}

/** The preset rules a saved connection must meet (400 naming the field). */
function checkPresetRules(c: OidcConnection): void {
  if (c.preset === "google" && c.domains.length === 0)
    throw fieldError(
      "domains",
      "Google Workspace needs the workspace's domain(s): the id_token's hd claim must name one",
    );
  if (c.preset === "google" && !c.settings.requireEmailVerified)
    throw fieldError("requireEmailVerified", "cannot be turned off for Google Workspace");
  if (c.preset === "entra" && !c.settings.entraTenantId && !entraTenantOf(c.issuer))
    throw fieldError(
      "issuer",
      "Entra ID needs its directory: https://login.microsoftonline.com/{tenant id}/v2.0 (not common/organizations), or entraTenantId",
    );
  const u = new URL(c.issuer);
  if (u.search || u.hash) throw fieldError("issuer", "must not carry a query or fragment");
}

/** Create or change the tenant's OpenID Connect connection; a real change needs a new test. */
export async function putOidcConnection(deps: SsoDeps, slug: string, body: unknown) {
  const input = parseInput(putOidcInput, body);
  const tenant = await requireTenant(deps, slug);
  const current = await store.findOidcConnection(deps.db, tenant.id);
  const preset = input.preset ?? current?.preset ?? "custom";
  const at = deps.now().toISOString();
  if (!current) {
    for (const f of ["clientId", "clientSecret"] as const)
      if (!input[f]) throw fieldError(f, "is required for a new connection");
    if (!input.issuer && !OIDC_PRESETS[preset].issuer)
      throw fieldError("issuer", "is required for this preset");
  }
  const next: OidcConnection = current
    ? { ...current }
    : {
        id: randomUUID(),
        tenantId: tenant.id,
        name: OIDC_PRESETS[preset].name,
        domains: [],
        state: "draft",
        preset,
        issuer: "",
        clientId: "",
        clientSecret: "",
        scopes: ["openid", "email", "profile"],
        settings: settingsOf(input, preset),
        discovery: null,
        discoveredAt: null,
        configVersion: 1,
        testedVersion: null,
        testedAt: null,
        enabledAt: null,
        createdAt: at,
        updatedAt: at,
      };
  const presetChanged =
    current !== undefined && input.preset !== undefined && input.preset !== current.preset;
  next.preset = preset;
  next.name =
    input.name ??
    (presetChanged && current?.name === OIDC_PRESETS[current.preset]?.name
      ? OIDC_PRESETS[preset].name
      : next.name);
  // Kept exactly as given: the discovery document and every id_token must name the same string.
  next.issuer =
    input.issuer ??
    (presetChanged && OIDC_PRESETS[preset].issuer
      ? OIDC_PRESETS[preset].issuer!
      : (current?.issuer ?? OIDC_PRESETS[preset].issuer!));
  next.clientId = input.clientId ?? next.clientId;
  next.clientSecret = input.clientSecret ?? next.clientSecret;
  next.scopes = input.scopes ? [...new Set(input.scopes)] : next.scopes;
  if (!next.scopes.includes("openid")) throw fieldError("scopes", "must include openid");
  next.domains = input.domains ? [...new Set(input.domains)] : next.domains;
  if (current) next.settings = settingsOf(input, preset, current.settings, presetChanged);
  checkPresetRules(next);
  if (!current || next.issuer !== current.issuer || !current.discovery) {
    try {
      next.discovery = { ...(await discover(deps, next.issuer)) };
      next.discoveredAt = at;
    } catch (err) {
      if (!(err instanceof OutboundRefused)) throw err;
      throw fieldError("issuer", `discovery failed: ${err.message}`);
    }
  }
  if (current) {
    const same = (c: OidcConnection) =>
      JSON.stringify({ ...c, updatedAt: "", discovery: null, discoveredAt: null });
    if (same(next) === same(current)) return viewOidcConnection(deps, tenant, current);
    next.configVersion = current.configVersion + 1;
    next.updatedAt = at;
    if (next.state === "tested") next.state = "draft";
  }
  await deps.db.transaction(async (trx) => {
    if (current) await store.updateOidcConnection(trx, next);
    else await store.insertOidcConnection(trx, next);
    await routeClaimedDomains(trx, tenant.id, next);
  });
  return viewOidcConnection(deps, tenant, next);
}

/**
 * The connection's domains the tenant claimed route to it (domains.connection_id = its id, issue
 * 16's routing); the others (a Google Workspace domain not claimed here) only check `hd`. A
 * domain claimed later routes once the connection is saved again.
 */
async function routeClaimedDomains(db: Knex, tenantId: string, c: OidcConnection): Promise<void> {
  const claimed = new Set((await domainStore.listDomains(db, tenantId)).map((d) => d.domain));
  await domainStore.assignDomains(
    db,
    tenantId,
    c.id,
    c.domains.filter((d) => claimed.has(d)),
  );
}

/** The connection as the admin API shows it (never the client secret). */
export function viewOidcConnection(deps: Pick<SsoDeps, "config">, tenant: Tenant, c: OidcConnection) {
  const urls = oidcUrls(deps.config.publicUrl, tenant.slug);
  return {
    id: c.id,
    type: "oidc" as const,
    tenant: tenant.slug,
    name: c.name,
    state: c.state,
    preset: c.preset,
    issuer: c.issuer,
    clientId: c.clientId,
    clientSecretSet: c.clientSecret !== "",
    scopes: c.scopes,
    domains: c.domains,
    provisioning: c.settings.provisioning,
    settings: c.settings,
    provider: c.discovery
      ? {
          authorizationEndpoint: c.discovery.authorization_endpoint,
          tokenEndpoint: c.discovery.token_endpoint,
          jwksUri: c.discovery.jwks_uri,
          idTokenAlgorithms: c.discovery.id_token_signing_alg_values_supported,
          issParameter: c.discovery.authorization_response_iss_parameter_supported === true,
          discoveredAt: c.discoveredAt,
        }
      : null,
    redirectUri: urls.redirectUri,
    loginUrl: urls.loginUrl,
    configVersion: c.configVersion,
    testedSinceLastChange: c.testedVersion === c.configVersion,
    testedAt: c.testedAt,
    enabledAt: c.enabledAt,
    instructions: OIDC_PRESETS[c.preset]?.instructions ?? OIDC_PRESETS.custom.instructions,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

/** The connections-registry entry (issue 16 lists connections of every type with these fields). */
export function oidcRegistryEntry(publicUrl: string, tenant: Tenant, c: OidcConnection) {
  return {
    id: c.id,
    tenantId: tenant.id,
    type: "oidc" as const,
    name: c.name,
    domains: c.domains,
    state: c.state,
    loginUrl: oidcUrls(publicUrl, tenant.slug).loginUrl,
  };
}

/** The tenant and its connection, or 404 OIDC_NOT_CONFIGURED. */
export async function requireOidcConnection(deps: Pick<SsoDeps, "db">, slug: string) {
  const tenant = await requireTenant(deps, slug);
  const conn = await store.findOidcConnection(deps.db, tenant.id);
  if (!conn)
    throw new AppError(404, "OIDC_NOT_CONFIGURED", `Tenant '${slug}' has no OpenID Connect connection`);
  return { tenant, conn };
}

/** GET …/oidc. */
export async function getOidcConnection(deps: SsoDeps, slug: string) {
  const { tenant, conn } = await requireOidcConnection(deps, slug);
  return viewOidcConnection(deps, tenant, conn);
}

/** DELETE …/oidc. */
export async function deleteOidcConnection(deps: SsoDeps, slug: string): Promise<void> {
  const tenant = await requireTenant(deps, slug);
  const conn = await store.findOidcConnection(deps.db, tenant.id);
  if (!conn) throw notFound("OpenID Connect connection");
  // Its domains route to the tenant's default connection again.
  await deps.db.transaction(async (trx) => {
    await domainStore.assignDomains(trx, tenant.id, conn.id, []);
    await store.deleteOidcConnection(trx, tenant.id);
  });
}

/** POST …/oidc/enable: 409 OIDC_NOT_TESTED unless a test succeeded since the last change. */
export async function enableOidcConnection(deps: SsoDeps, slug: string) {
  const { tenant, conn } = await requireOidcConnection(deps, slug);
  if (conn.testedVersion !== conn.configVersion)
    throw conflict(
      "OIDC_NOT_TESTED",
      "Test the configuration first: there is no successful test since the last change (POST …/oidc/test)",
    );
  const at = deps.now().toISOString();
  const next: OidcConnection = { ...conn, state: "enabled", enabledAt: conn.enabledAt ?? at, updatedAt: at };
  await store.updateOidcConnection(deps.db, next);
  return viewOidcConnection(deps, tenant, next);
}

/** POST …/oidc/disable. */
export async function disableOidcConnection(deps: SsoDeps, slug: string) {
  const { tenant, conn } = await requireOidcConnection(deps, slug);
  const at = deps.now().toISOString();
  const next: OidcConnection = { ...conn, state: "disabled", enabledAt: null, updatedAt: at };
  await store.updateOidcConnection(deps.db, next);
  return viewOidcConnection(deps, tenant, next);
}

/** POST …/oidc/test: a pending test and the login URL that runs it. */
export async function startOidcTest(deps: SsoDeps, slug: string) {
  const { tenant, conn } = await requireOidcConnection(deps, slug);
  const test: store.OidcTest = {
    id: randomUUID(),
    tenantId: tenant.id,
    configVersion: conn.configVersion,
    status: "pending",
    report: null,
    createdAt: deps.now().toISOString(),
    completedAt: null,
  };
  await store.insertOidcTest(deps.db, test);
  return {
    id: test.id,
    loginUrl: `${oidcUrls(deps.config.publicUrl, tenant.slug).loginUrl}?test=${test.id}`,
    status: test.status,
  };
}

/** GET …/oidc/test/{id}: the report. */
export async function getOidcTest(deps: SsoDeps, slug: string, id: string) {
  const tenant = await requireTenant(deps, slug);
  const test = /^[0-9a-f-]{36}$/.test(id) ? await store.findOidcTest(deps.db, tenant.id, id) : undefined;
  if (!test) throw notFound("OpenID Connect test");
  const { tenantId: _t, ...rest } = test;
  return rest;
}

/**
 * The console's provisioning preference alone (as setProvisioning for SAML): not part of what a
 * test login proves, so the configuration version stays. PUT …/oidc still counts it as a change.
 */
export async function setOidcProvisioning(deps: SsoDeps, slug: string, provisioning: "jit" | "manual") {
  const { tenant, conn } = await requireOidcConnection(deps, slug);
  if (conn.settings.provisioning === provisioning) return viewOidcConnection(deps, tenant, conn);
  const next: OidcConnection = {
    ...conn,
    settings: { ...conn.settings, provisioning },
    updatedAt: deps.now().toISOString(),
  };
  await store.updateOidcConnection(deps.db, next);
  return viewOidcConnection(deps, tenant, next);
}
