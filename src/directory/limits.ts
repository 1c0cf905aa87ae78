import { AppError } from "../http/errors.js";

/**
 * Lengths of the directory's indexed columns, in characters. PostgreSQL's varchar(n) refuses a
 * longer value (a 500 where SQLite, which enforces no length, stored it), so Roster checks every
 * value before it is written, on both databases alike (issue 14, item 16). Values that live only
 * in the JSON document are bounded by SCIM_STRING_LIMIT and the request body limit.
 */
export const USER_LIMITS = {
  userName: 512,
  externalId: 512,
  displayName: 512,
  "name.givenName": 256,
  "name.familyName": 256,
  "emails.value": 512,
  "emails.type": 64,
} as const;

/** Lengths of the group columns, in characters (see USER_LIMITS). */
export const GROUP_LIMITS = { displayName: 512, externalId: 512 } as const;

/** Any other SCIM string value (title, addresses, x509Certificates, …), in characters. */
export const SCIM_STRING_LIMIT = 16_384;

/**
 * Values of one multi-valued attribute of a user (emails, phoneNumbers, addresses, roles, …).
 * Each write compares every new value with the stored ones (RFC 7643 §2.4 duplicates), and each
 * e-mail is an indexed row: 15,000 e-mails cost minutes of CPU and then overflowed the
 * databases' bind limits (500). Group members are rows with their own path and no such limit.
 */
export const SCIM_MULTI_VALUE_LIMIT = 100;

/** Unicode code points, what varchar(n) counts (a JS length counts an emoji twice). */
export function characters(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** How long a value is as a column holds it: lower-casing can lengthen it (İ → i̇). */
function stored(value: string, normalised: boolean): number {
  const own = characters(value);
  return normalised ? Math.max(own, characters(value.toLowerCase())) : own;
}

/** 400 naming the attribute and the limit (VALIDATION_FAILED; invalidValue under /scim). */
export function valueTooLong(field: string, length: number, limit: number): AppError {
  const message = `is ${length} characters long; at most ${limit} are accepted`;
  return new AppError(
    400,
    "VALIDATION_FAILED",
    `Invalid value: ${field} ${message}`,
    [{ field, message }],
    "invalidValue",
  );
}

type Check = [
  field: string,
  value: string | null | undefined,
  limit: number,
  normalised: boolean,
  was?: string | null,
];

function assertChecks(checks: Check[]): void {
  for (const [field, value, limit, normalised, was] of checks) {
    // A value already stored is never re-checked: a user created on SQLite before these limits
    // can still be deactivated or deleted (the change does not touch the long value).
    if (value == null || value === was) continue;
    // Fast path: lower-casing at most doubles a length (only U+0130 grows), and a length in
    // UTF-16 units is never below the count of characters.
    if (value.length <= limit / 2) continue;
    const length = stored(value, normalised);
    if (length > limit) throw valueTooLong(field, length, limit);
  }
}

/** The column values of a user row, as users-store writes them. */
export interface UserColumnValues {
  userName: string;
  externalId: string | null;
  displayName: string | null;
  givenName: string | null;
  familyName: string | null;
}

/** Refuse a user row (and its e-mail rows) that a column cannot hold; `previous` when updating. */
export function assertUserFits(
  u: UserColumnValues,
  emails: ReadonlyArray<{ valueNorm: string; type: string | null }> | null,
  previous?: UserColumnValues,
): void {
  const L = USER_LIMITS;
  assertChecks([
    ["userName", u.userName, L.userName, true, previous?.userName],
    ["externalId", u.externalId, L.externalId, false, previous?.externalId],
    ["displayName", u.displayName, L.displayName, true, previous?.displayName],
    ["name.givenName", u.givenName, L["name.givenName"], false, previous?.givenName],
    ["name.familyName", u.familyName, L["name.familyName"], false, previous?.familyName],
  ]);
  for (const e of emails ?? []) {
    assertChecks([
      ["emails.value", e.valueNorm, L["emails.value"], false],
      ["emails.type", e.type, L["emails.type"], false],
    ]);
  }
}

/** Refuse a group row a column cannot hold; `previous` when updating. */
export function assertGroupFits(
  g: { displayName: string; externalId: string | null },
  previous?: { displayName: string; externalId: string | null },
): void {
  assertChecks([
    ["displayName", g.displayName, GROUP_LIMITS.displayName, true, previous?.displayName],
    ["externalId", g.externalId, GROUP_LIMITS.externalId, false, previous?.externalId],
  ]);
}
