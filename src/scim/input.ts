import type { GroupDoc, MemberRef } from "../directory/groups.js";
import type { UserDoc } from "../directory/users.js";
import { ScimError } from "../http/errors.js";
import { applyPatch } from "./patch.js";
import { GROUP_KIND, type ResourceKind, USER_KIND } from "./schema-info.js";

function asObject(body: unknown): Record<string, unknown> {
  if (!body || typeof body !== "object" || Array.isArray(body)) {
    throw ScimError.of("invalidSyntax", "The request body must be a JSON object");
  }
  return body as Record<string, unknown>;
}

/** RFC 7643 §3: `schemas` lists the core schema (and extensions used); unknown URN keys are refused. */
function checkSchemas(kind: ResourceKind, body: Record<string, unknown>): void {
  const known = [kind.schema, ...kind.extensions].map((s) => s.toLowerCase());
  if (body.schemas !== undefined) {
    if (!Array.isArray(body.schemas) || !body.schemas.every((s) => typeof s === "string")) {
      throw ScimError.of("invalidSyntax", "schemas must be an array of schema URNs");
    }
    const lower = body.schemas.map((s: string) => s.toLowerCase());
    if (!lower.includes(kind.schema.toLowerCase()))
      throw ScimError.of("invalidValue", `schemas must include ${kind.schema}`);
    const unknown = body.schemas.filter(
      (s: string) => !known.includes(s.toLowerCase()) && !isIgnoredSchema(s),
    );
    if (unknown.length) throw ScimError.of("invalidValue", `Unsupported schema ${unknown.join(", ")}`);
  }
  for (const key of Object.keys(body)) {
    if (key.toLowerCase().startsWith("urn:") && !known.some((s) => key.toLowerCase().startsWith(s))) {
      if (!isIgnoredSchema(key)) throw ScimError.of("invalidValue", `Unsupported schema extension ${key}`);
    }
  }
}

// Entra ID adds Microsoft's own schema URN to Group bodies; it carries nothing we store.
function isIgnoredSchema(urn: string): boolean {
  return /^http:\/\/schemas\.microsoft\.com\/2006\/11\/ResourceManagement\/ADSCIM/i.test(urn);
}

/**
 * Strip the read-only and write-only attributes of a POST/PUT body. RFC 7644 §3.5.1: readOnly
 * values in a replacement "SHALL be ignored" (Entra sends `meta`, Okta sends `id`), except that
 * an `id` naming another resource, or a non-empty `groups` (derived from Group membership), is
 * refused so the client learns its change cannot happen.
 */
function stripReadOnly(body: Record<string, unknown>, id: string | undefined, readOnlyLists: string[]) {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body)) {
    const k = key.toLowerCase();
    if (k === "schemas" || k === "meta") continue;
    if (k === "id") {
      if (id !== undefined && value !== id)
        throw ScimError.of("mutability", "id is read-only and does not match the URL");
      continue;
    }
    if (readOnlyLists.includes(k)) {
      if (Array.isArray(value) && value.length) {
        throw ScimError.of("mutability", `${key} is read-only: change memberships through /Groups`);
      }
      continue;
    }
    if (key.toLowerCase().startsWith("http://schemas.microsoft.com/")) continue;
    out[key] = value;
  }
  return out;
}

/** Validate and canonicalise attributes by applying them as one `add` to an empty resource. */
function canonical(kind: ResourceKind, attrs: Record<string, unknown>): Record<string, unknown> {
  if (Object.keys(attrs).length === 0) return {};
  try {
    return applyPatch(kind, {}, [{ op: "add", value: attrs }]);
  } catch (err) {
    // Unknown attribute in a resource body: RFC 7644 §3.12 invalidValue rather than invalidPath.
    if (err instanceof ScimError && err.scimType === "invalidPath")
      throw ScimError.of("invalidValue", err.message);
    throw err;
  }
}

/** A user document from a POST/PUT body: validated, canonical, without read-only parts. */
export function userDocFromBody(body: unknown, id?: string): UserDoc {
  const obj = asObject(body);
  checkSchemas(USER_KIND, obj);
  // password (in any casing or URN-qualified) goes through the PATCH engine like every other
  // attribute: checked, then discarded as writeOnly (patch-apply.ts), so no form can slip by.
  const doc = canonical(USER_KIND, stripReadOnly(obj, id, ["groups"]));
  if (typeof doc.userName !== "string" || doc.userName.trim() === "") {
    throw ScimError.of("invalidValue", "userName is required and must be a non-empty string");
  }
  return doc;
}

/** A group document and its member list from a POST/PUT body. */
export function groupFromBody(body: unknown, id?: string): { doc: GroupDoc; members: MemberRef[] } {
  const obj = asObject(body);
  checkSchemas(GROUP_KIND, obj);
  const attrs = stripReadOnly(obj, id, []);
  const membersKey = Object.keys(attrs).find((k) => k.toLowerCase() === "members");
  const rawMembers = membersKey ? attrs[membersKey] : undefined;
  if (membersKey) delete attrs[membersKey];
  const doc = canonical(GROUP_KIND, attrs) as GroupDoc;
  if (typeof doc.displayName !== "string" || doc.displayName.trim() === "") {
    throw ScimError.of("invalidValue", "displayName is required and must be a non-empty string");
  }
  return { doc, members: memberRefs(rawMembers) };
}

/** Validate a members array: objects with a string `value` and an optional type User/Group. */
export function memberRefs(raw: unknown): MemberRef[] {
  if (raw === undefined || raw === null) return [];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((m, i) => {
    if (!m || typeof m !== "object" || typeof (m as any).value !== "string" || (m as any).value === "") {
      throw ScimError.of("invalidValue", `members[${i}] must be an object with a string value`);
    }
    const type = (m as any).type;
    if (type !== undefined && type !== null && !/^(user|group)$/i.test(String(type))) {
      throw ScimError.of("invalidValue", `members[${i}].type must be User or Group`);
    }
    return { value: (m as any).value };
  });
}
