import type { Db } from "../../db/knex.js";
import { parseJson, toBool, toIso } from "../../db/rows.js";
import { openValue, sealValue } from "../../secrets/sealed.js";
import { rowToTenant, type Tenant } from "../../tenants/store.js";
import type { AttributeMapping } from "./presets.js";
import { REQUEST_COLUMNS, rowToRequest, type SamlRequestRow } from "../request-store.js";

/** Connection state: draft → tested → enabled (and disabled). */
export type ConnectionState = "draft" | "tested" | "enabled" | "disabled";

/** Per-connection settings. */
export interface SamlSettings {
  provisioning: "jit" | "manual";
  allowIdpInitiated: boolean;
  returnUrls: string[];
  defaultReturnUrl: string | null;
  attributeMapping: AttributeMapping;
  /** Directory matching: immutable id attribute (when mapped and sent) first, then these. */
  matching: { userName: boolean; email: boolean; idField: "externalId" | "id" };
  signAuthnRequests: boolean;
  sessionHours: number;
}

/** Roster's SP key pairs for one tenant (the private keys are encrypted at rest). */
export interface SpKeys {
  signingKey: string;
  signingCert: string;
  encryptionKey: string;
  encryptionCert: string;
}

/** A tenant's SAML connection as stored. */
export interface SamlConnection {
  id: string;
  tenantId: string;
  /** A name admins recognise ("Okta", "Contractors' Entra"). */
  name: string;
  /** The connection PUT …/saml manages and /sso/{slug}/… serves; others live under /sso/{slug}/{id}/…. */
  isDefault: boolean;
  state: ConnectionState;
  preset: string;
  idpEntityId: string;
  ssoUrl: string;
  metadataUrl: string | null;
  certificates: string[];
  settings: SamlSettings;
  sp: SpKeys;
  configVersion: number;
  testedVersion: number | null;
  testedAt: string | null;
  enabledAt: string | null;
  expiryAlerts: Record<string, number[]>;
  createdAt: string;
  updatedAt: string;
}

function rowToConnection(db: Db, r: any): SamlConnection {
  const row = [r.tenant_id, r.id];
  return {
    id: r.id,
    tenantId: r.tenant_id,
    name: r.name ?? "SAML",
    isDefault: toBool(r.is_default),
    state: r.state,
    preset: r.preset,
    idpEntityId: r.idp_entity_id,
    ssoUrl: r.sso_url,
    metadataUrl: r.metadata_url ?? null,
    certificates: parseJson(r.certificates, []),
    settings: parseJson(r.settings, {} as SamlSettings),
    sp: {
      signingKey: openValue(db, "saml_connections.sp_signing_key", row, r.sp_signing_key),
      signingCert: r.sp_signing_cert,
      encryptionKey: openValue(db, "saml_connections.sp_encryption_key", row, r.sp_encryption_key),
      encryptionCert: r.sp_encryption_cert,
    },
    configVersion: Number(r.config_version),
    testedVersion:
      r.tested_version === null || r.tested_version === undefined ? null : Number(r.tested_version),
    testedAt: toIso(r.tested_at),
    enabledAt: toIso(r.enabled_at),
    expiryAlerts: parseJson(r.expiry_alerts, {}),
    createdAt: toIso(r.created_at)!,
    updatedAt: toIso(r.updated_at)!,
  };
}

function connectionColumns(db: Db, c: SamlConnection) {
  const row = [c.tenantId, c.id];
  return {
    name: c.name,
    state: c.state,
    preset: c.preset,
    idp_entity_id: c.idpEntityId,
    sso_url: c.ssoUrl,
    metadata_url: c.metadataUrl,
    certificates: JSON.stringify(c.certificates),
    settings: JSON.stringify(c.settings),
    sp_signing_key: sealValue(db, "saml_connections.sp_signing_key", row, c.sp.signingKey),
    sp_signing_cert: c.sp.signingCert,
    sp_encryption_key: sealValue(db, "saml_connections.sp_encryption_key", row, c.sp.encryptionKey),
    sp_encryption_cert: c.sp.encryptionCert,
    config_version: c.configVersion,
    tested_version: c.testedVersion,
    tested_at: c.testedAt,
    enabled_at: c.enabledAt,
    expiry_alerts: JSON.stringify(c.expiryAlerts),
    updated_at: c.updatedAt,
  };
}

const TENANT_COLUMNS = ["id", "slug", "name", "settings", "created_at", "updated_at"];

/** A public SSO endpoint's context: the tenant, its connection and the request a response answers. */
export interface TenantConnection {
  tenant: Tenant;
  conn: SamlConnection | undefined;
  request: SamlRequestRow | undefined;
}

/**
 * A tenant by slug with its connection (undefined when it has none) and, for the ACS, the
 * started request a response names, in one query: every public SSO request starts here.
 */
export async function findTenantConnectionBySlug(
  db: Db,
  slug: string,
  requestId: string | null = null,
  connectionId: string | null = null,
): Promise<TenantConnection | undefined> {
  const q = db("tenants as t")
    .leftJoin("saml_connections as c", (j) => {
      j.on("c.tenant_id", "t.id");
      if (connectionId === null) j.andOnVal("c.is_default", true);
      else j.andOnVal("c.id", connectionId);
    })
    .where("t.slug", slug);
  // A request started on another of the tenant's connections is not one this ACS answers.
  if (requestId !== null)
    q.leftJoin("saml_requests as r", (j) =>
      j
        .on("r.tenant_id", "t.id")
        .andOnVal("r.id", requestId)
        .andOn((k) => k.on("r.connection_id", "c.id").orOnNull("r.connection_id")),
    );
  const row = await q.first([
    "c.*",
    ...TENANT_COLUMNS.map((c) => `t.${c} as t_${c}`),
    ...(requestId !== null ? REQUEST_COLUMNS.map((c) => `r.${c} as r_${c}`) : []),
  ]);
  if (!row) return undefined;
  const pick = (prefix: string, columns: string[]) =>
    Object.fromEntries(columns.map((c) => [c, row[`${prefix}${c}`]]));
  return {
    tenant: rowToTenant(pick("t_", TENANT_COLUMNS)),
    conn: row.id ? rowToConnection(db, row) : undefined,
    request: row.r_id ? rowToRequest(pick("r_", REQUEST_COLUMNS)) : undefined,
  };
}

/** The tenant's default connection (PUT …/saml), or undefined. */
export async function findConnection(db: Db, tenantId: string): Promise<SamlConnection | undefined> {
  const row = await db("saml_connections").where({ tenant_id: tenantId, is_default: true }).first();
  return row ? rowToConnection(db, row) : undefined;
}

/** One of the tenant's connections by id, or undefined. */
export async function findConnectionById(
  db: Db,
  tenantId: string,
  id: string,
): Promise<SamlConnection | undefined> {
  const row = await db("saml_connections").where({ tenant_id: tenantId, id }).first();
  return row ? rowToConnection(db, row) : undefined;
}

/** The tenant's connections, the default first, then by creation. */
export async function listConnections(db: Db, tenantId: string): Promise<SamlConnection[]> {
  const rows = await db("saml_connections")
    .where({ tenant_id: tenantId })
    .orderBy([{ column: "is_default", order: "desc" }, "created_at", "id"]);
  return rows.map((r: any) => rowToConnection(db, r));
}

/** How many connections the tenant has. */
export async function countConnections(db: Db, tenantId: string): Promise<number> {
  const row = await db("saml_connections").where({ tenant_id: tenantId }).count({ n: "*" }).first();
  return Number(row?.n ?? 0);
}

/** Delete one of the tenant's connections by id; returns rows deleted. */
export async function deleteConnectionById(db: Db, tenantId: string, id: string): Promise<number> {
  return db("saml_connections").where({ tenant_id: tenantId, id }).delete();
}

/** Insert a connection row. */
export async function insertConnection(db: Db, c: SamlConnection): Promise<void> {
  await db("saml_connections").insert({
    id: c.id,
    tenant_id: c.tenantId,
    is_default: c.isDefault,
    created_at: c.createdAt,
    ...connectionColumns(db, c),
  });
}

/** Write a connection's new state. */
export async function updateConnection(db: Db, c: SamlConnection): Promise<void> {
  await db("saml_connections").where({ tenant_id: c.tenantId, id: c.id }).update(connectionColumns(db, c));
}

/** Delete the tenant's default connection; returns rows deleted. */
export async function deleteConnection(db: Db, tenantId: string): Promise<number> {
  return db("saml_connections").where({ tenant_id: tenantId, is_default: true }).delete();
}

/** Every connection's tenant and id (for the daily certificate job). */
export async function listConnectionIds(db: Db): Promise<Array<{ tenantId: string; id: string }>> {
  return (await db("saml_connections").select("tenant_id", "id")).map((r: any) => ({
    tenantId: r.tenant_id,
    id: r.id,
  }));
}

/** A configuration test as stored. */
export interface SamlTest {
  id: string;
  tenantId: string;
  /** The connection tested (null: a test started before connections had ids here, the default). */
  connectionId: string | null;
  configVersion: number;
  status: "pending" | "succeeded" | "failed";
  report: Record<string, unknown> | null;
  createdAt: string;
  completedAt: string | null;
}

function rowToTest(r: any): SamlTest {
  return {
    id: r.id,
    tenantId: r.tenant_id,
    connectionId: r.connection_id ?? null,
    configVersion: Number(r.config_version),
    status: r.status,
    report: parseJson(r.report, null),
    createdAt: toIso(r.created_at)!,
    completedAt: toIso(r.completed_at),
  };
}

/** Insert a pending test. */
export async function insertTest(db: Db, t: SamlTest): Promise<void> {
  await db("saml_tests").insert({
    id: t.id,
    tenant_id: t.tenantId,
    connection_id: t.connectionId,
    config_version: t.configVersion,
    status: t.status,
    report: null,
    created_at: t.createdAt,
  });
}

/** One test of a tenant, or undefined. */
export async function findTest(db: Db, tenantId: string, id: string): Promise<SamlTest | undefined> {
  const row = await db("saml_tests").where({ tenant_id: tenantId, id }).first();
  return row ? rowToTest(row) : undefined;
}

/** Record a test's outcome. */
export async function completeTest(
  db: Db,
  tenantId: string,
  id: string,
  status: "succeeded" | "failed",
  report: Record<string, unknown>,
  at: string,
): Promise<void> {
  await db("saml_tests")
    .where({ tenant_id: tenantId, id })
    .update({ status, report: JSON.stringify(report), completed_at: at });
}

/** A successful test marks the connection tested, if no change happened since the test started. */
export async function markTested(
  db: Db,
  tenantId: string,
  connectionId: string,
  configVersion: number,
  at: string,
): Promise<void> {
  await db("saml_connections")
    .where({ tenant_id: tenantId, id: connectionId, config_version: configVersion })
    .update({
      tested_version: configVersion,
      tested_at: at,
      state: db.raw("case when state = 'draft' then 'tested' else state end"),
    });
}
