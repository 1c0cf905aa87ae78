import type { Deps } from "../deps.js";
import { publicWebhook, requireWebhook } from "../events/webhooks.js";
import { publicRole, requireRole, requireTenantWithRoles } from "../roles/use-cases.js";
import { getOidcConnection } from "../sso/oidc/connections.js";
import { getPolicy } from "../sso/policy.js";
import { getConnection } from "../sso/saml/connections.js";
import { getNamedConnection } from "../sso/saml/named-connections.js";
import { requireTenant } from "../tenants/use-cases.js";

/** How one admin route is audited. */
export interface AuditSpec {
  /** The action recorded, `noun.verb_past` (e.g. `scim_token.revoked`). */
  action: string;
  /** What kind of thing it acts on. */
  target: string;
  /** The route parameter naming the target (else: the answer's `id`, for creations). */
  param?: string;
  /** The target's state before the action, for old → new (PATCH/PUT of a thing with a GET). */
  before?: (deps: Deps, params: Record<string, string>) => Promise<unknown>;
}

/** A route that changes nothing despite its method (a preview): declared, and not audited. */
export const READ_ONLY = "read-only" as const;

/**
 * Every admin route that is not a GET, by `METHOD /pattern` exactly as mounted under /admin/v1,
 * and how it is audited. A route missing here fails test/logs/audit-routes.test.ts (it walks the
 * app's route table), and at run time is still audited under `METHOD /path`.
 * Console routes record through recordAudit with their own actor (see middleware.ts).
 */
export const ADMIN_ACTIONS: Record<string, AuditSpec | typeof READ_ONLY> = {
  "POST /tenants": { action: "tenant.created", target: "tenant" },
  "PATCH /tenants/:slug": {
    action: "tenant.updated",
    target: "tenant",
    param: "slug",
    before: (deps, p) => requireTenant(deps, p.slug),
  },
  "DELETE /tenants/:slug": { action: "tenant.deleted", target: "tenant", param: "slug" },
  "POST /tenants/:slug/scim-tokens": { action: "scim_token.created", target: "scim_token" },
  "DELETE /tenants/:slug/scim-tokens/:id": {
    action: "scim_token.revoked",
    target: "scim_token",
    param: "id",
  },

  "POST /tenants/:slug/roles": { action: "role.created", target: "role" },
  "POST /tenants/:slug/roles/recompute": {
    action: "roles.recompute_requested",
    target: "tenant",
    param: "slug",
  },
  "PATCH /tenants/:slug/roles/:key": {
    action: "role.updated",
    target: "role",
    param: "key",
    before: async (deps, p) =>
      publicRole(await requireRole(deps, (await requireTenantWithRoles(deps, p.slug)).id, p.key)),
  },
  "DELETE /tenants/:slug/roles/:key": { action: "role.deleted", target: "role", param: "key" },
  "POST /tenants/:slug/role-mappings/preview": READ_ONLY,
  "POST /tenants/:slug/role-mappings": { action: "role_mapping.created", target: "role_mapping" },
  "DELETE /tenants/:slug/role-mappings/:id": {
    action: "role_mapping.deleted",
    target: "role_mapping",
    param: "id",
  },
  "PUT /tenants/:slug/users/:userId/roles/:roleKey": {
    action: "user_role.granted",
    target: "user",
    param: "userId",
  },
  "DELETE /tenants/:slug/users/:userId/roles/:roleKey": {
    action: "user_role.revoked",
    target: "user",
    param: "userId",
  },

  "POST /tenants/:slug/users/:ref/offboard": { action: "user.offboarded", target: "user", param: "ref" },
  "DELETE /tenants/:slug/sessions": { action: "sessions.revoked", target: "tenant", param: "slug" },
  "DELETE /tenants/:slug/sessions/:id": { action: "session.revoked", target: "session", param: "id" },

  "POST /tenants/:slug/webhooks": { action: "webhook.created", target: "webhook" },
  "PATCH /tenants/:slug/webhooks/:id": {
    action: "webhook.updated",
    target: "webhook",
    param: "id",
    before: async (deps, p) => publicWebhook(await requireWebhook(deps, p.slug, p.id)),
  },
  "DELETE /tenants/:slug/webhooks/:id": { action: "webhook.deleted", target: "webhook", param: "id" },
  "POST /tenants/:slug/webhooks/:id/rotate-secret": {
    action: "webhook.secret_rotated",
    target: "webhook",
    param: "id",
  },
  "POST /tenants/:slug/webhooks/:id/deliveries/:deliveryId/redeliver": {
    action: "webhook.redelivered",
    target: "webhook_delivery",
    param: "deliveryId",
  },

  "PUT /tenants/:slug/saml": {
    action: "saml.configured",
    target: "saml_connection",
    param: "slug",
    before: (deps, p) => getConnection(deps, p.slug),
  },
  "DELETE /tenants/:slug/saml": { action: "saml.deleted", target: "saml_connection", param: "slug" },
  "POST /tenants/:slug/saml/test": { action: "saml.test_started", target: "saml_connection", param: "slug" },
  "POST /tenants/:slug/saml/enable": { action: "saml.enabled", target: "saml_connection", param: "slug" },
  "POST /tenants/:slug/saml/disable": { action: "saml.disabled", target: "saml_connection", param: "slug" },
  "POST /tenants/:slug/saml/sp-keys/rotate": {
    action: "saml.sp_keys_rotated",
    target: "saml_connection",
    param: "slug",
  },
  "POST /tenants/:slug/oauth-clients": { action: "oauth_client.created", target: "oauth_client" },
  "DELETE /tenants/:slug/oauth-clients/:id": {
    action: "oauth_client.revoked",
    target: "oauth_client",
    param: "id",
  },
  "POST /tenants/:slug/users": { action: "user.invited", target: "user" },

  // Several connections per tenant (issue 16).
  "POST /tenants/:slug/connections": { action: "connection.created", target: "connection" },
  "PATCH /tenants/:slug/connections/:id": {
    action: "connection.updated",
    target: "connection",
    param: "id",
    before: (deps, p) => getNamedConnection(deps, p.slug, p.id),
  },
  "DELETE /tenants/:slug/connections/:id": {
    action: "connection.deleted",
    target: "connection",
    param: "id",
  },
  "POST /tenants/:slug/connections/:id/test": {
    action: "connection.test_started",
    target: "connection",
    param: "id",
  },
  "POST /tenants/:slug/connections/:id/enable": {
    action: "connection.enabled",
    target: "connection",
    param: "id",
  },
  "POST /tenants/:slug/connections/:id/disable": {
    action: "connection.disabled",
    target: "connection",
    param: "id",
  },

  // OpenID Connect (issue 17).
  "PUT /tenants/:slug/oidc": {
    action: "oidc.configured",
    target: "oidc_connection",
    param: "slug",
    before: (deps, p) => getOidcConnection(deps, p.slug),
  },
  "DELETE /tenants/:slug/oidc": { action: "oidc.deleted", target: "oidc_connection", param: "slug" },
  "POST /tenants/:slug/oidc/test": { action: "oidc.test_started", target: "oidc_connection", param: "slug" },
  "POST /tenants/:slug/oidc/enable": { action: "oidc.enabled", target: "oidc_connection", param: "slug" },
  "POST /tenants/:slug/oidc/disable": { action: "oidc.disabled", target: "oidc_connection", param: "slug" },

  // Verified domains and Require SSO (issue 16).
  "POST /tenants/:slug/domains": { action: "domain.claimed", target: "domain" },
  "DELETE /tenants/:slug/domains/:domain": { action: "domain.deleted", target: "domain", param: "domain" },
  "POST /tenants/:slug/domains/:domain/verify": {
    action: "domain.verify_requested",
    target: "domain",
    param: "domain",
  },
  "PUT /tenants/:slug/sso-policy": {
    action: "sso_policy.updated",
    target: "tenant",
    param: "slug",
    before: (deps, p) => getPolicy(deps, p.slug),
  },
  "POST /tenants/:slug/sso-policy/break-glass/arm": {
    action: "break_glass.armed",
    target: "tenant",
    param: "slug",
  },
  "POST /tenants/:slug/sso-policy/break-glass/disarm": {
    action: "break_glass.disarmed",
    target: "tenant",
    param: "slug",
  },

  // Console setup links (issue 15): the URL is shown once and never recorded.
  "POST /tenants/:slug/setup-links": { action: "setup_link.created", target: "setup_link" },
  "DELETE /tenants/:slug/setup-links/:id": {
    action: "setup_link.revoked",
    target: "setup_link",
    param: "id",
  },

  "POST /jobs/:id/retry": { action: "job.retried", target: "job", param: "id" },
};
