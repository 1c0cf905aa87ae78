import { ScimError } from "../http/errors.js";
import { filterEqualities, matchesFilter } from "./patch-filter.js";
import type { PatchTarget } from "./patch-path.js";
import {
  assertMultiValueCount,
  coerceAttrValue,
  coerceItem,
  coerceSimple,
  deepEqual,
  deleteAttr,
  findSub,
  getAttr,
  isObject,
  isUnassigned,
  type Json,
  setAttr,
  settlePrimary,
} from "./patch-values.js";
import type { ResourceKind } from "./schema-info.js";

/** A normalised operation name (RFC 7644 §3.5.2: add, remove, replace). */
export type OpName = "add" | "replace" | "remove";

const mutability = (msg: string) => ScimError.of("mutability", msg);

/** Apply one operation to the attribute a parsed path addresses, mutating `doc` (a private copy). */
export function applyToTarget(
  kind: ResourceKind,
  doc: Json,
  op: OpName,
  t: PatchTarget,
  value: unknown,
): void {
  // RFC 7644 §3.5.2: "a client MUST NOT modify an attribute that has mutability 'readOnly'" → mutability.
  if (t.attr.mutability === "readOnly" || t.sub?.mutability === "readOnly")
    throw mutability(`'${t.text}' is readOnly`);
  if (t.attr.mutability === "writeOnly") {
    discardWriteOnly(op, t, value);
    return;
  }
  const inExtension = t.schema !== kind.schema;
  let container = doc;
  if (inExtension) {
    const ext = getAttr(doc, t.schema);
    container = isObject(ext) ? ext : {};
    setAttr(doc, t.schema, container);
  }
  if (t.filter) applyFiltered(container, op, t, value);
  else if (t.sub && t.attr.multiValued) applyToItems(container, op, t, value, {});
  else if (t.sub) applySub(container, op, t, value);
  else applyWhole(container, op, t, value);
  if (inExtension && Object.keys(container).length === 0) deleteAttr(doc, t.schema);
}

/**
 * writeOnly attributes (RFC 7643 §4.1.1: `password`) are checked and then dropped: every write
 * (POST, PUT, PATCH in any form, Bulk) builds the stored document through this function, so a
 * value sent by an IdP never reaches the document, the database or an event. Roster is not a
 * password store and publishes changePassword: false; an IdP that sends one anyway succeeds.
 */
function discardWriteOnly(op: OpName, t: PatchTarget, value: unknown): void {
  if (op !== "remove" && value !== null) coerceAttrValue(t.attr, value, t.attr.name);
}

// RFC 7644 §3.5.2.2: "If an attribute is removed or becomes unassigned and is defined as a required
// attribute or a read-only attribute, the server SHALL return ... 'mutability'". Immutable: §3.5.2.
function unassign(container: Json, t: PatchTarget): void {
  if (t.attr.required) throw mutability(`'${t.attr.name}' is required and cannot be removed`);
  const current = getAttr(container, t.attr.name);
  if (t.attr.mutability === "immutable" && !isUnassigned(current))
    throw mutability(`'${t.attr.name}' is immutable`);
  deleteAttr(container, t.attr.name);
}

function write(container: Json, t: PatchTarget, next: unknown): void {
  if (Array.isArray(next)) assertMultiValueCount(next.length, t.attr.name);
  const current = getAttr(container, t.attr.name);
  // RFC 7644 §3.5.2: an immutable attribute may only be added "if the attribute had no previous value".
  if (t.attr.mutability === "immutable" && !isUnassigned(current) && !deepEqual(current, next))
    throw mutability(`'${t.attr.name}' is immutable`);
  if (isUnassigned(next)) unassign(container, t);
  else setAttr(container, t.attr.name, next);
}

function applyWhole(container: Json, op: OpName, t: PatchTarget, value: unknown) {
  const { attr, text } = t;
  const current = getAttr(container, attr.name);
  if (op === "remove") {
    // Okta/Entra remove values by listing them ("path":"members","value":[{"value":"id"}]).
    if (attr.multiValued && value !== undefined && value !== null) return removeListed(container, t, value);
    return unassign(container, t);
  }
  // RFC 7644 §3.5.1 lets null clear an attribute; for replace we read it the same way. add needs a value.
  if (value === null) {
    if (op === "add") throw ScimError.of("invalidValue", `add needs a value for '${text}'`);
    return unassign(container, t);
  }
  const coerced = coerceAttrValue(attr, value, attr.name);
  if (attr.multiValued) {
    // RFC 7644 §3.5.2.1: add appends to a multi-valued attribute; §3.5.2.3: replace without a filter
    // replaces all values. A value already there (same "value", RFC 7643 §2.4) is updated, not duplicated.
    const list =
      op === "add" && Array.isArray(current) ? current.map((i) => (isObject(i) ? { ...i } : i)) : [];
    const fresh = new Set<unknown>();
    for (const item of coerced as unknown[]) {
      const same = list.find((x) => sameValue(x, item, t));
      if (isObject(same) && isObject(item)) for (const [k, v] of Object.entries(item)) setAttr(same, k, v);
      fresh.add(same ?? item);
      if (same === undefined) list.push(item);
    }
    settlePrimary(list, fresh, attr.name);
    return write(container, t, list);
  }
  if (attr.type === "complex") {
    // RFC 7644 §3.5.2.3: sub-attributes "not specified in the 'value' parameter are left unchanged".
    const next: Json = { ...(isObject(current) ? current : {}) };
    for (const [k, v] of Object.entries(coerced as Json)) setAttr(next, k, v);
    return write(container, t, next);
  }
  write(container, t, coerced);
}

// Same value: equal "value" sub-attributes (per its caseExact) with no conflicting "type"; simple: equal.
function sameValue(a: unknown, b: unknown, t: PatchTarget): boolean {
  if (!isObject(a) || !isObject(b)) return deepEqual(a, b);
  const def = findSub(t.attr, "value");
  const [va, vb] = [getAttr(a, "value"), getAttr(b, "value")];
  if (!def || va === undefined || vb === undefined) return deepEqual(a, b);
  const fold = (v: unknown) => (typeof v === "string" && !def.caseExact ? v.toLowerCase() : v);
  const lower = (v: unknown) => (typeof v === "string" ? v.toLowerCase() : v); // type: caseExact false
  const [ta, tb] = [getAttr(a, "type"), getAttr(b, "type")].map(lower);
  return deepEqual(fold(va), fold(vb)) && (ta === undefined || tb === undefined || ta === tb);
}

function removeListed(container: Json, t: PatchTarget, value: unknown): void {
  const current = getAttr(container, t.attr.name);
  if (!Array.isArray(current)) return;
  const listed = coerceAttrValue(t.attr, value, t.attr.name) as unknown[];
  const gone = (item: unknown) => listed.some((l) => sameValue(item, l, t));
  write(
    container,
    t,
    current.filter((item) => !gone(item)),
  );
}

// name.givenName, manager.value: one sub-attribute of a single-valued complex attribute.
function applySub(container: Json, op: OpName, t: PatchTarget, value: unknown): void {
  const current = getAttr(container, t.attr.name);
  const next: Json = { ...(isObject(current) ? current : {}) };
  setSub(next, op, t, value);
  write(container, t, next);
}

function setSub(item: Json, op: OpName, t: PatchTarget, value: unknown): void {
  const sub = t.sub!;
  const current = getAttr(item, sub.name);
  const next =
    op === "remove" || value === null ? undefined : coerceSimple(sub, value, `${t.attr.name}.${sub.name}`);
  if (op === "add" && value === null) throw ScimError.of("invalidValue", `add needs a value for '${t.text}'`);
  // RFC 7644 §3.5.2: immutable sub-attributes (e.g. members.value) keep the value they were given.
  if (sub.mutability === "immutable" && !isUnassigned(current) && !deepEqual(current, next))
    throw mutability(`'${t.attr.name}.${sub.name}' is immutable`);
  if (next === undefined) deleteAttr(item, sub.name);
  else setAttr(item, sub.name, next);
}

// RFC 7644 §3.5.2.1-3 with a valuePath filter: act on the matching values of a multi-valued attribute.
function applyFiltered(container: Json, op: OpName, t: PatchTarget, value: unknown): void {
  const subDefs = t.attr.subAttributes ?? [];
  // RFC 7644 §3.5.2.3 answers noTarget when a replace filter matches nothing; Entra relies on the value being
  // created instead (replace emails[type eq "work"].value on a user without one), so we create it whenever
  // the filter is an eq-conjunction that says what to create.
  applyToItems(container, op, t, value, filterEqualities(t.filter!, subDefs), (item) =>
    matchesFilter(item, t.filter!, subDefs),
  );
}

function applyToItems(
  container: Json,
  op: OpName,
  t: PatchTarget,
  value: unknown,
  seed: Json | undefined,
  selects: (item: unknown) => boolean = () => true,
): void {
  // RFC 7644 §3.5.1: null unassigns, so replace with null removes what the path selects.
  if (op === "replace" && value === null) op = "remove";
  const current = getAttr(container, t.attr.name);
  let items = Array.isArray(current) ? current.map((i) => (isObject(i) ? { ...i } : i)) : [];
  const selected = new Set(items.filter(selects));
  const fresh = new Set<unknown>();
  if (op === "remove") {
    if (t.sub) for (const item of selected) if (isObject(item)) setSub(item, op, t, undefined);
    // RFC 7643 §2.4: "value" is a multi-valued attribute's significant sub-attribute; a value without it goes.
    const emptied = (i: unknown) => !t.sub || (isObject(i) && (isUnassigned(i) || t.sub.name === "value"));
    items = items.filter((i) => !(selected.has(i) && emptied(i)));
  } else if (selected.size === 0) {
    if (!seed)
      throw ScimError.of("noTarget", `No value matches '${t.text}' and the filter does not say what to add`);
    const item = t.sub ? seed : { ...seed, ...(coerceItem(t.attr, single(value, t), t.attr.name) as Json) };
    if (t.sub) setSub(item, op, t, value);
    items.push(item);
    fresh.add(item);
  } else {
    for (const item of selected) {
      if (!isObject(item)) continue;
      if (t.sub) setSub(item, op, t, value);
      else mergeItem(item, op, t, value, seed);
      fresh.add(item);
    }
  }
  settlePrimary(items, fresh, t.attr.name);
  write(container, t, items);
}

// A filtered path addresses one value at a time: accept an object or a one-element array of it.
function single(value: unknown, t: PatchTarget): unknown {
  if (!Array.isArray(value)) return value;
  if (value.length === 1) return value[0];
  throw ScimError.of(
    "invalidValue",
    `'${t.text}' selects values one at a time; give one object, not an array`,
  );
}

function mergeItem(item: Json, op: OpName, t: PatchTarget, value: unknown, seed: Json | undefined): void {
  if (value === null)
    throw ScimError.of("invalidValue", `'${t.text}' needs an object value; use remove to delete`);
  const coerced = coerceItem(t.attr, single(value, t), t.attr.name) as Json;
  // RFC 7644 §3.5.2.3: replace swaps the matching values; the filter's equalities stay so it still matches.
  if (op === "replace") for (const key of Object.keys(item)) delete item[key];
  for (const [k, v] of Object.entries({ ...(op === "replace" ? seed : {}), ...coerced })) setAttr(item, k, v);
}
