import type { Claims } from "../gate.js";
import type { VerifiedAssertion } from "./assertion-checks.js";
import type { SamlSettings } from "./connection-store.js";

const first = (v: unknown): string | null => {
  const x = Array.isArray(v) ? v[0] : v;
  return typeof x === "string" && x.trim() !== "" ? x.trim() : null;
};

/** Read the claims from the verified assertion, through the connection's attribute mapping. */
export function claimsFrom(assertion: VerifiedAssertion, settings: SamlSettings): Claims {
  const { nameId } = assertion;
  const attrs: Record<string, unknown> = assertion.attributes;
  const m = settings.attributeMapping;
  const pick = (name?: string) => (name ? first(attrs[name]) : null);
  const groupsRaw = m.groups ? attrs[m.groups] : undefined;
  const groups = (Array.isArray(groupsRaw) ? groupsRaw : groupsRaw === undefined ? [] : [groupsRaw]).filter(
    (g): g is string => typeof g === "string" && g !== "",
  );
  return {
    nameId,
    nameIdFormat: assertion.nameIdFormat,
    sessionIndex: assertion.sessionIndex,
    email: pick(m.email) ?? (nameId.includes("@") ? nameId : null),
    givenName: pick(m.givenName),
    familyName: pick(m.familyName),
    displayName: pick(m.displayName),
    groups,
    immutableId: pick(m.id),
    attributes: attrs,
  };
}
