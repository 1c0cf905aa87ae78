import type { Knex } from "knex";
import { listRoutedDomains } from "../domains/store.js";
import type { Tenant } from "../tenants/store.js";
import { requireTenant } from "../tenants/use-cases.js";
import { findOidcConnection } from "./oidc/connection-store.js";
import { oidcRegistryEntry } from "./oidc/connections.js";
import {
  findConnection as findSamlDefault,
  listConnections as listSamlConnections,
} from "./saml/connection-store.js";
import { spUrls } from "./saml/sp.js";

/** The sign-in protocols a connection speaks. */
export type ConnectionType = "saml" | "oidc";

/**
 * What every SSO connection shows the registry, whatever its protocol: the one shape the
 * admin list, routing by domain and the console read. A protocol's own fields (SAML
 * certificates, OIDC issuer and client) stay behind its own routes.
 */
export interface SsoConnection {
  id: string;
  tenantId: string;
  type: ConnectionType;
  name: string;
  /** The verified domains that route to this connection (ASCII, by name). */
  domains: string[];
  /** draft → tested → enabled (and disabled): only `enabled` routes sign-in. */
  state: "draft" | "tested" | "enabled" | "disabled";
  /** Where a browser starts a sign-in through it. */
  loginUrl: string;
}

/** What a protocol registers: how to list its connections of a tenant. */
export interface ConnectionSource {
  type: ConnectionType;
  list(ctx: RegistryContext, tenant: Tenant): Promise<SsoConnection[]>;
}

/** What the sources read with. */
export interface RegistryContext {
  db: Knex;
  config: { publicUrl: string };
}

/**
 * The tenant's SAML connections: the default (PUT …/saml, /sso/{slug}/…) gets the verified
 * domains routed to no connection in particular; the others (POST …/connections,
 * /sso/{slug}/{id}/…) the ones routed to them.
 */
export const samlSource: ConnectionSource = {
  type: "saml",
  async list(ctx, tenant) {
    const out: SsoConnection[] = [];
    for (const conn of await listSamlConnections(ctx.db, tenant.id))
      out.push({
        id: conn.id,
        tenantId: tenant.id,
        type: "saml",
        name: conn.name,
        domains: await listRoutedDomains(ctx.db, tenant.id, conn.id, conn.isDefault, true),
        state: conn.state,
        loginUrl: spUrls(ctx.config.publicUrl, tenant.slug, conn).loginUrl,
      });
    return out;
  },
};

/**
 * The tenant's OpenID Connect connection (one per tenant, …/oidc): the verified domains routed
 * to it, and those routed to no connection in particular when the default SAML connection is
 * not enabled (discover sends those to OIDC then).
 */
export const oidcSource: ConnectionSource = {
  type: "oidc",
  async list(ctx, tenant) {
    const c = await findOidcConnection(ctx.db, tenant.id);
    if (!c) return [];
    const saml = await findSamlDefault(ctx.db, tenant.id);
    const takesUnrouted = saml?.state !== "enabled";
    return [
      {
        ...oidcRegistryEntry(ctx.config.publicUrl, tenant, c),
        domains: await listRoutedDomains(ctx.db, tenant.id, c.id, takesUnrouted, true),
      },
    ];
  },
};

/** Every protocol's source. */
export const CONNECTION_SOURCES: ConnectionSource[] = [samlSource, oidcSource];

/** GET …/connections: the tenant's connections of every protocol. */
export async function listConnections(ctx: RegistryContext, slug: string) {
  const tenant = await requireTenant(ctx, slug);
  const lists = await Promise.all(CONNECTION_SOURCES.map((s) => s.list(ctx, tenant)));
  return lists.flat().map(({ tenantId: _t, ...c }) => c);
}
