import { ScimError } from "../http/errors.js";
import { type ResourceKind, resolvePath, SCHEMAS } from "./schema-info.js";

/** Which attributes a response carries (RFC 7644 §3.4.2.5 `attributes` / `excludedAttributes`). */
export interface Projection {
  attributes?: string[];
  excluded?: string[];
}

type Tree = Map<string, true | Set<string>>;

/** Parse `attributes`/`excludedAttributes` (comma-separated) from query values or a .search body. */
export function parseProjection(attributes: unknown, excluded: unknown): Projection {
  const list = (v: unknown, name: string): string[] | undefined => {
    if (v === undefined || v === null || v === "") return undefined;
    const parts = Array.isArray(v) ? v : String(v).split(",");
    if (!parts.every((p) => typeof p === "string"))
      throw ScimError.of("invalidValue", `${name} must be a list of attribute names`);
    const names = (parts as string[]).map((p) => p.trim()).filter(Boolean);
    return names.length ? names : undefined;
  };
  return { attributes: list(attributes, "attributes"), excluded: list(excluded, "excludedAttributes") };
}

/** Resolve paths to top-level document keys (URN for extension attributes) and sub-attribute names. */
function toTree(kind: ResourceKind, paths: string[]): Tree {
  const tree: Tree = new Map();
  for (const path of paths) {
    const ext = [kind.schema, ...kind.extensions].find((s) => s.toLowerCase() === path.toLowerCase());
    if (ext) {
      // A whole schema URN: its attributes (core → every attribute; extension → the extension object).
      if (ext === kind.schema) for (const a of SCHEMAS[ext].attributes) tree.set(a.name, true);
      else tree.set(ext, true);
      continue;
    }
    const r = resolvePath(kind, path);
    if (!r) continue; // RFC 7644 §3.4.2.5 does not make unknown names an error; they select nothing.
    const top = r.schema === kind.schema ? r.attr.name : r.schema;
    const sub = r.schema === kind.schema ? r.sub?.name : r.sub ? `${r.attr.name}.${r.sub.name}` : r.attr.name;
    const existing = tree.get(top);
    if (existing === true) continue;
    if (sub === undefined) tree.set(top, true);
    else tree.set(top, new Set([...(existing ?? []), sub]));
  }
  return tree;
}

function pickSubs(value: unknown, subs: Set<string>): unknown {
  const pick = (obj: Record<string, unknown>) => {
    const out: Record<string, unknown> = {};
    for (const path of subs) {
      const [a, b] = path.split(".");
      if (b === undefined) {
        if (a in obj) out[a] = obj[a];
      } else if (obj[a] && typeof obj[a] === "object") {
        const inner = (out[a] ?? {}) as Record<string, unknown>;
        const picked = pickSubs(obj[a], new Set([b])) as Record<string, unknown>;
        if (Object.keys(picked).length) out[a] = { ...inner, ...picked };
      }
    }
    return out;
  };
  if (Array.isArray(value))
    return value.map((v) => (v && typeof v === "object" ? pick(v as Record<string, unknown>) : v));
  return value && typeof value === "object" ? pick(value as Record<string, unknown>) : value;
}

function dropSubs(value: unknown, subs: Set<string>): unknown {
  const drop = (obj: Record<string, unknown>) => {
    const out = { ...obj };
    for (const path of subs) {
      const [a, b] = path.split(".");
      if (b === undefined) delete out[a];
      else if (out[a] && typeof out[a] === "object") out[a] = dropSubs(out[a], new Set([b]));
    }
    return out;
  };
  if (Array.isArray(value))
    return value.map((v) => (v && typeof v === "object" ? drop(v as Record<string, unknown>) : v));
  return value && typeof value === "object" ? drop(value as Record<string, unknown>) : value;
}

/** Attributes returned always (RFC 7643 §7 `returned: always`): never removed. */
const ALWAYS = new Set(["id", "schemas"]);

/**
 * Apply a projection to a rendered resource. `attributes` keeps only what is named (plus
 * `returned: always`); `excludedAttributes` removes what is named (never an always attribute).
 */
export function project(
  kind: ResourceKind,
  resource: Record<string, unknown>,
  p: Projection,
): Record<string, unknown> {
  if (p.attributes) {
    const keep = toTree(kind, p.attributes);
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(resource)) {
      const rule = keep.get(key);
      if (ALWAYS.has(key) || rule === true) out[key] = value;
      else if (rule) {
        const picked = pickSubs(value, rule);
        if (picked && (typeof picked !== "object" || Object.keys(picked).length)) out[key] = picked;
      }
    }
    return out;
  }
  if (p.excluded) {
    const drop = toTree(kind, p.excluded);
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(resource)) {
      const rule = drop.get(key);
      if (ALWAYS.has(key) || rule === undefined) out[key] = value;
      else if (rule !== true) out[key] = dropSubs(value, rule);
    }
    return out;
  }
  return resource;
}

/** Whether a projection asks for a (top-level) attribute at all: lets reads skip loading it. */
export function wantsAttribute(kind: ResourceKind, p: Projection, name: string): boolean {
  if (p.attributes) return toTree(kind, p.attributes).has(name);
  if (p.excluded) return toTree(kind, p.excluded).get(name) !== true;
  return true;
}
