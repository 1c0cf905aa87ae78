import { type Expected, type RawFacts, SsoFailure } from "./acs-checks.js";
import { CLOCK_SKEW_MS } from "./sp.js";
import { child, children, NS, textContent, textOf } from "./xml.js";

/**
 * Checks on the assertion whose signature verified (acs-checks.ts), read from the very element
 * that was digested, never from a copy found elsewhere in the document.
 */

const BEARER = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
const seconds = (ms: number) => Math.round(ms / 1000);

function timeFailure(
  code: "NOT_YET_VALID" | "EXPIRED",
  facts: RawFacts,
  exp: Expected,
  at: string,
): SsoFailure {
  const a = facts.assertion;
  const now = exp.now.getTime();
  const skew = code === "NOT_YET_VALID" ? new Date(at).getTime() - now : now - new Date(at).getTime();
  return new SsoFailure(
    code,
    code === "NOT_YET_VALID"
      ? "The assertion is not valid yet: the identity provider's clock or this server's is off."
      : "The assertion has expired (or the clocks differ too much): sign in again.",
    {
      serverTime: exp.now.toISOString(),
      notBefore: a?.notBefore ?? null,
      notOnOrAfter: a?.notOnOrAfter ?? null,
      allowedSkewSeconds: seconds(CLOCK_SKEW_MS),
      skewSeconds: seconds(skew),
    },
  );
}

/** A SAML dateTime (UTC, with its zone: never read as this server's local time), or a refusal. */
function instant(value: string, what: string): number {
  const t = Date.parse(value);
  if (!/^\d{4}-\d\d-\d\dT[^Z+]*(Z|[+-]\d\d:\d\d)$/.test(value) || Number.isNaN(t))
    throw new SsoFailure("INVALID", `The assertion's ${what} is not a valid time.`, { [what]: value });
  return t;
}

/** Refuse outside [NotBefore, NotOnOrAfter), with 2 minutes' tolerance either way. */
function checkWindow(e: Element, what: string, facts: RawFacts, exp: Expected): void {
  const now = exp.now.getTime();
  const notBefore = e.getAttribute("NotBefore");
  const notOnOrAfter = e.getAttribute("NotOnOrAfter");
  if (notBefore && now + CLOCK_SKEW_MS < instant(notBefore, `${what} NotBefore`))
    throw timeFailure("NOT_YET_VALID", facts, exp, notBefore);
  if (notOnOrAfter && now - CLOCK_SKEW_MS >= instant(notOnOrAfter, `${what} NotOnOrAfter`))
    throw timeFailure("EXPIRED", facts, exp, notOnOrAfter);
}

/** What the verified assertion says, after its checks. */
export interface VerifiedAssertion {
  id: string;
  nameId: string;
  nameIdFormat: string | null;
  sessionIndex: string | null;
  notOnOrAfter: string | null;
  /** Attribute name → its value, or its values when there are several. */
  attributes: Record<string, string | string[]>;
}

function readAttributes(a: Element): Record<string, string | string[]> {
  const values = new Map<string, string[]>();
  for (const statement of children(a, NS.assertion, "AttributeStatement"))
    for (const attr of children(statement, NS.assertion, "Attribute")) {
      const name = attr.getAttribute("Name");
      if (!name) continue;
      const list = values.get(name) ?? [];
      for (const v of children(attr, NS.assertion, "AttributeValue")) list.push(textContent(v));
      values.set(name, list);
    }
  return Object.fromEntries([...values].map(([k, v]) => [k, v.length === 1 ? v[0] : v]));
}

/**
 * Checks on the assertion whose signature verified (the very element that was digested, never
 * a copy found elsewhere in the document): Issuer = the configured IdP; one Conditions whose
 * window holds now and whose every AudienceRestriction names this SP; a bearer
 * SubjectConfirmationData with Recipient = the ACS URL, a NotOnOrAfter and a window that holds
 * now, and InResponseTo = the request this browser started (none when IdP-initiated).
 */
export function checkAssertion(a: Element, facts: RawFacts, exp: Expected): VerifiedAssertion {
  const issuer = textOf(child(a, NS.assertion, "Issuer")) ?? null;
  if (issuer !== exp.idpEntityId)
    throw new SsoFailure(
      "ISSUER_MISMATCH",
      "The assertion was issued by a different identity provider than the one configured.",
      { expected: exp.idpEntityId, received: issuer },
    );
  const conditions = children(a, NS.assertion, "Conditions");
  const restrictions =
    conditions.length === 1 ? children(conditions[0], NS.assertion, "AudienceRestriction") : [];
  const audienceOk =
    restrictions.length > 0 &&
    restrictions.every((r) =>
      children(r, NS.assertion, "Audience").some((au) => textOf(au) === exp.entityId),
    );
  if (!audienceOk)
    throw new SsoFailure(
      "AUDIENCE_MISMATCH",
      "The assertion was meant for a different application (audience mismatch).",
      { expected: exp.entityId, received: facts.assertion?.audiences ?? [] },
    );
  checkWindow(conditions[0], "Conditions", facts, exp);
  const subjects = children(a, NS.assertion, "Subject");
  const subject = subjects.length === 1 ? subjects[0] : undefined;
  const bearer = (subject ? children(subject, NS.assertion, "SubjectConfirmation") : []).filter(
    (c) => c.getAttribute("Method") === BEARER,
  );
  const data = bearer.flatMap((c) => children(c, NS.assertion, "SubjectConfirmationData"));
  const recipients = data.map((d) => d.getAttribute("Recipient"));
  if (data.length === 0 || recipients.some((r) => r !== exp.acsUrl))
    throw new SsoFailure(
      "RECIPIENT_MISMATCH",
      "The assertion was meant for a different URL than this workspace's ACS URL.",
      { expected: exp.acsUrl, received: recipients },
    );
  // The bearer profile requires NotOnOrAfter: without it an assertion would be valid forever
  // while its replay record is kept only until its end (SAML profiles §4.1.4.2).
  if (data.some((d) => !d.getAttribute("NotOnOrAfter")))
    throw new SsoFailure("INVALID", "The assertion's subject confirmation has no NotOnOrAfter.");
  for (const d of data) checkWindow(d, "SubjectConfirmationData", facts, exp);
  // Answering a request, the assertion must name it: an unsolicited assertion (IdP-initiated,
  // for some other flow) wrapped into this browser's login is refused.
  const irts = data.map((d) => d.getAttribute("InResponseTo") || null);
  if (irts.some((r) => r !== exp.inResponseTo))
    throw new SsoFailure("UNKNOWN_REQUEST", "The assertion answers a different sign-in request.", {
      expected: exp.inResponseTo,
      received: irts,
    });
  const id = a.getAttribute("ID");
  const nameIds = subject ? children(subject, NS.assertion, "NameID") : [];
  const nameId = nameIds.length === 1 ? textOf(nameIds[0]) : undefined;
  if (!id || !nameId) throw new SsoFailure("INVALID", "The assertion has no ID or not exactly one NameID.");
  const authn = child(a, NS.assertion, "AuthnStatement");
  // What is stored from a verified assertion fits its column on both databases (the replay
  // table's assertion id, a userName, the session's SessionIndex): refused rather than a
  // PostgreSQL error. Real values are far shorter (ids ~40, NameIDs are e-mails or GUIDs).
  const sessionIndex = authn?.getAttribute("SessionIndex") ?? "";
  if (id.length > 256 || nameId.length > 512 || sessionIndex.length > 256)
    throw new SsoFailure(
      "INVALID",
      "The assertion's ID, NameID or SessionIndex is longer than accepted (256, 512 and 256 characters).",
      { idLength: id.length, nameIdLength: nameId.length, sessionIndexLength: sessionIndex.length },
    );
  return {
    id,
    nameId,
    nameIdFormat: nameIds[0].getAttribute("Format") || null,
    sessionIndex: authn?.getAttribute("SessionIndex") || null,
    notOnOrAfter: conditions[0].getAttribute("NotOnOrAfter") || data[0].getAttribute("NotOnOrAfter") || null,
    attributes: readAttributes(a),
  };
}
