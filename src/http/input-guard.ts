import type { RequestHandler } from "express";
import { AppError } from "./errors.js";

/**
 * Checks on untrusted input that every API shares, before any of it is walked or stored.
 *
 * - Nesting: JSON.parse is iterative, but everything after it (structuredClone, JSON.stringify,
 *   Bulk's bulkId resolution, deep equality, zod) recurses, and a 1 MB body of `[[[[…` is 500,000
 *   levels: a stack overflow (500) after seconds of work. Bodies deeper than MAX_JSON_DEPTH are
 *   refused before they are parsed, so no walk downstream ever meets one (issue 14, item 3).
 * - Characters: PostgreSQL text cannot hold U+0000 (it refuses the statement: a 500 where SQLite
 *   stored it), and an unpaired UTF-16 surrogate is no Unicode character at all (RFC 7643 §2.3.1:
 *   strings are Unicode; the drivers would store U+FFFD, silently changing the value). Both are
 *   refused in every string and key of a body, a path and a query (issue 14, item 16).
 */

/** Deepest JSON nesting accepted (objects and arrays). The deepest real SCIM body, a Bulk PATCH
 * of an enterprise manager, nests 9 levels; the admin API's bodies 4. */
export const MAX_JSON_DEPTH = 32;

/** What a scan of JSON text found. */
export interface JsonScan {
  /** Nesting went deeper than the limit (the scan stopped there). */
  tooDeep: boolean;
  /** A \u escape that may decode to U+0000 or a surrogate: the parsed value needs a look. */
  suspicious: boolean;
}

/**
 * One pass over JSON text, before JSON.parse: nesting depth outside strings, and whether any
 * `\u0000` or `\uD800`–`\uDFFF` escape occurs. Raw NULs are invalid JSON and raw surrogates cannot
 * come out of UTF-8 decoding, so escapes are the only way either reaches a parsed string: a body
 * without them (nearly all) needs no walk at all.
 */
export function scanJson(text: string, maxDepth = MAX_JSON_DEPTH): JsonScan {
  let depth = 0;
  let suspicious = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      // A string: skip to its closing quote, looking only at escapes.
      for (i++; i < n; i++) {
        const s = text.charCodeAt(i);
        if (s === 0x22) break;
        if (s !== 0x5c) continue;
        i++;
        if (text.charCodeAt(i) !== 0x75 || suspicious) continue;
        const a = text.charCodeAt(i + 1) | 0x20;
        const b = text.charCodeAt(i + 2) | 0x20;
        // \u0000, or \uD8xx–\uDFxx (b is 8, 9 or a–f)
        if (text.startsWith("0000", i + 1)) suspicious = true;
        else if (a === 0x64 && (b === 0x38 || b === 0x39 || (b >= 0x61 && b <= 0x66))) suspicious = true;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return { tooDeep: true, suspicious };
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    }
  }
  return { tooDeep: false, suspicious };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: U+0000 is exactly what is looked for
const SUSPECT_ALL = /[\u0000\ud800-\udfff]/g;
const SUSPECT = new RegExp(SUSPECT_ALL.source);
const hex4 = (c: number) => `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;

/** Why a string is refused (a NUL, an unpaired surrogate), or undefined when it is fine. */
export function stringProblem(s: string): string | undefined {
  if (!SUSPECT.test(s)) return undefined;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return "a NUL character (U+0000)";
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
      return `an unpaired surrogate (${hex4(c)})`;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return `an unpaired surrogate (${hex4(c)})`;
  }
  return undefined;
}

/** A string safe to echo in a message: NULs and surrogates shown as \uXXXX. */
export function printable(s: string): string {
  return s.replace(SUSPECT_ALL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Where in a parsed body a refused string sits: keys and array indexes from the root. */
export type JsonPath = Array<string | number>;

/** `Operations.0.value.userName`: the admin API's field notation (`details[].field`). */
export function formatPath(path: JsonPath): string {
  return path.map((p) => (typeof p === "number" ? String(p) : printable(p))).join(".");
}

/** A string or key a parsed JSON value must not hold, and where (found iteratively). */
export function findBadString(value: unknown): { path: JsonPath; problem: string } | undefined {
  const stack: Array<[unknown, JsonPath]> = [[value, []]];
  while (stack.length) {
    const [v, path] = stack.pop()!;
    if (typeof v === "string") {
      const problem = stringProblem(v);
      if (problem) return { path, problem };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], [...path, i]]);
    } else if (v !== null && typeof v === "object") {
      const entries = Object.entries(v);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, x] = entries[i];
        const problem = stringProblem(k);
        if (problem) return { path: [...path, k], problem: `a key with ${problem}` };
        stack.push([x, [...path, k]]);
      }
    }
  }
  return undefined;
}

/**
 * First middleware of the app: a path with a malformed percent-escape (`/scim/v2/Users/%E0%A4%A`)
 * is 400 for every router (the router's parameter decoding threw a URIError, which answered 500),
 * and a %00 anywhere in the path or the query is 400 before any handler can send it to the
 * database. Costs nothing on URLs without a '%'.
 */
export function urlGuard(): RequestHandler {
  return (req, _res, next) => {
    const url = req.url;
    if (!url.includes("%")) return next();
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    if (path.includes("%")) {
      let decoded: string;
      try {
        decoded = decodeURIComponent(path);
      } catch {
        return next(
          new AppError(
            400,
            "MALFORMED_URL",
            "The request path has a malformed percent-escape (RFC 3986 §2.1)",
          ),
        );
      }
      if (decoded.includes("\0")) return next(badUrlPart("the request path", "path"));
    }
    if (q >= 0 && url.includes("%00", q)) {
      for (const [name, value] of new URLSearchParams(url.slice(q + 1))) {
        if (!value.includes("\0") && !name.includes("\0")) continue;
        return next(badUrlPart(`query parameter ${printable(name)}`, name));
      }
    }
    next();
  };
}

function badUrlPart(where: string, name: string): AppError {
  const message = "contains a NUL character (U+0000): strings may not contain NUL characters";
  // RFC 7644 §3.12: a filter the server cannot take is invalidFilter.
  const scimType = name.toLowerCase() === "filter" ? "invalidFilter" : "invalidValue";
  return new AppError(
    400,
    "VALIDATION_FAILED",
    `Invalid request: ${where} ${message}`,
    [{ field: printable(name), message }],
    scimType,
  );
}
