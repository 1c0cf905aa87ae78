import { ScimError } from "../http/errors.js";
import type { FilterNode } from "./filter/parse.js";
import type { NormalisedOperation, PatchOperation } from "./patch.js";
import { parsePatchPath } from "./patch-path.js";
import { atOperation, getAttr, isObject, type Json } from "./patch-values.js";
import { GROUP_KIND, resolvePath } from "./schema-info.js";

/** A group member as a PATCH names it (RFC 7643 §4.2 members: value, type, display). */
export interface MemberRef {
  value: string;
  type?: "User" | "Group";
  display?: string;
}

/**
 * Membership changes of one Group PATCH, to apply in this order: `replace` (when set) is the whole new
 * member list and the other fields are empty; otherwise drop everything if `removeAll`, then delete
 * `remove`, then insert `add` (`add` and `remove` never share an id). `rest` holds the non-member operations.
 */
export interface MemberChanges {
  add: MemberRef[];
  remove: string[];
  removeAll: boolean;
  replace?: MemberRef[];
  rest: PatchOperation[];
}

const invalidValue = (msg: string) => ScimError.of("invalidValue", msg);

// Folds the operations in order, so [remove x, add x] adds x and [add x, remove all] leaves nothing.
class MemberDelta {
  private base: "keep" | "clear" | Map<string, MemberRef> = "keep";
  private readonly adds = new Map<string, MemberRef>();
  private readonly removes = new Set<string>();

  add(refs: MemberRef[]): void {
    for (const ref of refs) {
      if (this.base instanceof Map) this.base.set(ref.value, ref);
      else {
        this.removes.delete(ref.value);
        this.adds.set(ref.value, ref);
      }
    }
  }

  remove(ids: string[]): void {
    for (const id of ids) {
      if (this.base instanceof Map) this.base.delete(id);
      else {
        this.adds.delete(id);
        if (this.base === "keep") this.removes.add(id);
      }
    }
  }

  reset(refs: MemberRef[] | undefined): void {
    this.base = refs ? new Map(refs.map((r) => [r.value, r])) : "clear";
    this.adds.clear();
    this.removes.clear();
  }

  result(rest: PatchOperation[]): MemberChanges {
    if (this.base instanceof Map)
      return { add: [], remove: [], removeAll: false, replace: [...this.base.values()], rest };
    return {
      add: [...this.adds.values()],
      remove: [...this.removes],
      removeAll: this.base === "clear",
      rest,
    };
  }
}

const isMembers = (name: string) => name === "members";

/** Split Group operations into member set deltas and the rest (see MemberChanges). */
export function splitMembers(ops: NormalisedOperation[]): MemberChanges {
  const delta = new MemberDelta();
  const rest: PatchOperation[] = [];
  ops.forEach((op, i) => {
    atOperation(i, () =>
      op.path === undefined ? splitNoPath(op, delta, rest) : splitWithPath(op, op.path, delta, rest),
    );
  });
  return delta.result(rest);
}

// A no-path add/replace whose value object may hold "members" next to other attributes.
function splitNoPath(op: NormalisedOperation, delta: MemberDelta, rest: PatchOperation[]) {
  if (op.op === "remove") throw ScimError.of("noTarget", `remove needs a "path" (RFC 7644 §3.5.2.2)`);
  if (!isObject(op.value)) throw invalidValue(`Without "path", "value" must be an object of attributes`);
  const others: Json = {};
  for (const [key, v] of Object.entries(op.value)) {
    // Okta's rename repeats the group's own id ({id, displayName}); id is readOnly and the URL names the group.
    if (key.toLowerCase() === "id") continue;
    const r = resolvePath(GROUP_KIND, key);
    if (!r || !isMembers(r.attr.name)) others[key] = v;
    else if (r.sub) throw memberSubAttribute(key);
    else if (op.op === "add") delta.add(memberRefs(v));
    else delta.reset(v === null ? undefined : memberRefs(v));
  }
  if (Object.keys(others).length) rest.push({ op: op.op, value: others });
}

function splitWithPath(op: NormalisedOperation, path: string, delta: MemberDelta, rest: PatchOperation[]) {
  const t = parsePatchPath(GROUP_KIND, path);
  if (!isMembers(t.attr.name)) return rest.push(op);
  if (t.sub) throw memberSubAttribute(path);
  if (t.filter) {
    if (op.op !== "remove")
      throw ScimError.of("invalidPath", `To ${op.op} members use path "members" with a list of members`);
    return delta.remove(memberIds(t.filter));
  }
  if (op.op === "add") return delta.add(memberRefs(op.value));
  // Okta/Entra/OneLogin remove listed members with "path":"members","value":[{"value":"id"}]; without
  // a value the whole attribute goes (RFC 7644 §3.5.2.2), as does replace with null.
  if (op.value === undefined || op.value === null) return delta.reset(undefined);
  if (op.op === "remove") return delta.remove(memberRefs(op.value).map((r) => r.value));
  delta.reset(memberRefs(op.value));
}

// RFC 7643 §4.2 (schema §8.7.1): members' sub-attributes are immutable.
const memberSubAttribute = (path: string) =>
  ScimError.of("mutability", `'${path}': members' sub-attributes are immutable; add or remove the member`);

function memberRefs(value: unknown): MemberRef[] {
  const refs = new Map<string, MemberRef>();
  for (const m of Array.isArray(value) ? value : [value]) {
    const id = isObject(m) ? getAttr(m, "value") : undefined;
    if (!isObject(m) || typeof id !== "string" || id.trim() === "")
      throw invalidValue(`Each member must be an object with a string "value"`);
    const ref: MemberRef = { value: id };
    const type = getAttr(m, "type");
    if (typeof type === "string" && /^(user|group)$/i.test(type))
      ref.type = type.toLowerCase() === "user" ? "User" : "Group";
    else if (type !== undefined && type !== null)
      throw invalidValue(`Member type must be "User" or "Group" (RFC 7643 §4.2)`);
    const display = getAttr(m, "display");
    if (typeof display === "string") ref.display = display;
    else if (display !== undefined && display !== null) throw invalidValue(`Member display must be a string`);
    if (!refs.has(id)) refs.set(id, ref);
  }
  return [...refs.values()];
}

// Only `value eq "id"` (or an or-list of them) can be turned into a delete without loading the members.
function memberIds(node: FilterNode): string[] {
  if (node.kind === "or") return [...memberIds(node.left), ...memberIds(node.right)];
  if (node.kind === "compare" && node.op === "eq" && node.path.toLowerCase() === "value") {
    if (typeof node.value === "string") return [node.value];
  }
  // RFC 7644 §3.12 invalidFilter: "the specified ... filter comparison combination is not supported".
  throw ScimError.of("invalidFilter", `Members filters must be value eq "id" (optionally or-ed)`);
}
