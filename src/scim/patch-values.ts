import { characters, SCIM_MULTI_VALUE_LIMIT, SCIM_STRING_LIMIT } from "../directory/limits.js";
import { ScimError } from "../http/errors.js";
import type { AttributeDef } from "./schema-info.js";

/** A JSON object: a SCIM resource document or one complex value. */
export type Json = Record<string, unknown>;

/** Whether a value is a plain JSON object (not null, not an array). */
export const isObject = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);

const plainCache = new WeakMap<object, AttributeDef>();

/** The definition as plain RFC 7643 §7 JSON (scimmy's Attribute instances expose mutability etc. only via toJSON). */
export function plainDef(def: AttributeDef): AttributeDef {
  let plain = plainCache.get(def);
  if (!plain) {
    plain = JSON.parse(JSON.stringify(def)) as AttributeDef;
    plainCache.set(def, plain);
  }
  return plain;
}

/** The sub-attribute of a complex definition named `name`, case-insensitively (RFC 7643 §2.1). */
export function findSub(def: AttributeDef, name: string): AttributeDef | undefined {
  const lower = name.toLowerCase();
  return def.subAttributes?.find((s) => s.name.toLowerCase() === lower);
}

// RFC 7643 §2.1: attribute names are case-insensitive, so stored keys are matched the same way.
function keysOf(obj: Json, name: string): string[] {
  const lower = name.toLowerCase();
  return Object.keys(obj).filter((k) => k.toLowerCase() === lower);
}

/** The value of attribute `name` in `obj`, matching the key case-insensitively. */
export function getAttr(obj: Json, name: string): unknown {
  if (Object.hasOwn(obj, name)) return obj[name];
  const [key] = keysOf(obj, name);
  return key === undefined ? undefined : obj[key];
}

/** Set `name` under its canonical spelling, dropping any differently-cased copies. */
export function setAttr(obj: Json, name: string, value: unknown): void {
  for (const key of keysOf(obj, name)) if (key !== name) delete obj[key];
  obj[name] = value; // an existing key keeps its place, so documents stay in their stored order
}

/** Delete attribute `name` in any casing. */
export function deleteAttr(obj: Json, name: string): void {
  for (const key of keysOf(obj, name)) delete obj[key];
}

/** Unassigned per RFC 7643 §2.5: absent, null, an empty array or an empty complex value. */
export function isUnassigned(v: unknown): boolean {
  return (
    v === undefined ||
    v === null ||
    (Array.isArray(v) && v.length === 0) ||
    (isObject(v) && Object.keys(v).length === 0)
  );
}

/** Structural equality of JSON values (key order ignored). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    return (
      Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => deepEqual(x, b[i]))
    );
  }
  if (!isObject(a) || !isObject(b)) return false;
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]))
  );
}

const invalid = (label: string, msg: string) => ScimError.of("invalidValue", `Attribute '${label}' ${msg}`);

function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

// RFC 7643 §2.3.5: xsd:dateTime, e.g. 2008-01-23T04:56:22Z.
const DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$/;

/** Check (and, for Entra's string booleans, convert) one simple value against its definition (RFC 7643 §2.3). */
export function coerceSimple(def: AttributeDef, value: unknown, label: string): unknown {
  switch (def.type) {
    case "string":
    case "reference":
    case "binary":
      if (typeof value !== "string") break;
      // RFC 7643 §4.1: "Each User MUST include a non-empty userName value" (same for required strings).
      if (def.required && value.trim() === "") throw invalid(label, "is required and cannot be empty");
      // Indexed attributes have their column's (smaller) limit, checked by the directory.
      if (value.length > SCIM_STRING_LIMIT && characters(value) > SCIM_STRING_LIMIT)
        throw invalid(label, `is longer than ${SCIM_STRING_LIMIT} characters`);
      return value;
    case "boolean":
      if (typeof value === "boolean") return value;
      // Entra ID sends booleans as "True"/"False" (scimmy#51, #86); accept any casing.
      if (typeof value === "string" && /^(true|false)$/i.test(value)) return value.toLowerCase() === "true";
      break;
    case "integer":
      if (typeof value === "number" && Number.isInteger(value)) return value;
      break;
    case "decimal":
      if (typeof value === "number" && Number.isFinite(value)) return value;
      break;
    case "dateTime":
      if (typeof value === "string" && DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)))
        return value;
      break;
    case "complex":
      return coerceComplex(def, value, label);
  }
  throw invalid(
    label,
    `expects ${def.type === "integer" ? "an" : "a"} ${def.type}, got ${describeValue(value)}`,
  );
}

function coerceComplex(def: AttributeDef, value: unknown, label: string): Json {
  // Entra ID sends the enterprise manager as a bare id string (scimmy 400s; SCIM-SDK#686): read it as {value}.
  if (typeof value === "string" && !def.multiValued && findSub(def, "value")) return { value };
  if (!isObject(value))
    throw invalid(label, `expects an object of sub-attributes, got ${describeValue(value)}`);
  const out: Json = {};
  for (const [key, v] of Object.entries(value)) {
    const sub = findSub(def, key);
    if (!sub) throw invalid(label, `has no sub-attribute '${key}'`);
    // RFC 7644 §3.5.1: readOnly values sent by a client "SHALL be ignored" (e.g. an echoed manager.displayName);
    // null means unassigned (RFC 7643 §2.5), e.g. Entra's "$ref": null on members.
    if (sub.mutability === "readOnly" || v === null || v === undefined) continue;
    out[sub.name] = coerceSimple(sub, v, `${label}.${sub.name}`);
  }
  return out;
}

/** One value of an attribute (a single-valued attribute's value or one element of a multi-valued one). */
export function coerceItem(def: AttributeDef, value: unknown, label: string): unknown {
  return def.type === "complex" ? coerceComplex(def, value, label) : coerceSimple(def, value, label);
}

/** A whole attribute value; a lone value for a multi-valued attribute is wrapped in an array. */
export function coerceAttrValue(def: AttributeDef, value: unknown, label: string): unknown {
  if (def.multiValued) {
    const list = Array.isArray(value) ? value : [value];
    assertMultiValueCount(list.length, label);
    return list.map((v) => coerceItem(def, v, label));
  }
  if (Array.isArray(value)) throw invalid(label, "is single-valued and does not take an array");
  return coerceItem(def, value, label);
}

/** At most SCIM_MULTI_VALUE_LIMIT values in one multi-valued attribute (see limits.ts). */
export function assertMultiValueCount(count: number, label: string): void {
  if (count > SCIM_MULTI_VALUE_LIMIT)
    throw invalid(label, `has ${count} values; at most ${SCIM_MULTI_VALUE_LIMIT} are accepted`);
}

/**
 * RFC 7643 §2.4: "The primary attribute value 'true' MUST appear no more than once": when a value just
 * written says primary, the others lose it; two new primaries in one write are an error.
 */
export function settlePrimary(list: unknown[], fresh: Set<unknown>, label: string): void {
  const winners = list.filter((i) => fresh.has(i) && isObject(i) && getAttr(i, "primary") === true);
  if (winners.length > 1) throw invalid(label, "may have only one value with primary true (RFC 7643 §2.4)");
  if (winners.length === 0) return;
  for (const item of list) {
    if (item !== winners[0] && isObject(item) && getAttr(item, "primary") === true)
      setAttr(item, "primary", false);
  }
}

/** Run one operation's work, prefixing a SCIM error's detail with the operation's index. */
export function atOperation<T>(index: number, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof ScimError && e.scimType)
      throw ScimError.of(e.scimType, `Operations[${index}]: ${e.message}`);
    throw e;
  }
}
