import { DOMParser } from "@xmldom/xmldom";

/** SAML, metadata and XML-DSig namespaces. */
export const NS = {
  protocol: "urn:oasis:names:tc:SAML:2.0:protocol",
  assertion: "urn:oasis:names:tc:SAML:2.0:assertion",
  metadata: "urn:oasis:names:tc:SAML:2.0:metadata",
  dsig: "http://www.w3.org/2000/09/xmldsig#",
  xenc: "http://www.w3.org/2001/04/xmlenc#",
} as const;

/** Why an XML document was refused before or while parsing. */
export class XmlRefused extends Error {
  constructor(
    readonly code: "DOCTYPE" | "MALFORMED" | "TOO_COMPLEX",
    message: string,
  ) {
    super(message);
    this.name = "XmlRefused";
  }
}

/** How much structure a document may have; checked on the raw text before any parser sees it. */
export interface XmlLimits {
  maxDepth: number;
  maxElements: number;
  maxAttributes: number;
}

/**
 * SAML responses. The deepest real shape is about 8 levels (Response › EncryptedAssertion ›
 * EncryptedData › KeyInfo › EncryptedKey › CipherData › CipherValue; Assertion › Signature ›
 * KeyInfo › X509Data › X509Certificate); elements and attributes grow with attribute values
 * (one element each, up to three attributes with Okta's xsi:type declarations). xmldom's cost
 * grows with the square of the depth (30,000 nested elements: ~1 s, then a stack overflow in any
 * recursive walk) and linearly with elements (~1 µs) and attributes (~3 µs): these limits keep
 * the worst accepted parse near 35 ms while admitting ~2,800 group values, more than fit in the
 * ACS body limit at Okta's verbosity.
 */
export const RESPONSE_LIMITS: XmlLimits = { maxDepth: 32, maxElements: 5000, maxAttributes: 10_000 };

/** IdP metadata (one entity, at most 1 MB): Entra's, with its WS-Federation claim lists, has ~300 elements. */
export const METADATA_LIMITS: XmlLimits = { maxDepth: 32, maxElements: 20_000, maxAttributes: 40_000 };

// A DOCTYPE is how XXE and entity-expansion bombs arrive; SAML never needs one. Refused on the
// raw text, before any parser sees it (node-saml and xmldom would both accept it).
const DOCTYPE = /<!DOCTYPE|<!ENTITY/i;
// XML 1.0 §2.2 Char: no C0 controls but tab, LF, CR; no U+FFFE/U+FFFF. xmldom accepts them (and
// &#0;), and a NUL reaching PostgreSQL in a query parameter is an error there, not a mismatch.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters refused
const FORBIDDEN_CHAR = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
const CHAR_REF = /&#(?:x([0-9A-Fa-f]{1,8})|([0-9]{1,10}));/g;

function isXmlChar(c: number): boolean {
  return (
    c === 0x9 ||
    c === 0xa ||
    c === 0xd ||
    (c >= 0x20 && c <= 0xd7ff) ||
    (c >= 0xe000 && c <= 0xfffd) ||
    (c >= 0x10000 && c <= 0x10ffff)
  );
}

const malformed = (why: string) => new XmlRefused("MALFORMED", `Malformed XML: ${why}`);

/**
 * One linear pass over the raw text, before the DOM parse: refuses characters XML forbids,
 * unbalanced or mismatched tags, `<` inside attribute values, and anything deeper or bigger than
 * `limits`. Every element xmldom would build starts with a `<` this pass counts (outside
 * comments, CDATA and processing instructions, which it skips as xmldom does), so what it
 * admits is what xmldom parses. Throws XmlRefused.
 */
export function prescanXml(text: string, limits: XmlLimits): void {
  if (FORBIDDEN_CHAR.test(text)) throw malformed("a character XML does not allow (a control character)");
  for (const m of text.matchAll(CHAR_REF))
    if (!isXmlChar(m[1] !== undefined ? Number.parseInt(m[1], 16) : Number(m[2])))
      throw malformed(`a character reference XML does not allow (${m[0]})`);
  const open: string[] = [];
  let elements = 0;
  let attributes = 0;
  const tooComplex = (what: string) =>
    new XmlRefused("TOO_COMPLEX", `The XML document ${what}; this is refused before parsing.`);
  for (let i = text.indexOf("<"); i >= 0; i = text.indexOf("<", i)) {
    const next = text.charCodeAt(i + 1);
    let end: number;
    if (next === 0x2f /* </ */) {
      end = text.indexOf(">", i + 2);
      if (end < 0) throw malformed("an unterminated end tag");
      if (open.pop() !== text.slice(i + 2, end).trimEnd()) throw malformed("an end tag that does not match");
      i = end + 1;
      continue;
    }
    if (next === 0x3f /* <? */) {
      end = text.indexOf("?>", i + 2);
      if (end < 0) throw malformed("an unterminated processing instruction");
      i = end + 2;
      continue;
    }
    if (next === 0x21 /* <! */) {
      const [opener, closer] = text.startsWith("<!--", i)
        ? ["<!--", "-->"]
        : text.startsWith("<![CDATA[", i)
          ? ["<![CDATA[", "]]>"]
          : [undefined, undefined];
      if (!opener || !closer) throw malformed("markup declarations are not accepted");
      end = text.indexOf(closer, i + opener.length);
      if (end < 0) throw malformed(`an unterminated ${opener}`);
      i = end + closer.length;
      continue;
    }
    // A start tag: its name, then attributes up to the closing '>' (quotes honoured).
    let j = i + 1;
    while (j < text.length && !/[\s/>]/.test(text[j])) j++;
    const name = text.slice(i + 1, j);
    if (name === "") throw malformed("a '<' that starts no tag");
    let quote = 0;
    for (; j < text.length; j++) {
      const ch = text.charCodeAt(j);
      if (quote !== 0) {
        if (ch === quote) {
          quote = 0;
          attributes++;
        } else if (ch === 0x3c) throw malformed("'<' inside an attribute value");
      } else if (ch === 0x22 || ch === 0x27) quote = ch;
      else if (ch === 0x3e || ch === 0x3c) break;
    }
    if (text.charCodeAt(j) !== 0x3e) throw malformed(`an unterminated <${name.slice(0, 40)}> tag`);
    if (++elements > limits.maxElements) throw tooComplex(`has more than ${limits.maxElements} elements`);
    if (attributes > limits.maxAttributes)
      throw tooComplex(`has more than ${limits.maxAttributes} attributes`);
    if (text.charCodeAt(j - 1) !== 0x2f /* not <a/> */) {
      open.push(name);
      if (open.length > limits.maxDepth) throw tooComplex(`is nested deeper than ${limits.maxDepth} levels`);
    }
    i = j + 1;
  }
  if (open.length > 0) throw malformed(`<${open[open.length - 1].slice(0, 40)}> is never closed`);
  if (elements === 0) throw malformed("no root element");
}

/**
 * Parse XML text strictly: any DOCTYPE/ENTITY is refused first, then the structural pre-scan
 * (`limits`); parse errors and warnings fail.
 */
export function parseXml(text: string, limits: XmlLimits): Document {
  if (DOCTYPE.test(text))
    throw new XmlRefused("DOCTYPE", "XML with a DOCTYPE or ENTITY declaration is refused");
  prescanXml(text, limits);
  let problem: string | undefined;
  const parser = new DOMParser({
    locator: {},
    errorHandler: {
      warning: (m: string) => {
        problem ??= m;
      },
      error: (m: string) => {
        problem ??= m;
      },
      fatalError: (m: string) => {
        problem ??= m;
      },
    },
  });
  let doc: Document | undefined;
  try {
    doc = parser.parseFromString(text, "text/xml") as unknown as Document;
  } catch (err) {
    problem ??= String(err);
  }
  if (problem || !doc?.documentElement)
    throw new XmlRefused("MALFORMED", `Malformed XML: ${problem ?? "no root"}`);
  return doc;
}

/**
 * Every node under `root` (not `root` itself) in document order, without recursion: the walk
 * follows firstChild / nextSibling / parentNode, so its depth costs no stack. (The pre-scan
 * bounds depth anyway; the walks stay safe whatever parsed the document.)
 */
export function* nodesUnder(root: Node): Generator<Node> {
  let node: Node | null = root.firstChild;
  while (node) {
    yield node;
    if (node.firstChild) {
      node = node.firstChild;
      continue;
    }
    while (node && node !== root && !node.nextSibling) node = node.parentNode;
    if (!node || node === root) return;
    node = node.nextSibling;
  }
}

/** Element children of a node (optionally by namespace and local name). */
export function children(node: Node, ns?: string, localName?: string): Element[] {
  const out: Element[] = [];
  for (let c = node.firstChild; c; c = c.nextSibling) {
    if (c.nodeType !== 1) continue;
    const e = c as Element;
    if (ns && e.namespaceURI !== ns) continue;
    if (localName && e.localName !== localName) continue;
    out.push(e);
  }
  return out;
}

/** The first element child with this namespace and local name, or undefined. */
export function child(node: Node, ns: string, localName: string): Element | undefined {
  return children(node, ns, localName)[0];
}

/** Every descendant element with this namespace and local name, in document order (iterative). */
export function descendants(node: Document | Element, ns: string, localName: string): Element[] {
  const out: Element[] = [];
  for (const n of nodesUnder(node))
    if (n.nodeType === 1 && (n as Element).localName === localName && (n as Element).namespaceURI === ns)
      out.push(n as Element);
  return out;
}

/** The text of an element's text and CDATA descendants, untrimmed (textContent, iteratively). */
export function textContent(e: Element): string {
  let out = "";
  for (const n of nodesUnder(e)) if (n.nodeType === 3 || n.nodeType === 4) out += (n as CharacterData).data;
  return out;
}

/** The text of an element (all text descendants, trimmed), or undefined. */
export function textOf(e: Element | undefined): string | undefined {
  if (!e) return undefined;
  return textContent(e).trim();
}

/**
 * One walk over an element and everything under it, in document order: the first node that is
 * not an element, text or CDATA (a comment, a processing instruction) or attribute whose name
 * starts with "xmlns" without declaring a namespace (xml-crypto's C14N leaves such attributes
 * out of what is signed), and the elements of each asked (namespace, local name), the element
 * itself included (what getElementsByTagNameNS on its document returns). One walk instead of
 * one per name, and no recursion.
 */
export function scanElements(
  root: Element,
  wanted: ReadonlyArray<readonly [ns: string, localName: string]>,
): { foreign: Node | null; found: Element[][] } {
  const found = wanted.map((): Element[] => []);
  let foreign: Node | null = null;
  const visit = (e: Element) => {
    for (let i = 0; i < wanted.length; i++)
      if (e.localName === wanted[i][1] && e.namespaceURI === wanted[i][0]) found[i].push(e);
    for (let i = 0; i < e.attributes.length; i++) {
      const name = e.attributes[i].name;
      if (name.startsWith("xmlns") && name !== "xmlns" && !name.startsWith("xmlns:"))
        foreign ??= e.attributes[i];
    }
  };
  visit(root);
  for (const n of nodesUnder(root)) {
    if (n.nodeType === 1) visit(n as Element);
    else if (n.nodeType !== 3 && n.nodeType !== 4) foreign ??= n;
  }
  return { foreign, found };
}
