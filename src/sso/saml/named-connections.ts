import type { Knex } from "knex";
import { z } from "zod";
import { requireClaimableDomain } from "../../domains/names.js";
import * as domainStore from "../../domains/store.js";
import { AppError, conflict } from "../../http/errors.js";
import { parseInput } from "../../http/validate.js";
import type { Tenant } from "../../tenants/store.js";
import { requireTenant } from "../../tenants/use-cases.js";
import * as store from "./connection-store.js";
import type { SamlConnection } from "./connection-store.js";
import {
  putConnectionInput,
  requireConnection,
  type SsoDeps,
  saveConnection,
  viewConnection,
} from "./connections.js";

/** Connections one tenant may have (the default included): what an admin can make Roster keep keys for. */
export const MAX_CONNECTIONS_PER_TENANT = 20;

const named = {
  type: z.literal("saml"),
  name: z.string().trim().min(1).max(200),
  domains: z.array(z.string().max(1024)).max(100),
};

/** Body of POST …/connections: `{"type": "saml", "name", "domains"?, …the SAML fields of PUT …/saml}`. */
export const createConnectionInput = putConnectionInput
  .extend({ ...named, domains: named.domains.optional() })
  .strict();

/** Body of PATCH …/connections/{id}: any of the same fields. */
export const patchConnectionInput = putConnectionInput
  .extend({ type: named.type.optional(), name: named.name.optional(), domains: named.domains.optional() })
  .strict();

/** The connection as …/connections shows it: the SAML view with its type, name and domains. */
async function viewNamed(deps: SsoDeps, tenant: Tenant, c: SamlConnection) {
  return {
    type: "saml" as const,
    name: c.name,
    isDefault: c.isDefault,
    domains: await domainStore.listRoutedDomains(deps.db, tenant.id, c.id, c.isDefault, false),
    ...viewConnection(deps, tenant, c),
  };
}

/** The given domains, normalised, each one the tenant claimed (400 DOMAIN_NOT_CLAIMED otherwise). */
async function claimedDomains(deps: SsoDeps, tenant: Tenant, raw: string[] | undefined) {
  if (raw === undefined) return undefined;
  const domains = [...new Set(raw.map((d, i) => requireClaimableDomain(d, `domains.${i}`)))];
  const claimed = new Set((await domainStore.listDomains(deps.db, tenant.id)).map((d) => d.domain));
  const missing = domains.filter((d) => !claimed.has(d));
  if (missing.length)
    throw new AppError(
      400,
      "DOMAIN_NOT_CLAIMED",
      `Claim and verify these domains first (POST …/domains): ${missing.join(", ")}`,
      {
        domains: missing,
      },
    );
  return domains;
}

const assign = (tenant: Tenant, domains: string[] | undefined) =>
  domains === undefined
    ? undefined
    : (trx: Knex.Transaction, c: SamlConnection) => domainStore.assignDomains(trx, tenant.id, c.id, domains);

/** POST …/connections: a new SAML connection of the tenant (draft), with the domains routed to it. */
export async function createConnection(deps: SsoDeps, slug: string, body: unknown) {
  const { type: _t, name, domains: rawDomains, ...saml } = parseInput(createConnectionInput, body);
  const tenant = await requireTenant(deps, slug);
  if ((await store.countConnections(deps.db, tenant.id)) >= MAX_CONNECTIONS_PER_TENANT)
    throw conflict("CONNECTION_LIMIT", `A tenant may have at most ${MAX_CONNECTIONS_PER_TENANT} connections`);
  const domains = await claimedDomains(deps, tenant, rawDomains);
  // The first connection of a tenant is its default (what PUT …/saml and /sso/{slug}/… serve).
  const isDefault = !(await store.findConnection(deps.db, tenant.id));
  const c = await saveConnection(deps, tenant, undefined, saml, { name, isDefault }, assign(tenant, domains));
  return viewNamed(deps, tenant, c);
}

/** GET …/connections/{id}. */
export async function getNamedConnection(deps: SsoDeps, slug: string, id: string) {
  const { tenant, conn } = await requireConnection(deps, slug, id);
  return viewNamed(deps, tenant, conn);
}

/** PATCH …/connections/{id}: SAML fields (a change needs a new test), name, domains. */
export async function patchConnection(deps: SsoDeps, slug: string, id: string, body: unknown) {
  const { type: _t, name, domains: rawDomains, ...saml } = parseInput(patchConnectionInput, body);
  const { tenant, conn } = await requireConnection(deps, slug, id);
  const domains = await claimedDomains(deps, tenant, rawDomains);
  const c = await saveConnection(
    deps,
    tenant,
    conn,
    saml,
    { isDefault: conn.isDefault, name },
    assign(tenant, domains),
  );
  return viewNamed(deps, tenant, c);
}

/** DELETE …/connections/{id}: its domains route to the tenant's default connection again. */
export async function deleteNamedConnection(deps: SsoDeps, slug: string, id: string): Promise<void> {
  const { tenant, conn } = await requireConnection(deps, slug, id);
  await deps.db.transaction(async (trx) => {
    await domainStore.assignDomains(trx, tenant.id, conn.id, []);
    await store.deleteConnectionById(trx, tenant.id, conn.id);
  });
}
