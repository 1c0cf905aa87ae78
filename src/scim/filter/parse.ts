import { ScimError } from "../../http/errors.js";
import { printable, stringProblem } from "../../http/input-guard.js";

/** A comparison operator of RFC 7644 §3.4.2.2 (table 3), lower-cased. */
export type CompareOp = "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le";

/** A parsed filter. Paths keep the text as written; valuePath inner paths are sub-attribute names. */
export type FilterNode =
  | { kind: "and" | "or"; left: FilterNode; right: FilterNode }
  | { kind: "not"; expr: FilterNode }
  | { kind: "compare"; path: string; op: CompareOp; value: string | number | boolean | null }
  | { kind: "present"; path: string }
  | { kind: "valuePath"; path: string; filter: FilterNode };

/** Limits against hostile input: the filter arrives in a URL or a request body. */
export const FILTER_LIMITS = { maxLength: 4096, maxDepth: 32, maxComparisons: 100 } as const;

const COMPARE_OPS = new Set<string>(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]);
// RFC 7644 §3.4.2.2 attrPath = [URI ":"] ATTRNAME *1subAttr; RFC 7643 §2.1 ATTRNAME (plus "$ref").
const NAME = "[A-Za-z$][A-Za-z0-9_$-]*";
const ATTR_PATH = new RegExp(`^(?:urn:[A-Za-z0-9._:-]+:)?${NAME}(?:\\.${NAME})?$`, "i");
const SUB_ATTR = new RegExp(`^\\.${NAME}$`);
// RFC 7159 §6 number grammar.
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

type TokenType = "(" | ")" | "[" | "]" | "word" | "string" | "end";
interface Token {
  type: TokenType;
  text: string;
  pos: number;
  end: number;
}

const fail = (msg: string): never => {
  throw ScimError.of("invalidFilter", msg);
};
const at = (t: Token) => `at position ${t.pos + 1}`;
// Echo user input in messages, but never a 4 KB of it.
const quote = (text: string) => `'${printable(text.length > 60 ? `${text.slice(0, 57)}...` : text)}'`;
const describeToken = (t: Token) => (t.type === "end" ? "end of filter" : quote(t.text));

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (/\s/.test(c)) {
      i++;
    } else if (c === "(" || c === ")" || c === "[" || c === "]") {
      tokens.push({ type: c, text: c, pos: i, end: i + 1 });
      i++;
    } else if (c === '"') {
      tokens.push(readString(input, i));
      i = tokens[tokens.length - 1].end;
    } else {
      let j = i;
      while (j < input.length && !/[\s()[\]"]/.test(input[j])) j++;
      tokens.push({ type: "word", text: input.slice(i, j), pos: i, end: j });
      i = j;
    }
  }
  tokens.push({ type: "end", text: "", pos: input.length, end: input.length });
  return tokens;
}

// compValue strings are JSON strings (RFC 7644 §3.4.2.2 → RFC 7159 §7): escapes included.
function readString(input: string, start: number): Token {
  let j = start + 1;
  while (j < input.length && input[j] !== '"') j += input[j] === "\\" ? 2 : 1;
  if (j >= input.length) fail(`Unterminated string starting at position ${start + 1}`);
  const raw = input.slice(start, j + 1);
  let text = "";
  try {
    text = JSON.parse(raw);
  } catch {
    fail(`Invalid string ${quote(printable(raw))} at position ${start + 1}: bad escape or control character`);
  }
  // "\u0000" or a lone "\ud800" escape: PostgreSQL cannot compare with a NUL (a 500 where SQLite
  // answered), and an unpaired surrogate is no character; neither can match a stored value.
  const problem = stringProblem(text);
  if (problem) fail(`The string at position ${start + 1} contains ${problem}, which no value can hold`);
  return { type: "string", text, pos: start, end: j + 1 };
}

class Parser {
  private i = 0;
  private depth = 0;
  private comparisons = 0;
  private inValuePath = false;

  constructor(private readonly tokens: Token[]) {}

  parse(): FilterNode {
    const node = this.parseOr();
    const t = this.peek();
    if (t.type !== "end") fail(`Unexpected ${describeToken(t)} ${at(t)}`);
    return node;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)];
  }

  private next(): Token {
    const t = this.peek();
    if (t.type !== "end") this.i++;
    return t;
  }

  private isKeyword(t: Token, word: string): boolean {
    return t.type === "word" && t.text.toLowerCase() === word;
  }

  private expect(type: TokenType, what: string): Token {
    const t = this.next();
    if (t.type !== type) fail(`Expected ${what} ${at(t)} but found ${describeToken(t)}`);
    return t;
  }

  // RFC 7644 §3.4.2.2: "and" binds tighter than "or" (precedence table, grouping by parentheses).
  private parseOr(): FilterNode {
    let left = this.parseAnd();
    while (this.isKeyword(this.peek(), "or")) {
      this.next();
      left = { kind: "or", left, right: this.parseAnd() };
    }
    return left;
  }

  private parseAnd(): FilterNode {
    let left = this.parseUnary();
    while (this.isKeyword(this.peek(), "and")) {
      this.next();
      left = { kind: "and", left, right: this.parseUnary() };
    }
    return left;
  }

  private parseUnary(): FilterNode {
    const t = this.peek();
    if (this.isKeyword(t, "not") && this.peek(1).type === "(") {
      this.next();
      return { kind: "not", expr: this.parseGroup() };
    }
    if (this.isKeyword(t, "not")) fail(`Expected '(' after 'not' ${at(this.peek(1))}`);
    if (t.type === "(") return this.parseGroup();
    return this.parseAttrExp();
  }

  private parseGroup(): FilterNode {
    const open = this.expect("(", "'('");
    this.enter(open);
    const inner = this.parseOr();
    this.expect(")", `')' to close the '(' ${at(open)}`);
    this.depth--;
    return inner;
  }

  private enter(t: Token): void {
    if (++this.depth > FILTER_LIMITS.maxDepth)
      fail(`Filter nests deeper than ${FILTER_LIMITS.maxDepth} levels ${at(t)}`);
  }

  private parseAttrExp(): FilterNode {
    const t = this.expect("word", "an attribute path");
    if (this.isKeyword(t, "and") || this.isKeyword(t, "or"))
      fail(`Expected an attribute path ${at(t)} but found ${quote(t.text)}`);
    const path = t.text;
    // The longest real path (an extension URN plus attribute) is under 100 characters.
    if (path.length > 256 || !ATTR_PATH.test(path)) fail(`Invalid attribute path ${quote(path)} ${at(t)}`);
    if (this.inValuePath && (path.includes(".") || path.includes(":")))
      fail(`Inside '[...]' use a sub-attribute name, not ${quote(path)} ${at(t)}`);
    if (this.peek().type === "[") return this.parseValuePath(t);
    return this.parseOperation(path, t);
  }

  // RFC 7644 §3.4.2.2 valuePath = attrPath "[" valFilter "]"; we also accept a trailing
  // ".subAttr op value" (e.g. emails[type eq "work"].value ew "@x.com"), same multi-valued row.
  private parseValuePath(t: Token): FilterNode {
    const path = t.text;
    if (this.inValuePath) fail(`Value paths cannot be nested ${at(this.peek())}`);
    if (path.slice(path.lastIndexOf(":") + 1).includes("."))
      fail(`A value path needs an attribute without sub-attribute, not ${quote(path)} ${at(t)}`);
    const open = this.next();
    this.enter(open);
    this.inValuePath = true;
    let filter = this.parseOr();
    this.inValuePath = false;
    const close = this.expect("]", `']' to close the '[' ${at(open)}`);
    this.depth--;
    const sub = this.peek();
    if (sub.type === "word" && sub.pos === close.end && sub.text.startsWith(".")) {
      if (!SUB_ATTR.test(sub.text)) fail(`Invalid sub-attribute ${quote(sub.text)} ${at(sub)}`);
      this.next();
      filter = { kind: "and", left: filter, right: this.parseOperation(sub.text.slice(1), sub) };
    }
    return { kind: "valuePath", path, filter };
  }

  private parseOperation(path: string, pathToken: Token): FilterNode {
    const opToken = this.next();
    if (opToken.type !== "word")
      fail(
        `Expected an operator after ${quote(pathToken.text)} ${at(opToken)} but found ${describeToken(opToken)}`,
      );
    const op = opToken.text.toLowerCase();
    if (++this.comparisons > FILTER_LIMITS.maxComparisons)
      fail(`Filter has more than ${FILTER_LIMITS.maxComparisons} comparisons ${at(pathToken)}`);
    if (op === "pr") return { kind: "present", path };
    if (!COMPARE_OPS.has(op)) fail(`Unknown operator ${quote(opToken.text)} ${at(opToken)}`);
    return { kind: "compare", path, op: op as CompareOp, value: this.parseValue() };
  }

  // RFC 7644 §3.4.2.2 compValue = false / null / true / number / string (keywords case-insensitive).
  private parseValue(): string | number | boolean | null {
    const t = this.next();
    if (t.type === "string") return t.text;
    if (t.type === "word") {
      const lower = t.text.toLowerCase();
      if (lower === "true") return true;
      if (lower === "false") return false;
      if (lower === "null") return null;
      if (NUMBER.test(t.text) && Number.isFinite(Number(t.text))) return Number(t.text);
    }
    const hint = t.type === "word" && !NUMBER.test(t.text) ? " (strings must be in double quotes)" : "";
    return fail(
      `Expected a value (string, number, true, false or null) ${at(t)} but found ${describeToken(t)}${hint}`,
    );
  }
}

/** Parse an RFC 7644 §3.4.2.2 filter; throws ScimError invalidFilter naming the position of the fault. */
export function parseFilter(input: string): FilterNode {
  if (input.length > FILTER_LIMITS.maxLength)
    fail(`Filter is longer than ${FILTER_LIMITS.maxLength} characters`);
  if (input.trim() === "") fail("Filter is empty");
  return new Parser(tokenize(input)).parse();
}
