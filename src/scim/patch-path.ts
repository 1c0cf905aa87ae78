import { ScimError } from "../http/errors.js";
import { type FilterNode, parseFilter } from "./filter/parse.js";
import { assertFilterPaths } from "./patch-filter.js";
import { findSub, plainDef } from "./patch-values.js";
import { type AttributeDef, type ResourceKind, resolvePath } from "./schema-info.js";

/** What a PATCH path addresses: an attribute, optionally a value filter on it and a sub-attribute. */
export interface PatchTarget {
  /** URN of the schema that defines the attribute (core: top level; extension: under this key). */
  schema: string;
  attr: AttributeDef;
  /** RFC 7644 §3.5.2 valuePath filter selecting values of a multi-valued complex attribute. */
  filter?: FilterNode;
  sub?: AttributeDef;
  /** The path as the client wrote it, for error messages. */
  text: string;
}

const invalidPath = (msg: string) => ScimError.of("invalidPath", msg);
const SUB_ATTR = /^\.[A-Za-z$][A-Za-z0-9_$-]*$/;

/** The extension schema URN a path names as a whole (e.g. remove of the enterprise extension), if any. */
export function extensionNamed(kind: ResourceKind, path: string): string | undefined {
  return kind.extensions.find((id) => id.toLowerCase() === path.toLowerCase());
}

/** Parse an RFC 7644 §3.5.2 PATH (`attrPath / valuePath [subAttr]`) against the resource's schemas. */
export function parsePatchPath(kind: ResourceKind, path: string): PatchTarget {
  const open = path.indexOf("[");
  if (open < 0) {
    if (/[\]\s"()]/.test(path)) throw invalidPath(`Malformed path '${path}'`);
    const r = resolvePath(kind, path) ?? explainUnresolved(kind, path);
    return { schema: r.schema, attr: plainDef(r.attr), sub: r.sub && plainDef(r.sub), text: path };
  }
  const close = closingBracket(path, open);
  if (close < 0) throw invalidPath(`Unbalanced '[' in path '${path}'`);
  const rest = path.slice(close + 1);
  if (rest !== "" && !SUB_ATTR.test(rest)) throw invalidPath(`Malformed path '${path}' after ']'`);
  const r = resolvePath(kind, path.slice(0, open)) ?? explainUnresolved(kind, path.slice(0, open));
  const attr = plainDef(r.attr);
  if (r.sub || attr.type !== "complex" || !attr.multiValued)
    throw invalidPath(`A value filter needs a multi-valued complex attribute, not '${path.slice(0, open)}'`);
  let filter: FilterNode;
  try {
    filter = parseFilter(path.slice(open + 1, close));
  } catch (e) {
    // RFC 7644 §3.12: invalidFilter also covers "PATCH (Path Filter)".
    throw ScimError.of("invalidFilter", `Invalid filter in path '${path}': ${(e as Error).message}`);
  }
  assertFilterPaths(filter, attr.subAttributes ?? [], path);
  const sub = rest ? findSub(attr, rest.slice(1)) : undefined;
  if (rest && !sub) throw invalidPath(`'${attr.name}' has no sub-attribute '${rest.slice(1)}'`);
  return { schema: r.schema, attr, filter, sub, text: path };
}

// The ']' closing the filter, skipping quoted strings (a value may contain ']' or an escaped quote).
function closingBracket(path: string, open: number): number {
  for (let i = open + 1; i < path.length; i++) {
    const c = path[i];
    if (c === '"') {
      for (i++; i < path.length && path[i] !== '"'; i++) if (path[i] === "\\") i++;
    } else if (c === "[") {
      return -1;
    } else if (c === "]") {
      return i;
    }
  }
  return -1;
}

// Say why a path did not resolve: a readOnly parent (meta.created) is a mutability error, not a bad path.
function explainUnresolved(kind: ResourceKind, path: string): never {
  const dot = path.lastIndexOf(".");
  const parent = dot > path.lastIndexOf(":") ? resolvePath(kind, path.slice(0, dot)) : undefined;
  if (parent && !parent.sub) {
    const attr = plainDef(parent.attr);
    if (attr.mutability === "readOnly") throw ScimError.of("mutability", `'${attr.name}' is readOnly`);
    if (!attr.subAttributes?.length)
      throw invalidPath(`'${attr.name}' has no sub-attributes (path '${path}')`);
  }
  throw invalidPath(`Unknown attribute path '${path}'`);
}
