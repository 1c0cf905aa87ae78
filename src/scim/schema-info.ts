import SCIMMY from "scimmy";

/** RFC 7643 §7 attribute definition, as published at /Schemas. */
export interface AttributeDef {
  name: string;
  type: "string" | "boolean" | "decimal" | "integer" | "dateTime" | "reference" | "binary" | "complex";
  multiValued: boolean;
  required: boolean;
  caseExact: boolean;
  mutability: "readOnly" | "readWrite" | "immutable" | "writeOnly";
  returned: "always" | "never" | "default" | "request";
  uniqueness?: "none" | "server" | "global";
  subAttributes?: AttributeDef[];
  canonicalValues?: string[];
  referenceTypes?: string[];
  description?: string;
}

/** A published schema (RFC 7643 §7). */
export interface SchemaDef {
  id: string;
  name: string;
  description?: string;
  attributes: AttributeDef[];
}

export const USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User";
export const GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group";
export const ENTERPRISE_USER_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const COMMON = new Set(["schemas", "id", "externalId", "meta"]);

function describe(schema: { definition: { describe(): any } }): SchemaDef {
  const d = schema.definition.describe();
  return {
    id: d.id,
    name: d.name,
    description: d.description,
    // id, externalId and meta are common attributes (RFC 7643 §3.1), not part of a schema's list.
    attributes: (JSON.parse(JSON.stringify(d.attributes)) as AttributeDef[]).filter(
      (a) => !COMMON.has(a.name),
    ),
  };
}

/** The schemas Roster serves, from scimmy's definitions of RFC 7643. */
export const SCHEMAS: Record<string, SchemaDef> = {
  [USER_SCHEMA]: describe(SCIMMY.Schemas.User),
  [GROUP_SCHEMA]: describe(SCIMMY.Schemas.Group),
  [ENTERPRISE_USER_SCHEMA]: describe(SCIMMY.Schemas.EnterpriseUser),
};

/** The common attributes every resource has (RFC 7643 §3.1). */
export const COMMON_ATTRIBUTES: AttributeDef[] = [
  {
    name: "id",
    type: "string",
    multiValued: false,
    required: false,
    caseExact: true,
    mutability: "readOnly",
    returned: "always",
  },
  {
    name: "externalId",
    type: "string",
    multiValued: false,
    required: false,
    caseExact: true,
    mutability: "readWrite",
    returned: "default",
  },
  {
    name: "meta",
    type: "complex",
    multiValued: false,
    required: false,
    caseExact: false,
    mutability: "readOnly",
    returned: "default",
  },
];

/** A resource type: its core schema and extensions. */
export interface ResourceKind {
  name: "User" | "Group";
  endpoint: "/Users" | "/Groups";
  schema: string;
  extensions: string[];
}

export const USER_KIND: ResourceKind = {
  name: "User",
  endpoint: "/Users",
  schema: USER_SCHEMA,
  extensions: [ENTERPRISE_USER_SCHEMA],
};
export const GROUP_KIND: ResourceKind = {
  name: "Group",
  endpoint: "/Groups",
  schema: GROUP_SCHEMA,
  extensions: [],
};

/** A resolved attribute path: which schema, which attribute, which sub-attribute. */
export interface ResolvedPath {
  schema: string;
  attr: AttributeDef;
  sub?: AttributeDef;
}

/**
 * Resolve an attribute path such as `userName`, `name.givenName`, `emails.value` or
 * `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value`, case-insensitively
 * (RFC 7643 §2.1: attribute names are case-insensitive). Undefined when unknown.
 */
export function resolvePath(kind: ResourceKind, path: string): ResolvedPath | undefined {
  let schemaId = kind.schema;
  let rest = path;
  const lower = path.toLowerCase();
  for (const id of [kind.schema, ...kind.extensions]) {
    if (lower.startsWith(`${id.toLowerCase()}:`)) {
      schemaId = id;
      rest = path.slice(id.length + 1);
      break;
    }
  }
  const [attrName, subName, ...more] = rest.split(".");
  if (more.length) return undefined;
  const schema = SCHEMAS[schemaId];
  const pool = schemaId === kind.schema ? [...COMMON_ATTRIBUTES, ...schema.attributes] : schema.attributes;
  const attr = pool.find((a) => a.name.toLowerCase() === attrName.toLowerCase());
  if (!attr) return undefined;
  if (subName === undefined) return { schema: schemaId, attr };
  const sub = attr.subAttributes?.find((s) => s.name.toLowerCase() === subName.toLowerCase());
  return sub ? { schema: schemaId, attr, sub } : undefined;
}
