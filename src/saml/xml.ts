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
    readonly code: "DOCTYPE" | "MALFORMED",
    message: string,
  ) {
    super(message);
    this.name = "XmlRefused";
  }
}

// A DOCTYPE is how XXE and entity-expansion bombs arrive; SAML never needs one. Refused on the
// raw text, before any parser sees it (node-saml and xmldom would both accept it).
const DOCTYPE = /<!DOCTYPE|<!ENTITY/i;

/** Parse XML text strictly: any DOCTYPE/ENTITY is refused first; parse errors and warnings fail. */
export function parseXml(text: string): Document {
  if (DOCTYPE.test(text))
    throw new XmlRefused("DOCTYPE", "XML with a DOCTYPE or ENTITY declaration is refused");
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

/** Every descendant element with this namespace and local name. */
export function descendants(node: Document | Element, ns: string, localName: string): Element[] {
  return Array.from(node.getElementsByTagNameNS(ns, localName) as unknown as ArrayLike<Element>);
}

/** The text of an element (all text descendants, trimmed), or undefined. */
export function textOf(e: Element | undefined): string | undefined {
  if (!e) return undefined;
  return (e.textContent ?? "").trim();
}

/**
 * One walk over an element and everything under it, in document order: the first node that is
 * not an element, text or CDATA (a comment, a processing instruction) or attribute whose name
 * starts with "xmlns" without declaring a namespace (xml-crypto's C14N leaves such attributes
 * out of what is signed), and the elements of each
 * asked (namespace, local name), the element itself included (what getElementsByTagNameNS on its
 * document returns). One walk instead of one per name.
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
    for (let c = e.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === 1) visit(c as Element);
      else if (c.nodeType !== 3 && c.nodeType !== 4) foreign ??= c;
    }
  };
  visit(root);
  return { foreign, found };
}
