import type { Knex } from "knex";
import type { SqlFragment } from "../../db/exec.js";
import { type Db, dialectOf } from "../../db/knex.js";
import { ScimError } from "../../http/errors.js";
import type { ResourceKind } from "../schema-info.js";
import { type Child, type Dialect, type Field, resolveField, resolveParent } from "./fields.js";
import type { CompareOp, FilterNode } from "./parse.js";

/** A WHERE fragment with `?` placeholders, never evaluating to NULL. */
export type { SqlFragment };

interface Scope {
  kind: ResourceKind;
  dialect: Dialect;
  tenantId?: string;
  prefix?: string;
  child?: Child;
}

type Value = string | number | boolean | null;

const show = (value: Value) => {
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

const fail = (msg: string): never => {
  throw ScimError.of("invalidFilter", msg);
};

const ORDER: Partial<Record<CompareOp, string>> = { gt: ">", ge: ">=", lt: "<", le: "<=" };
const LIKE_ESCAPE = `escape '\\'`;
const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
const globEscape = (s: string) => s.replace(/[*?[]/g, (c) => `[${c}]`);
// SQLite's lower() folds ASCII only; folding more in JS would make `lower(col) = ?` miss.
const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
// RFC 7643 §2.3.5 dateTime (xsd:dateTime); a missing offset is read as UTC, not server time.
const DATE_TIME = /^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([Zz]|[+-]\d{2}:?\d{2})?)?$/;

function foldText(field: Field, value: string, dialect: Dialect): string {
  if (field.fold === "norm") return value.toLowerCase();
  if (field.fold === "lower") return dialect === "sqlite" ? asciiLower(value) : value.toLowerCase();
  return value;
}

function toDateTime(field: Field, value: Value): string {
  const m = typeof value === "string" ? DATE_TIME.exec(value) : null;
  const date = m
    ? new Date(m[2] ? `${m[1]}T${m[2]}${(m[3] ?? "Z").toUpperCase()}` : `${m[1]}T00:00:00Z`)
    : null;
  if (!date || Number.isNaN(date.getTime()))
    return fail(`'${field.name}' is a dateTime: expected an ISO 8601 string, got ${show(value)}`);
  return date.toISOString(); // stored as ISO-8601 UTC with milliseconds, so text order is time order
}

// Entra sends booleans as the strings "True"/"False".
function toBoolean(field: Field, value: Value, dialect: Dialect): boolean | number {
  const b =
    typeof value === "boolean"
      ? value
      : typeof value === "string" && /^(true|false)$/i.test(value)
        ? value.toLowerCase() === "true"
        : fail(`'${field.name}' is a boolean: expected true or false, got ${show(value)}`);
  return dialect === "sqlite" ? Number(b) : b; // SQLite stores booleans as 0/1
}

function binding(field: Field, op: CompareOp, value: Value, dialect: Dialect): string | number | boolean {
  if (field.type === "boolean") return toBoolean(field, value, dialect);
  if (field.type === "dateTime") return toDateTime(field, value);
  if (typeof value !== "string")
    return fail(`'${field.name}' is a string: '${op}' needs a quoted value, got ${show(value)}`);
  return foldText(field, value, dialect);
}

// RFC 7644 §3.4.2.2 table 3, each leaf TRUE or FALSE (never NULL) so that `not (...)` is exact.
function compare(field: Field, op: CompareOp, value: Value, dialect: Dialect): SqlFragment {
  if (field.type === "complex")
    return fail(`'${field.name}' is complex: filter on one of its sub-attributes`);
  const col = field.sql;
  const lhs = field.fold === "lower" ? `lower(${col})` : col;
  const guard = (expr: string) => (field.nullable ? `(${col} is not null and ${expr})` : expr);
  if (value === null) {
    if (op === "eq") return { sql: `${col} is null`, bindings: [] };
    if (op === "ne") return { sql: `${col} is not null`, bindings: [] };
    return fail(`'${op}' needs a value other than null (on '${field.name}')`);
  }
  if (op === "co" || op === "sw" || op === "ew") {
    if (field.type !== "string") return fail(`'${op}' applies to strings only, not to '${field.name}'`);
    const text = binding(field, op, value, dialect) as string;
    // SQLite's LIKE ignores ASCII case; GLOB is case-sensitive, which caseExact requires.
    if (field.fold === "exact" && dialect === "sqlite") {
      const g = globEscape(text);
      return {
        sql: guard(`${lhs} glob ?`),
        bindings: [op === "co" ? `*${g}*` : op === "sw" ? `${g}*` : `*${g}`],
      };
    }
    const l = likeEscape(text);
    const pattern = op === "co" ? `%${l}%` : op === "sw" ? `${l}%` : `%${l}`;
    return { sql: guard(`${lhs} like ? ${LIKE_ESCAPE}`), bindings: [pattern] };
  }
  const order = ORDER[op];
  if (order && field.type === "boolean") return fail(`'${op}' does not apply to the boolean '${field.name}'`);
  const v = binding(field, op, value, dialect);
  if (op === "eq") return { sql: guard(`${lhs} = ?`), bindings: [v] };
  if (op === "ne")
    return { sql: field.nullable ? `(${col} is null or ${lhs} <> ?)` : `${lhs} <> ?`, bindings: [v] };
  return { sql: guard(`${lhs} ${order} ?`), bindings: [v] };
}

function present(field: Field): SqlFragment {
  const col = field.sql;
  if (field.type === "string")
    return { sql: field.nullable ? `(${col} is not null and ${col} <> '')` : `${col} <> ''`, bindings: [] };
  return { sql: field.nullable ? `${col} is not null` : "1 = 1", bindings: [] };
}

// With the tenant known, `owner.id in (select fk … where tenant_id = ? …)` is uncorrelated, so the
// child's (tenant_id, value) index drives the query; a correlated EXISTS would visit every row of
// the tenant. Both are never NULL (fk and id are NOT NULL), so `not` stays exact.
function exists(scope: Scope, child: Child, inner: SqlFragment, negate = false): SqlFragment {
  const { table, alias, fk, owner } = child;
  const not = negate ? "not " : "";
  if (scope.tenantId !== undefined)
    return {
      sql: `"${owner}"."id" ${not}in (select "${alias}"."${fk}" from "${table}" as "${alias}" where "${alias}"."tenant_id" = ? and (${inner.sql}))`,
      bindings: [scope.tenantId, ...inner.bindings],
    };
  const join = `"${alias}"."${fk}" = "${owner}"."id" and "${alias}"."tenant_id" = "${owner}"."tenant_id"`;
  return {
    sql: `${not}exists (select 1 from "${table}" as "${alias}" where ${join} and (${inner.sql}))`,
    bindings: inner.bindings,
  };
}

function leaf(node: Extract<FilterNode, { kind: "compare" | "present" }>, scope: Scope): SqlFragment {
  const field = resolveField(
    scope.kind,
    scope.prefix ? `${scope.prefix}.${node.path}` : node.path,
    scope.dialect,
  );
  if (node.kind === "present") {
    const cond = present(field);
    return field.child && !scope.child ? exists(scope, field.child, cond) : cond;
  }
  if (!field.child || scope.child) return compare(field, node.op, node.value, scope.dialect);
  // RFC 7644 §3.4.2.2: a multi-valued attribute matches when any of its values does. `ne` and
  // `eq null` are read as the negation (no value equals / no value present), like a single value.
  if (node.value === null && node.op === "eq") return exists(scope, field.child, present(field), true);
  if (node.value === null && node.op === "ne") return exists(scope, field.child, present(field));
  if (node.op === "ne")
    return exists(scope, field.child, compare(field, "eq", node.value, scope.dialect), true);
  return exists(scope, field.child, compare(field, node.op, node.value, scope.dialect));
}

function compile(node: FilterNode, scope: Scope): SqlFragment {
  switch (node.kind) {
    case "and":
    case "or": {
      const l = compile(node.left, scope);
      const r = compile(node.right, scope);
      return { sql: `(${l.sql} ${node.kind} ${r.sql})`, bindings: [...l.bindings, ...r.bindings] };
    }
    case "not": {
      const e = compile(node.expr, scope);
      return { sql: `not (${e.sql})`, bindings: e.bindings };
    }
    case "compare":
    case "present":
      return leaf(node, scope);
    case "valuePath": {
      if (scope.prefix) return fail(`Value paths cannot be nested ('${node.path}')`);
      const parent = resolveParent(scope.kind, node.path);
      const inner = compile(node.filter, { ...scope, ...parent });
      // One EXISTS: every condition in the brackets holds for the same value (same row).
      return parent.child ? exists(scope, parent.child, inner) : inner;
    }
  }
}

/** Translate a parsed filter into a WHERE fragment on the users or groups table. */
export function filterToSql(
  dialect: Dialect,
  kind: ResourceKind,
  node: FilterNode,
  tenantId?: string,
): SqlFragment {
  return compile(node, { kind, dialect, tenantId });
}

/**
 * Add the filter's conditions to a query on `users`/`groups`. The caller keeps its own
 * `tenant_id = ?` condition; passing tenantId as well lets multi-valued filters (emails.value,
 * groups, members.value) use the child table's tenant index instead of visiting every row.
 */
export function applyFilter(
  qb: Knex.QueryBuilder,
  db: Db,
  kind: ResourceKind,
  node: FilterNode,
  tenantId?: string,
): void {
  const { sql, bindings } = filterToSql(dialectOf(db), kind, node, tenantId);
  qb.whereRaw(sql, bindings);
}

/** The column to order by for a sortBy attribute (RFC 7644 §3.4.2.3); invalidValue when unsupported. */
export function sortColumn(kind: ResourceKind, sortBy: string): string {
  let field: Field | undefined;
  try {
    field = resolveField(kind, sortBy, "sqlite");
  } catch {
    field = undefined;
  }
  if (!field?.sortable || !field.column) throw ScimError.of("invalidValue", `Cannot sort by '${sortBy}'`);
  return field.column;
}
