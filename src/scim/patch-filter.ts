import { ScimError } from "../http/errors.js";
import type { CompareOp, FilterNode } from "./filter/parse.js";
import type { AttributeDef } from "./schema-info.js";
import { coerceSimple, deepEqual, getAttr, isObject, type Json } from "./patch-values.js";

const findDef = (defs: AttributeDef[], name: string) =>
  defs.find((d) => d.name.toLowerCase() === name.toLowerCase());

/** Check that every attribute a value filter names is a sub-attribute of the filtered attribute. */
export function assertFilterPaths(node: FilterNode, defs: AttributeDef[], path: string): void {
  switch (node.kind) {
    case "and":
    case "or":
      assertFilterPaths(node.left, defs, path);
      assertFilterPaths(node.right, defs, path);
      return;
    case "not":
      assertFilterPaths(node.expr, defs, path);
      return;
    case "valuePath":
      throw ScimError.of("invalidPath", `Value filters cannot be nested in '${path}'`);
    default:
      if (!findDef(defs, node.path))
        throw ScimError.of("invalidPath", `'${node.path}' is not a sub-attribute in the filter of '${path}'`);
  }
}

// A simple multi-valued attribute's elements are matched through the pseudo sub-attribute "value".
function subValue(item: unknown, name: string): unknown {
  if (isObject(item)) return getAttr(item, name);
  return name.toLowerCase() === "value" ? item : undefined;
}

/**
 * Whether one value of a multi-valued attribute satisfies a value filter (RFC 7644 §3.4.2.2), comparing
 * strings case-insensitively unless the sub-attribute is caseExact (RFC 7643 §2.2, e.g. emails.type is not).
 */
export function matchesFilter(item: unknown, node: FilterNode, defs: AttributeDef[]): boolean {
  switch (node.kind) {
    case "and":
      return matchesFilter(item, node.left, defs) && matchesFilter(item, node.right, defs);
    case "or":
      return matchesFilter(item, node.left, defs) || matchesFilter(item, node.right, defs);
    case "not":
      return !matchesFilter(item, node.expr, defs);
    case "present":
      return isPresent(subValue(item, node.path));
    case "compare": {
      const def = findDef(defs, node.path);
      if (!def) throw ScimError.of("invalidFilter", `Unknown sub-attribute '${node.path}'`);
      return compare(subValue(item, node.path), node.op, node.value, def);
    }
    case "valuePath":
      throw ScimError.of("invalidFilter", "Value filters cannot be nested");
  }
}

// RFC 7644 §3.4.2.2 "pr": the attribute has a non-empty, non-null value.
function isPresent(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(isPresent);
  return v !== undefined && v !== null && v !== "" && !(isObject(v) && Object.keys(v).length === 0);
}

type Scalar = string | number | boolean | null;

function compare(actual: unknown, op: CompareOp, expected: Scalar, def: AttributeDef): boolean {
  if (Array.isArray(actual)) return actual.some((a) => compare(a, op, expected, def));
  if (expected === null || actual === undefined || actual === null) {
    const absent = actual === undefined || actual === null;
    if (op === "eq") return absent && expected === null;
    if (op === "ne") return absent !== (expected === null);
    return false;
  }
  // RFC 7644 §3.4.2.2: gt/ge/lt/le on Boolean or Binary attributes "SHALL cause a failed response".
  if ((def.type === "boolean" || def.type === "binary") && !["eq", "ne"].includes(op))
    throw ScimError.of("invalidFilter", `'${op}' cannot compare the ${def.type} '${def.name}'`);
  if (def.type === "boolean") {
    let want: unknown = expected;
    try {
      want = coerceSimple(def, expected, def.name); // Entra-style "True" in a filter
    } catch {}
    return (actual === want) === (op === "eq");
  }
  if (typeof actual === "string" && typeof expected === "string")
    return compareStrings(actual, op, expected, def);
  if (typeof actual === "number" && typeof expected === "number") return order(actual - expected, op);
  if (op === "eq" || op === "ne") return deepEqual(actual, expected) === (op === "eq");
  return false;
}

function compareStrings(actual: string, op: CompareOp, expected: string, def: AttributeDef): boolean {
  if (def.type === "dateTime" && !["co", "sw", "ew"].includes(op)) {
    const a = Date.parse(actual);
    const b = Date.parse(expected);
    if (!Number.isNaN(a) && !Number.isNaN(b)) return order(a - b, op);
  }
  const a = def.caseExact ? actual : actual.toLowerCase();
  const b = def.caseExact ? expected : expected.toLowerCase();
  if (op === "co") return a.includes(b);
  if (op === "sw") return a.startsWith(b);
  if (op === "ew") return a.endsWith(b);
  return order(a < b ? -1 : a > b ? 1 : 0, op);
}

function order(diff: number, op: CompareOp): boolean {
  switch (op) {
    case "eq":
      return diff === 0;
    case "ne":
      return diff !== 0;
    case "gt":
      return diff > 0;
    case "ge":
      return diff >= 0;
    case "lt":
      return diff < 0;
    case "le":
      return diff <= 0;
    default:
      return false;
  }
}

/**
 * The sub-attribute values a filter made only of AND-ed `eq` comparisons pins down (`type eq "work"` →
 * {type: "work"}), used to create the value a filter names; undefined for any other filter.
 */
export function filterEqualities(node: FilterNode, defs: AttributeDef[]): Json | undefined {
  const out: Json = {};
  const collect = (n: FilterNode): boolean => {
    if (n.kind === "and") return collect(n.left) && collect(n.right);
    if (n.kind !== "compare" || n.op !== "eq" || n.value === null) return false;
    const def = findDef(defs, n.path);
    if (!def || def.mutability === "readOnly") return false;
    let v: unknown;
    try {
      v = coerceSimple(def, n.value, def.name);
    } catch {
      return false;
    }
    if (def.name in out && !deepEqual(out[def.name], v)) return false;
    out[def.name] = v;
    return true;
  };
  return collect(node) ? out : undefined;
}
