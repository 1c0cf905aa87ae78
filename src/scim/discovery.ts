import { MAX_RESULTS } from "./list.js";
import { GROUP_KIND, type ResourceKind, SCHEMAS, USER_KIND } from "./schema-info.js";

/** Bulk limits advertised and enforced (RFC 7644 §3.7). */
export const BULK_MAX_OPERATIONS = 1000;

/** GET /ServiceProviderConfig: only what this server really does (RFC 7643 §5). */
export function serviceProviderConfig(base: string, maxPayloadSize: number, documentationUri: string) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
    // The deployment's own docs when configured (ROSTER_SCIM_DOCUMENTATION_URL), else the protocol's.
    documentationUri,
    patch: { supported: true },
    bulk: { supported: true, maxOperations: BULK_MAX_OPERATIONS, maxPayloadSize },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: "oauthbearertoken",
        name: "OAuth Bearer Token",
        description: "A per-tenant SCIM bearer token issued by the Roster admin API (rst_scim_…)",
        specUri: "https://www.rfc-editor.org/rfc/rfc6750",
        primary: true,
      },
    ],
    meta: { resourceType: "ServiceProviderConfig", location: `${base}/ServiceProviderConfig` },
  };
}

function resourceType(kind: ResourceKind, base: string) {
  return {
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
    id: kind.name,
    name: kind.name,
    endpoint: kind.endpoint,
    description: kind.name === "User" ? "User Account" : "Group",
    schema: kind.schema,
    ...(kind.extensions.length
      ? { schemaExtensions: kind.extensions.map((schema) => ({ schema, required: false })) }
      : {}),
    meta: { resourceType: "ResourceType", location: `${base}/ResourceTypes/${kind.name}` },
  };
}

/** GET /ResourceTypes entries: User (with the Enterprise extension) and Group. */
export function resourceTypes(base: string) {
  return [resourceType(USER_KIND, base), resourceType(GROUP_KIND, base)];
}

/** GET /Schemas entries (RFC 7643 §7). */
export function schemas(base: string) {
  return Object.values(SCHEMAS).map((s) => ({
    schemas: ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
    ...s,
    meta: { resourceType: "Schema", location: `${base}/Schemas/${s.id}` },
  }));
}
