import { ScimError } from "../../http/errors.js";
import { type AttributeDef, type ResourceKind, resolvePath } from "../schema-info.js";

/** The SQL dialects Roster runs on. */
export type Dialect = "sqlite" | "pg";

/**
 * How stored text relates to the SCIM value's case (RFC 7643 §2.2 caseExact):
 * exact = compare as is; norm = the column holds a lower-cased copy (lower the value only, so the
 * index is used); lower = compare lower(column) with the lower-cased value.
 */
export type Fold = "exact" | "norm" | "lower";

/** A child table holding one row per value of a multi-valued attribute, keyed to its owner's id. */
export interface Child {
  table: string;
  alias: string;
  fk: string;
  owner: "users" | "groups";
}

/** Where a filterable attribute lives in storage and how to compare it. */
export interface Field {
  name: string;
  sql: string;
  column?: string;
  type: "string" | "boolean" | "dateTime" | "complex";
  fold: Fold;
  nullable: boolean;
  child?: Child;
  sortable?: boolean;
}

type Spec = Omit<Field, "name" | "sql"> & { column: string };

const quote = (ref: string) =>
  ref
    .split(".")
    .map((p) => `"${p}"`)
    .join(".");

const EMAILS: Child = { table: "user_emails", alias: "e", fk: "user_id", owner: "users" };
const USER_GROUPS: Child = { table: "group_members", alias: "gm", fk: "member_id", owner: "users" };
const GROUP_MEMBERS: Child = { table: "group_members", alias: "gm", fk: "group_id", owner: "groups" };

const str = (column: string, fold: Fold, nullable: boolean, extra: Partial<Spec> = {}): Spec => ({
  column,
  type: "string",
  fold,
  nullable,
  ...extra,
});
const date = (column: string): Spec => ({
  column,
  type: "dateTime",
  fold: "exact",
  nullable: false,
  sortable: true,
});

// Allow-list keyed by the lower-cased canonical path (migration 0002 holds the columns).
const USER_FIELDS: Record<string, Spec> = {
  id: str("users.id", "exact", false, { sortable: true }),
  username: str("users.user_name_norm", "norm", false, { sortable: true }),
  externalid: str("users.external_id", "exact", true, { sortable: true }),
  active: { column: "users.active", type: "boolean", fold: "exact", nullable: false },
  displayname: str("users.display_name_norm", "norm", true, { sortable: true }),
  "name.givenname": str("users.given_name", "lower", true),
  "name.familyname": str("users.family_name", "lower", true, { sortable: true }),
  "meta.created": date("users.created_at"),
  "meta.lastmodified": date("users.updated_at"),
  emails: str("e.value_norm", "norm", false, { child: EMAILS }),
  "emails.value": str("e.value_norm", "norm", false, { child: EMAILS }),
  "emails.type": str("e.type", "lower", true, { child: EMAILS }),
  "emails.primary": { column: "e.primary", type: "boolean", fold: "exact", nullable: false, child: EMAILS },
  groups: str("gm.group_id", "exact", false, { child: USER_GROUPS }),
  "groups.value": str("gm.group_id", "exact", false, { child: USER_GROUPS }),
};

const GROUP_FIELDS: Record<string, Spec> = {
  id: str("groups.id", "exact", false, { sortable: true }),
  externalid: str("groups.external_id", "exact", true, { sortable: true }),
  displayname: str("groups.display_name_norm", "norm", false, { sortable: true }),
  "meta.created": date("groups.created_at"),
  "meta.lastmodified": date("groups.updated_at"),
  members: str("gm.member_id", "exact", false, { child: GROUP_MEMBERS }),
  "members.value": str("gm.member_id", "exact", false, { child: GROUP_MEMBERS }),
  "members.type": str("gm.member_type", "lower", false, { child: GROUP_MEMBERS }),
};

// Multi-valued attributes stored one row per value, usable in a value path (RFC 7644 §3.4.2.2).
const CHILDREN: Record<string, Record<string, Child>> = {
  User: { emails: EMAILS, groups: USER_GROUPS },
  Group: { members: GROUP_MEMBERS },
};

const fail = (msg: string): never => {
  throw ScimError.of("invalidFilter", msg);
};

// scimmy's Attribute keeps caseExact/multiValued under `config`; plain definitions have them on top.
const flag = (a: AttributeDef, key: "caseExact" | "multiValued"): boolean =>
  Boolean(a[key] ?? (a as any).config?.[key]);

// meta is a common attribute (RFC 7643 §3.1) without published sub-attributes, so resolve it here.
function metaKey(kind: ResourceKind, path: string): string | undefined {
  const prefix = `${kind.schema.toLowerCase()}:`;
  const lower = path.toLowerCase();
  const bare = lower.startsWith(prefix) ? lower.slice(prefix.length) : lower;
  return bare === "meta" || bare.startsWith("meta.") ? bare : undefined;
}

// The SCIM document in users.resource: core attributes on top, extensions under their URN.
function jsonSql(dialect: Dialect, segments: string[]): string {
  if (dialect === "sqlite")
    return `json_extract("users"."resource", '$${segments.map((s) => `."${s}"`).join("")}')`;
  return `("users"."resource"::jsonb #>> '{${segments.map((s) => `"${s}"`).join(",")}}')`;
}

function jsonField(kind: ResourceKind, path: string, dialect: Dialect): Field | undefined {
  const r = resolvePath(kind, path);
  if (!r || kind.name !== "User" || flag(r.attr, "multiValued")) return undefined;
  // RFC 7643 §4.1.1: password is never returned, so it must not be probed through filters either.
  if (r.attr.name === "password") return undefined;
  const segments = [
    ...(r.schema === kind.schema ? [] : [r.schema]),
    r.attr.name,
    ...(r.sub ? [r.sub.name] : []),
  ];
  const leaf = r.sub ?? r.attr;
  const base = { name: path, sql: jsonSql(dialect, segments), nullable: true };
  if (leaf.type === "complex") return { ...base, type: "complex", fold: "exact" };
  if (leaf.type !== "string" && leaf.type !== "reference") return undefined;
  return { ...base, type: "string", fold: flag(leaf, "caseExact") ? "exact" : "lower" };
}

/** Map a filter attribute path to storage, case-insensitively; throws invalidFilter when not filterable. */
export function resolveField(kind: ResourceKind, path: string, dialect: Dialect): Field {
  const fields = kind.name === "User" ? USER_FIELDS : GROUP_FIELDS;
  const meta = metaKey(kind, path);
  let key = meta;
  if (!meta) {
    const r = resolvePath(kind, path);
    if (!r) return fail(`Unknown attribute '${path}' for ${kind.name}`);
    const base = r.sub ? `${r.attr.name}.${r.sub.name}` : r.attr.name;
    key = (r.schema === kind.schema ? base : `${r.schema}:${base}`).toLowerCase();
  }
  const spec = fields[key!];
  if (spec) return { ...spec, name: path, sql: quote(spec.column) };
  const json = meta ? undefined : jsonField(kind, path, dialect);
  if (json) return json;
  return fail(`Attribute '${path}' is not filterable on ${kind.name}`);
}

/** The prefix and child table for a value path `attr[...]` (RFC 7644 §3.4.2.2 valuePath). */
export function resolveParent(kind: ResourceKind, path: string): { prefix: string; child?: Child } {
  if (metaKey(kind, path) === "meta") return { prefix: path };
  const r = resolvePath(kind, path);
  if (!r) return fail(`Unknown attribute '${path}' for ${kind.name}`);
  if (r.sub || r.attr.type !== "complex") return fail(`'${path}' is not a complex attribute`);
  if (!flag(r.attr, "multiValued")) return { prefix: path };
  const child = CHILDREN[kind.name][r.attr.name.toLowerCase()];
  if (!child) return fail(`Attribute '${path}' is not filterable on ${kind.name}`);
  return { prefix: path, child };
}
