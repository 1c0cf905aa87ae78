import { ScimError } from "../http/errors.js";
import { applyToTarget, type OpName } from "./patch-apply.js";
import { type MemberChanges, splitMembers } from "./patch-members.js";
import { extensionNamed, parsePatchPath } from "./patch-path.js";
import { atOperation, getAttr, isObject, type Json } from "./patch-values.js";
import type { ResourceKind } from "./schema-info.js";

export type { MemberChanges, MemberRef } from "./patch-members.js";
export { matchesFilter } from "./patch-filter.js";

/** One operation of a PatchOp message (RFC 7644 §3.5.2). */
export interface PatchOperation {
  op: string;
  path?: string;
  value?: unknown;
}

/** An operation after validation: op lower-cased, empty path dropped. */
export interface NormalisedOperation extends PatchOperation {
  op: OpName;
}

/** The PatchOp message schema URN (RFC 7644 §3.5.2). */
export const PATCH_OP_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

const OPS = new Set<string>(["add", "replace", "remove"]);
const syntax = (msg: string) => ScimError.of("invalidSyntax", msg);

/** Validate a PatchOp body and return its operations (an empty list is a valid no-op). */
export function parsePatchBody(body: unknown): NormalisedOperation[] {
  if (!isObject(body)) throw syntax("The PATCH body must be a JSON object");
  const schemas = getAttr(body, "schemas");
  const isPatchOp = (s: unknown) =>
    typeof s === "string" && s.toLowerCase() === PATCH_OP_SCHEMA.toLowerCase();
  if (!Array.isArray(schemas) || !schemas.some(isPatchOp))
    throw syntax(`"schemas" must contain "${PATCH_OP_SCHEMA}" (RFC 7644 §3.5.2)`);
  const ops = getAttr(body, "Operations");
  // The Microsoft SCIM Validator sends "Operations": [] (scimmy#59, #90): we accept it as a no-op.
  if (!Array.isArray(ops)) throw syntax('"Operations" must be an array (RFC 7644 §3.5.2)');
  return ops.map(normaliseOperation);
}

/** Check one operation's shape: op add/replace/remove in any casing (Entra sends "Replace"), value present for add/replace. */
export function normaliseOperation(raw: unknown, index: number): NormalisedOperation {
  const where = `Operations[${index}]`;
  if (!isObject(raw)) throw syntax(`${where} must be an object`);
  const op = getAttr(raw, "op");
  if (typeof op !== "string" || !OPS.has(op.toLowerCase()))
    throw syntax(`${where}.op must be "add", "replace" or "remove", got ${JSON.stringify(op ?? null)}`);
  const path = getAttr(raw, "path");
  if (path !== undefined && path !== null && typeof path !== "string")
    throw ScimError.of("invalidPath", `${where}.path must be a string`);
  const value = getAttr(raw, "value");
  const name = op.toLowerCase() as OpName;
  // RFC 7644 §3.5.2.1/§3.5.2.3: add and replace MUST carry "value" (scimmy silently removed instead, #80).
  if (name !== "remove" && value === undefined)
    throw ScimError.of("invalidValue", `${where}: "${op}" needs a "value"`);
  const out: NormalisedOperation = { op: name };
  if (typeof path === "string" && path.trim() !== "") out.path = path.trim();
  if (value !== undefined) out.value = value;
  return out;
}

/** Apply operations to a copy of a stored resource document; all-or-nothing, the input is not mutated. */
export function applyPatch(kind: ResourceKind, doc: Record<string, unknown>, ops: PatchOperation[]): Json {
  const out = structuredClone(doc);
  ops.forEach((raw, i) => {
    const op = normaliseOperation(raw, i);
    atOperation(i, () => applyOperation(kind, out, op));
  });
  return out;
}

function applyOperation(kind: ResourceKind, doc: Json, op: NormalisedOperation) {
  const { path, value } = op;
  if (path === undefined) {
    // RFC 7644 §3.5.2.2: "If 'path' is unspecified, the operation fails with ... 'noTarget'".
    if (op.op === "remove") throw ScimError.of("noTarget", 'remove needs a "path" (RFC 7644 §3.5.2.2)');
    if (!isObject(value))
      throw ScimError.of("invalidValue", 'Without "path", "value" must be an object of attributes');
    for (const [key, v] of noPathEntries(kind, value))
      applyToTarget(kind, doc, op.op, parsePatchPath(kind, key), v);
    return;
  }
  const extension = extensionNamed(kind, path);
  if (extension) {
    // The whole extension object, e.g. remove "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".
    if (op.op === "remove") return void delete doc[extensionKey(doc, extension)];
    return applyOperation(kind, doc, { op: op.op, value: { [extension]: value } });
  }
  applyToTarget(kind, doc, op.op, parsePatchPath(kind, path), value);
}

const extensionKey = (doc: Json, urn: string) =>
  Object.keys(doc).find((k) => k.toLowerCase() === urn.toLowerCase()) ?? urn;

/**
 * The attributes of a no-path value object as [path, value] pairs (RFC 7644 §3.5.2.1/§3.5.2.3): keys may be
 * plain, dotted ("name.givenName", Entra with aadOptscim062020), URN-qualified, or an extension URN holding
 * an object of its attributes.
 */
function* noPathEntries(kind: ResourceKind, value: Json): Generator<[string, unknown]> {
  for (const [key, v] of Object.entries(value)) {
    const lower = key.toLowerCase();
    // "schemas" describes the message, not an attribute; Okta repeats the resource's own "id" in a no-path
    // replace ({id, displayName}). Both carry nothing to apply (the id in the URL is the one that counts).
    if (lower === "schemas" || lower === "id") continue;
    const schema = [kind.schema, ...kind.extensions].find((s) => s.toLowerCase() === lower);
    if (!schema) {
      yield [key, v];
      continue;
    }
    if (!isObject(v)) throw ScimError.of("invalidValue", `'${key}' must be an object of attributes`);
    for (const [k, inner] of Object.entries(v)) {
      // An extension object may repeat its own "schemas" (path = the extension URN, value =
      // {"schemas": [...], "employeeNumber": ...}): it names the schema, it is no attribute.
      if (k.toLowerCase() !== "schemas") yield [`${schema}:${k}`, inner];
    }
  }
}

/** Split a Group PATCH into member set deltas and the other operations (see patch-members.ts). */
export function splitMemberOps(ops: PatchOperation[]): MemberChanges {
  return splitMembers(ops.map(normaliseOperation));
}
