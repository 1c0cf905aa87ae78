import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { z } from "zod";
import { characters } from "../../directory/limits.js";
import { AppError, conflict, notFound } from "../../http/errors.js";
import { stringProblem } from "../../http/input-guard.js";
import { redirectTargetUrl } from "../../http/redirect-target.js";
import { parseInput } from "../../http/validate.js";
import type { SsoDeps } from "../deps.js";
import { requireTenant } from "../../tenants/use-cases.js";
import type { Tenant } from "../../tenants/store.js";
import { describeCertificate, fieldError, validateCertificates } from "./certificates.js";
import * as store from "./connection-store.js";
import type { SamlConnection, SamlSettings } from "./connection-store.js";
import { fetchMetadata } from "./fetch-metadata.js";
import { parseIdpMetadata } from "./metadata.js";
import { PRESET_KEYS, PRESETS } from "./presets.js";
import { generateSpKeys, spUrls } from "./sp.js";

export type { SsoDeps } from "../deps.js";

const url = z.string().trim().url("must be an absolute URL").max(2048);
const mapping = z
  .object({
    email: z.string().min(1).max(512),
    givenName: z.string().min(1).max(512),
    familyName: z.string().min(1).max(512),
    displayName: z.string().min(1).max(512),
    groups: z.string().min(1).max(512),
    id: z.string().min(1).max(512),
  })
  .partial()
  .strict();

/** Body of PUT /admin/v1/tenants/{slug}/saml. */
export const putConnectionInput = z
  .object({
    preset: z.enum(PRESET_KEYS).optional(),
    metadataXml: z
      .string()
      .min(1)
      .max(1024 * 1024)
      .optional(),
    metadataUrl: url.optional(),
    idpEntityId: z.string().trim().min(1).max(1024).optional(),
    ssoUrl: url.optional(),
    certificates: z.array(z.string()).min(1).max(10).optional(),
    provisioning: z.enum(["jit", "manual"]).optional(),
    allowIdpInitiated: z.boolean().optional(),
    returnUrls: z.array(redirectTargetUrl).max(50).optional(),
    defaultReturnUrl: redirectTargetUrl.nullable().optional(),
    attributeMapping: mapping.optional(),
    matching: z
      .object({ userName: z.boolean(), email: z.boolean(), idField: z.enum(["externalId", "id"]) })
      .partial()
      .strict()
      .optional(),
    signAuthnRequests: z.boolean().optional(),
    sessionHours: z.number().int().min(1).max(720).optional(),
  })
  .strict();

/** A parsed PUT …/saml body (also the SAML part of a named connection's body). */
export type PutInput = z.output<typeof putConnectionInput>;

const CERT_JOB = "sso-certificate-expiry";

/** The IdP side a PUT body describes, or undefined when it only changes settings. */
async function idpSide(deps: SsoDeps, input: PutInput) {
  const sources = [
    input.metadataXml && "metadataXml",
    input.metadataUrl && "metadataUrl",
    input.idpEntityId || input.ssoUrl || input.certificates ? "fields" : undefined,
  ].filter(Boolean);
  if (sources.length > 1)
    throw fieldError(
      String(sources[1]),
      "give one of metadataXml, metadataUrl or idpEntityId+ssoUrl+certificates",
    );
  if (input.metadataXml) return { ...parseIdpMetadata(input.metadataXml), metadataUrl: null };
  if (input.metadataUrl) {
    const xml = await fetchMetadata(input.metadataUrl, {
      allowPrivateNetwork: deps.config.allowPrivateNetwork,
    });
    return { ...parseIdpMetadata(xml, "metadataUrl"), metadataUrl: input.metadataUrl };
  }
  if (sources.length === 0) return undefined;
  if (!input.idpEntityId) throw fieldError("idpEntityId", "is required with ssoUrl and certificates");
  if (!input.ssoUrl) throw fieldError("ssoUrl", "is required with idpEntityId and certificates");
  if (!input.certificates) throw fieldError("certificates", "is required with idpEntityId and ssoUrl");
  return {
    entityId: input.idpEntityId,
    ssoUrl: input.ssoUrl,
    certificates: input.certificates,
    metadataUrl: null,
  };
}

function mergeSettings(input: PutInput, preset: string, current?: SamlSettings): SamlSettings {
  const base: SamlSettings = current ?? {
    provisioning: "manual",
    allowIdpInitiated: false,
    returnUrls: [],
    defaultReturnUrl: null,
    attributeMapping: { ...PRESETS[preset].attributeMapping },
    matching: { userName: true, email: true, idField: "externalId" },
    signAuthnRequests: true,
    sessionHours: 12,
  };
  const presetChanged = input.preset !== undefined && current !== undefined;
  return {
    provisioning: input.provisioning ?? base.provisioning,
    allowIdpInitiated: input.allowIdpInitiated ?? base.allowIdpInitiated,
    returnUrls: input.returnUrls ?? base.returnUrls,
    defaultReturnUrl: input.defaultReturnUrl === undefined ? base.defaultReturnUrl : input.defaultReturnUrl,
    attributeMapping: {
      ...(presetChanged ? PRESETS[preset].attributeMapping : base.attributeMapping),
      ...(input.attributeMapping ?? {}),
    },
    matching: { ...base.matching, ...(input.matching ?? {}) },
    signAuthnRequests: input.signAuthnRequests ?? base.signAuthnRequests,
    sessionHours: input.sessionHours ?? base.sessionHours,
  };
}

function checkSsoUrl(deps: SsoDeps, ssoUrl: string, field: string): void {
  let u: URL;
  try {
    u = new URL(ssoUrl);
  } catch {
    throw fieldError(field, "is not a URL");
  }
  if (u.protocol !== "https:" && !(deps.config.allowPrivateNetwork && u.protocol === "http:"))
    throw fieldError(field, "must be an https URL");
}

/**
 * What metadata (XML or fetched) says must fit its columns like a field given directly: the
 * entity ID's 1,024 and the SSO URL's 2,048 characters, no NUL (`&#0;`) or lone surrogate
 * (`&#xD800;`). PostgreSQL refused them with a 500; SQLite stored them.
 */
function checkIdpFits(idp: { entityId: string; ssoUrl: string }, field: string): void {
  for (const [what, value, limit] of [
    ["the entity ID", idp.entityId, 1024],
    ["the SSO URL", idp.ssoUrl, 2048],
  ] as const) {
    const problem = stringProblem(value);
    if (problem) throw fieldError(field, `${what} contains ${problem}`);
    if (value.length > limit && characters(value) > limit)
      throw fieldError(field, `${what} is longer than ${limit} characters`);
  }
}

/** Create or change the tenant's connection (PUT). A real change bumps the version and needs a new test. */
export async function putConnection(deps: SsoDeps, slug: string, body: unknown) {
  const input = parseInput(putConnectionInput, body);
  const tenant = await requireTenant(deps, slug);
  const current = await store.findConnection(deps.db, tenant.id);
  return viewConnection(
    deps,
    tenant,
    await saveConnection(deps, tenant, current, input, { isDefault: true }),
  );
}

/** What a named connection adds when it is created or renamed. */
export interface ConnectionIdentity {
  isDefault: boolean;
  name?: string;
}

/**
 * Create (`current` undefined) or change a connection from a PUT-shaped input; a real change
 * bumps the version and needs a new test. Returns the connection as stored.
 */
export async function saveConnection(
  deps: SsoDeps,
  tenant: Tenant,
  current: SamlConnection | undefined,
  input: PutInput,
  identity: ConnectionIdentity,
  inTransaction?: (trx: Knex.Transaction, next: SamlConnection) => Promise<void>,
): Promise<SamlConnection> {
  const idp = await idpSide(deps, input);
  if (!idp && !current)
    throw fieldError(
      "metadataXml",
      "a new connection needs metadataXml, metadataUrl or idpEntityId+ssoUrl+certificates",
    );
  const now = deps.now();
  const at = now.toISOString();
  const preset = input.preset ?? current?.preset ?? "custom";
  const next: SamlConnection = current
    ? { ...current }
    : {
        id: randomUUID(),
        tenantId: tenant.id,
        name: identity.name ?? "SAML",
        isDefault: identity.isDefault,
        state: "draft",
        preset,
        idpEntityId: "",
        ssoUrl: "",
        metadataUrl: null,
        certificates: [],
        settings: mergeSettings(input, preset),
        sp: await generateSpKeys(tenant.slug),
        configVersion: 1,
        testedVersion: null,
        testedAt: null,
        enabledAt: null,
        expiryAlerts: {},
        createdAt: at,
        updatedAt: at,
      };
  if (idp) {
    const field = input.metadataXml ? "metadataXml" : input.metadataUrl ? "metadataUrl" : "certificates";
    checkIdpFits(idp, field);
    checkSsoUrl(deps, idp.ssoUrl, input.ssoUrl ? "ssoUrl" : field);
    next.idpEntityId = idp.entityId;
    next.ssoUrl = idp.ssoUrl;
    next.metadataUrl = idp.metadataUrl;
    next.certificates = validateCertificates(idp.certificates, now, field);
  }
  next.preset = preset;
  next.settings = current ? mergeSettings(input, preset, current.settings) : next.settings;
  if (current) {
    const renamed = identity.name !== undefined && identity.name !== current.name;
    const changed =
      JSON.stringify({ ...next, updatedAt: "" }) !== JSON.stringify({ ...current, updatedAt: "" });
    if (!changed && !renamed) {
      if (inTransaction) await deps.db.transaction((trx) => inTransaction(trx, current));
      return current;
    }
    // A new name is not a new configuration: no new test needed.
    if (renamed) next.name = identity.name!;
    if (changed) {
      next.configVersion = current.configVersion + 1;
      if (next.state === "tested") next.state = "draft";
    }
    next.updatedAt = at;
  }
  await deps.db.transaction(async (trx) => {
    if (current) await store.updateConnection(trx, next);
    else await store.insertConnection(trx, next);
    await deps.jobs.enqueue(trx, [{ name: CERT_JOB, tenantId: null, payload: {}, dedupeKey: CERT_JOB }], now);
    if (inTransaction) await inTransaction(trx, next);
  });
  return next;
}

/** The connection as the admin API shows it: state, IdP side with certificate expiry, SP side, settings. */
export function viewConnection(deps: Pick<SsoDeps, "now" | "config">, tenant: Tenant, c: SamlConnection) {
  const urls = spUrls(deps.config.publicUrl, tenant.slug, c);
  const now = deps.now();
  return {
    id: c.id,
    tenant: tenant.slug,
    state: c.state,
    preset: c.preset,
    idp: {
      entityId: c.idpEntityId,
      ssoUrl: c.ssoUrl,
      metadataUrl: c.metadataUrl,
      certificates: c.certificates.map((pem) => ({ ...describeCertificate(pem, now), pem })),
    },
    sp: {
      ...urls,
      signingCertificate: c.sp.signingCert,
      encryptionCertificate: c.sp.encryptionCert,
    },
    settings: c.settings,
    configVersion: c.configVersion,
    testedSinceLastChange: c.testedVersion === c.configVersion,
    testedAt: c.testedAt,
    enabledAt: c.enabledAt,
    instructions: PRESETS[c.preset]?.instructions ?? PRESETS.custom.instructions,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
  };
}

/**
 * The tenant and its default connection (404 SAML_NOT_CONFIGURED), or with `connectionId` that
 * connection of the tenant (404 CONNECTION_NOT_FOUND, another tenant's included).
 */
export async function requireConnection(deps: Pick<SsoDeps, "db">, slug: string, connectionId?: string) {
  const tenant = await requireTenant(deps, slug);
  if (connectionId !== undefined) {
    const conn = UUID.test(connectionId)
      ? await store.findConnectionById(deps.db, tenant.id, connectionId)
      : undefined;
    if (!conn)
      throw new AppError(
        404,
        "CONNECTION_NOT_FOUND",
        `Tenant '${slug}' has no connection '${connectionId.slice(0, 100)}'`,
      );
    return { tenant, conn };
  }
  const conn = await store.findConnection(deps.db, tenant.id);
  if (!conn) throw new AppError(404, "SAML_NOT_CONFIGURED", `Tenant '${slug}' has no SAML connection`);
  return { tenant, conn };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** GET …/saml. */
export async function getConnection(deps: SsoDeps, slug: string) {
  const { tenant, conn } = await requireConnection(deps, slug);
  return viewConnection(deps, tenant, conn);
}

/** DELETE …/saml. */
export async function deleteConnection(deps: SsoDeps, slug: string): Promise<void> {
  const tenant = await requireTenant(deps, slug);
  if ((await store.deleteConnection(deps.db, tenant.id)) === 0) throw notFound("SAML connection");
}

/** POST …/saml/enable: 409 unless a test succeeded since the last change. */
export async function enableConnection(deps: SsoDeps, slug: string, connectionId?: string) {
  const { tenant, conn } = await requireConnection(deps, slug, connectionId);
  if (conn.testedVersion !== conn.configVersion)
    throw conflict(
      "SAML_NOT_TESTED",
      "Test the configuration first: there is no successful test since the last change (POST …/saml/test)",
    );
  const at = deps.now().toISOString();
  const next: SamlConnection = { ...conn, state: "enabled", enabledAt: conn.enabledAt ?? at, updatedAt: at };
  await store.updateConnection(deps.db, next);
  return viewConnection(deps, tenant, next);
}

/** POST …/saml/disable. */
export async function disableConnection(deps: SsoDeps, slug: string, connectionId?: string) {
  const { tenant, conn } = await requireConnection(deps, slug, connectionId);
  const at = deps.now().toISOString();
  const next: SamlConnection = { ...conn, state: "disabled", enabledAt: null, updatedAt: at };
  await store.updateConnection(deps.db, next);
  return viewConnection(deps, tenant, next);
}

/** POST …/saml/sp-keys/rotate: new SP signing and encryption keys (the IdP needs the new metadata). */
export async function rotateSpKeys(deps: SsoDeps, slug: string, connectionId?: string) {
  const { tenant, conn } = await requireConnection(deps, slug, connectionId);
  const at = deps.now().toISOString();
  const next: SamlConnection = {
    ...conn,
    sp: await generateSpKeys(tenant.slug),
    configVersion: conn.configVersion + 1,
    state: conn.state === "tested" ? "draft" : conn.state,
    updatedAt: at,
  };
  await store.updateConnection(deps.db, next);
  return viewConnection(deps, tenant, next);
}

/** POST …/saml/test: a pending test and the login URL that runs it. */
export async function startTest(deps: SsoDeps, slug: string, connectionId?: string) {
  const { tenant, conn } = await requireConnection(deps, slug, connectionId);
  const test: store.SamlTest = {
    id: randomUUID(),
    tenantId: tenant.id,
    connectionId: conn.id,
    configVersion: conn.configVersion,
    status: "pending",
    report: null,
    createdAt: deps.now().toISOString(),
    completedAt: null,
  };
  await store.insertTest(deps.db, test);
  const loginUrl = `${spUrls(deps.config.publicUrl, tenant.slug, conn).loginUrl}?test=${test.id}`;
  return { id: test.id, loginUrl, status: test.status };
}

/** GET …/saml/test/{id}: the report. */
export async function getTest(deps: SsoDeps, slug: string, id: string) {
  const tenant = await requireTenant(deps, slug);
  const test = await store.findTest(deps.db, tenant.id, id);
  if (!test) throw notFound("SAML test");
  const { tenantId: _t, ...rest } = test;
  return rest;
}

/**
 * The console's provisioning preference (JIT or manual) alone. A test login proves the IdP side
 * (signature, issuer, audience, the person's match), not how unknown people are created later,
 * so this keeps the configuration version: an enabled or tested connection stays so. PUT …/saml
 * still counts `provisioning` as a change (its contract is unchanged).
 */
export async function setProvisioning(deps: SsoDeps, slug: string, provisioning: "jit" | "manual") {
  const { tenant, conn } = await requireConnection(deps, slug);
  if (conn.settings.provisioning === provisioning) return viewConnection(deps, tenant, conn);
  const next: SamlConnection = {
    ...conn,
    settings: { ...conn.settings, provisioning },
    updatedAt: deps.now().toISOString(),
  };
  await store.updateConnection(deps.db, next);
  return viewConnection(deps, tenant, next);
}
