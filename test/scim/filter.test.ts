import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Knex } from "knex";
import { ScimError } from "../../src/http/errors.js";
import { type FilterNode, parseFilter } from "../../src/scim/filter/parse.js";
import { applyFilter, sortColumn } from "../../src/scim/filter/sql.js";
import { GROUP_KIND, type ResourceKind, USER_KIND } from "../../src/scim/schema-info.js";
import { allBackends, createTestContext, type TestContext } from "../helpers/context.js";

const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

function assertInvalid(fn: () => unknown, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ScimError, `expected ScimError, got ${e}`);
    assert.equal(e.scimType, "invalidFilter");
    assert.equal(e.status, 400);
    if (message) assert.match(e.message, message);
    return true;
  });
}

const cmp = (path: string, op: string, value: unknown): FilterNode =>
  ({ kind: "compare", path, op, value }) as any;

describe("SCIM filter parser (RFC 7644 §3.4.2.2)", () => {
  it("gives 'and' precedence over 'or' and honours parentheses", () => {
    const a = cmp("a", "eq", 1);
    const b = cmp("b", "eq", 2);
    const c = cmp("c", "eq", 3);
    assert.deepEqual(parseFilter("a eq 1 or b eq 2 and c eq 3"), {
      kind: "or",
      left: a,
      right: { kind: "and", left: b, right: c },
    });
    assert.deepEqual(parseFilter("(a eq 1 or b eq 2) and c eq 3"), {
      kind: "and",
      left: { kind: "or", left: a, right: b },
      right: c,
    });
    assert.deepEqual(parseFilter("a eq 1 and b eq 2 and c eq 3"), {
      kind: "and",
      left: { kind: "and", left: a, right: b },
      right: c,
    });
  });

  it("keeps not (a or b) as one negated group", () => {
    assert.deepEqual(parseFilter('not (userName eq "a" or userName eq "b")'), {
      kind: "not",
      expr: { kind: "or", left: cmp("userName", "eq", "a"), right: cmp("userName", "eq", "b") },
    });
    assert.deepEqual(parseFilter("not(x pr)"), { kind: "not", expr: { kind: "present", path: "x" } });
  });

  it("reads JSON strings with escapes, numbers and case-insensitive keywords", () => {
    assert.deepEqual(parseFilter('title eq "a\\"b\\\\c\\u00e9\\n"'), cmp("title", "eq", 'a"b\\cé\n'));
    assert.deepEqual(parseFilter("x Gt 1.5e3"), cmp("x", "gt", 1500));
    assert.deepEqual(parseFilter("x le -2"), cmp("x", "le", -2));
    assert.deepEqual(
      parseFilter('userName EQ "x" AND title Pr OR active eq TRUE'),
      parseFilter('userName eq "x" and title pr or active eq true'),
    );
    assert.deepEqual(parseFilter("NOT (x eq NULL)"), { kind: "not", expr: cmp("x", "eq", null) });
    assert.deepEqual(parseFilter("x ne False"), cmp("x", "ne", false));
  });

  it("keeps attribute paths as written: URNs and sub-attributes", () => {
    assert.deepEqual(parseFilter(`${ENT}:manager.value eq "m"`), cmp(`${ENT}:manager.value`, "eq", "m"));
    assert.deepEqual(parseFilter('name.givenName sw "J"'), cmp("name.givenName", "sw", "J"));
    assert.deepEqual(parseFilter("members.$ref pr"), { kind: "present", path: "members.$ref" });
  });

  it("parses value paths, with boolean logic inside and a trailing sub-attribute", () => {
    assert.deepEqual(parseFilter('emails[type eq "work" and not (value co "@x")]'), {
      kind: "valuePath",
      path: "emails",
      filter: {
        kind: "and",
        left: cmp("type", "eq", "work"),
        right: { kind: "not", expr: cmp("value", "co", "@x") },
      },
    });
    assert.deepEqual(parseFilter('emails[type eq "work"].value ew "@x.com" or x pr'), {
      kind: "or",
      left: {
        kind: "valuePath",
        path: "emails",
        filter: { kind: "and", left: cmp("type", "eq", "work"), right: cmp("value", "ew", "@x.com") },
      },
      right: { kind: "present", path: "x" },
    });
  });

  it("refuses every malformed filter with invalidFilter and a position", () => {
    const cases: [string, RegExp][] = [
      ["userName eq", /Expected a value .*position 12/],
      ["userName", /Expected an operator after 'userName' at position 9/],
      ['id eq "x" or', /Expected an attribute path at position 13 but found end of filter/],
      ['id eq "x" and', /Expected an attribute path/],
      ['and id eq "x"', /Expected an attribute path at position 1 but found 'and'/],
      ['(userName eq "a"', /Expected '\)' to close the '\(' at position 1/],
      ['userName eq "a")', /Unexpected '\)' at position 16/],
      ['emails[type eq "work"', /Expected '\]' to close the '\[' at position 7/],
      ['emails type eq "work"]', /Unknown operator 'type'/],
      ['userName xx "a"', /Unknown operator 'xx' at position 10/],
      ['userName eq "abc', /Unterminated string starting at position 13/],
      ['userName eq "a\\qb"', /Invalid string .* at position 13/],
      ["userName eq bjensen", /strings must be in double quotes/],
      ['not userName eq "a"', /Expected '\(' after 'not'/],
      ['emails[type[value eq "x"]]', /cannot be nested/],
      ['emails[name.givenName eq "x"]', /sub-attribute name/],
      ['emails.value[type eq "x"]', /without sub-attribute/],
      ['emails[type eq "w"] .value eq "x"', /Unexpected '.value'/],
      ['userName eq "a" userName eq "b"', /Unexpected 'userName' at position 17/],
      ['1abc eq "x"', /Invalid attribute path '1abc'/],
      ["x eq 01", /Expected a value/],
      ["x eq", /Expected a value/],
      ["()", /Expected an attribute path at position 2/],
      ["", /empty/],
      ["   ", /empty/],
    ];
    for (const [input, message] of cases) assertInvalid(() => parseFilter(input), message);
  });

  it("refuses hostile input: too long, too deep, too many comparisons", () => {
    assertInvalid(() => parseFilter(`title eq "${"a".repeat(4090)}"`), /longer than 4096/);
    parseFilter(`${"(".repeat(32)}x pr${")".repeat(32)}`);
    assertInvalid(() => parseFilter(`${"(".repeat(33)}x pr${")".repeat(33)}`), /deeper than 32/);
    assertInvalid(() => parseFilter(`${"not (".repeat(40)}x pr${")".repeat(40)}`), /deeper than 32/);
    parseFilter(Array.from({ length: 100 }, (_, i) => `a${i} pr`).join(" or "));
    assertInvalid(
      () => parseFilter(Array.from({ length: 101 }, (_, i) => `a${i} pr`).join(" or ")),
      /more than 100 comparisons/,
    );
  });
});

describe("SCIM sortBy columns", () => {
  it("maps supported attributes case-insensitively and refuses others with invalidValue", () => {
    assert.equal(sortColumn(USER_KIND, "userName"), "users.user_name_norm");
    assert.equal(
      sortColumn(USER_KIND, "urn:ietf:params:scim:schemas:core:2.0:User:USERNAME"),
      "users.user_name_norm",
    );
    assert.equal(sortColumn(USER_KIND, "name.familyName"), "users.family_name");
    assert.equal(sortColumn(USER_KIND, "meta.lastModified"), "users.updated_at");
    assert.equal(sortColumn(USER_KIND, "Meta.Created"), "users.created_at");
    assert.equal(sortColumn(USER_KIND, "externalId"), "users.external_id");
    assert.equal(sortColumn(USER_KIND, "id"), "users.id");
    assert.equal(sortColumn(GROUP_KIND, "displayName"), "groups.display_name_norm");
    for (const bad of ["emails.value", "password", "title", "nope", "members"]) {
      const kind: ResourceKind = bad === "members" ? GROUP_KIND : USER_KIND;
      assert.throws(
        () => sortColumn(kind, bad),
        (e: any) => e instanceof ScimError && e.scimType === "invalidValue",
      );
    }
  });
});

const T1 = "11111111-1111-4111-8111-111111111111";
const T2 = "22222222-2222-4222-8222-222222222222";
const day = (d: string) => `2026-${d}T00:00:00.000Z`;

type Email = [value: string, type: string | null, primary?: boolean];
// id, userName, externalId, active, displayName, given, family, created, updated, resource extras, emails
// biome-ignore format: one line
type Person = [string, string, string | null, boolean, string | null, string, string | null, string, string, object, Email[]];
// biome-ignore format: one row per person reads as a table
const PEOPLE: Person[] = [
  ["alice", "Alice@Example.com", "ext-Alice", true, "Alice Smith", "Alice", "Smith", day("01-01"), day("06-01"),
    { title: "Engineer", [ENT]: { employeeNumber: "E100", department: "R&D", manager: { value: "u-bob" } } },
    [["alice@example.com", "work", true], ["alice@home.org", "home"]]],
  ["bob", "bob@example.com", "ext-bob", false, "Bob Jones", "Bob", "Jones", day("02-01"), day("02-15"),
    { title: "Manager", [ENT]: { employeeNumber: "E200", department: "Sales" } },
    [["bob@example.com", "work", true], ["bob@x.com", "home"]]],
  ["carol", "carol@Example.org", "EXT-carol", true, "50% Carol", "Carol", "Smith", day("03-01"), day("07-01"), {},
    [["carol@x.com", "work"]]],
  ["dave", "dave_d@example.com", null, true, null, "Dave", null, day("04-01"), day("04-01"), { title: "engineer" }, []],
  ["erin", "erin@example.com", "ext-erin", true, "500 Club", "Erin", "Stone", day("05-01"), day("05-02"),
    { title: "Director", [ENT]: { employeeNumber: "E300" } }, [["erin@work.com", null]]],
  ["frank", "davexd@example.com", null, false, "Frank", "Frank", null, day("06-01"), day("06-01"),
    { [ENT]: { employeeNumber: "e100" } }, [["frank@x.com", "other"]]],
  ["grace", "grace@example.com", "ext-GRACE", true, "Grace Hopper", "Grace", "Hopper", day("07-01"), day("08-01"),
    { title: "Admiral", [ENT]: { department: "Navy" } }, [["grace@work.com", "Work", true]]],
  ["heidi", "heidi@example.com", "ext-heidi", true, "Heidi", "Heidi", "Klum", day("08-01"), "2026-11-28T03:32:49.941Z",
    { title: "" }, [["heidi@x.com", "work"]]],
  ["ivan", "ivan@example.com", "ext-ivan", true, "Émile", "Ivan", null, day("09-01"), day("09-01"), {}, []],
  ["judy", "judy@example.com", "ext-judy", true, "Judy", "judy", "Smith", day("10-01"), day("10-02"), { title: 'a"b' }, []],
];
// id, displayName, externalId, created, updated, members as [id, type]
// biome-ignore format: one row per group reads as a table
const TEAMS: [string, string, string | null, string, string, [string, string][]][] = [
  ["eng", "Engineering", "eng-1", day("01-01"), day("05-01"), [["u-alice", "User"], ["u-dave", "User"], ["g-sales", "Group"]]],
  ["sales", "Sales", "Sales-1", day("02-01"), day("09-01"), [["u-bob", "User"], ["u-erin", "User"]]],
  ["empty", "Empty Group", null, day("03-01"), day("03-01"), []],
];

// Rows written straight into migration 0002's tables; tenant 2 holds the same people and groups
// under other ids (v-…, h-…), so a lost tenant condition shows up as extra rows.
async function seedDirectory(db: Knex): Promise<void> {
  for (const [id, slug] of [
    [T1, "acme"],
    [T2, "beta"],
  ])
    await db("tenants").insert({
      id,
      slug,
      name: slug,
      settings: "{}",
      created_at: day("01-01"),
      updated_at: day("01-01"),
    });
  for (const [tenant, u, g] of [
    [T1, "u-", "g-"],
    [T2, "v-", "h-"],
  ]) {
    for (const [
      id,
      userName,
      ext,
      active,
      display,
      given,
      family,
      created,
      updated,
      extra,
      emails,
    ] of PEOPLE) {
      const resource = JSON.stringify({ userName, name: { givenName: given, familyName: family }, ...extra });
      // biome-ignore format: keep the row on few lines
      await db("users").insert({ id: u + id, tenant_id: tenant, user_name: userName, user_name_norm: userName.toLowerCase(),
        external_id: ext, active, display_name: display, display_name_norm: display?.toLowerCase() ?? null,
        given_name: given, family_name: family, resource, created_at: created, updated_at: updated });
      for (const [value, type, primary] of emails)
        await db("user_emails").insert({
          tenant_id: tenant,
          user_id: u + id,
          value_norm: value,
          type,
          primary: !!primary,
        });
    }
    for (const [id, display, ext, created, updated, members] of TEAMS) {
      // biome-ignore format: keep the row on few lines
      await db("groups").insert({ id: g + id, tenant_id: tenant, display_name: display, display_name_norm: display.toLowerCase(),
        external_id: ext, resource: "{}", created_at: created, updated_at: updated });
      for (const [member, member_type] of members) {
        const member_id = member.replace(/^u-/, u).replace(/^g-/, g);
        await db("group_members").insert({ tenant_id: tenant, group_id: g + id, member_id, member_type });
      }
    }
  }
}

const ALL = "alice bob carol dave erin frank grace heidi ivan judy";
const but = (...out: string[]) =>
  ALL.split(" ")
    .filter((x) => !out.includes(x))
    .join(" ");
const USER_FILTERS: [string, string][] = [
  ['userName eq "alice@example.com"', "alice"],
  ['USERNAME eq "ALICE@EXAMPLE.COM"', "alice"],
  ['urn:ietf:params:scim:schemas:core:2.0:User:userName Eq "Bob@Example.com"', "bob"],
  ['userName ne "alice@example.com"', but("alice")],
  ['userName co "example.com"', but("carol")],
  ['userName sw "dave_"', "dave"],
  ['userName ew ".ORG"', "carol"],
  ['userName gt "h"', "heidi ivan judy"],
  ['userName le "bob@example.com"', "alice bob"],
  ['id eq "u-carol"', "carol"],
  ['id eq "U-CAROL"', ""],
  ['externalId eq "ext-Alice"', "alice"],
  ['externalId eq "ext-alice"', ""],
  ['externalId sw "EXT"', "carol"],
  ['externalId co "GRACE"', "grace"],
  ["externalId pr", but("dave", "frank")],
  ["not (externalId pr)", "dave frank"],
  ["externalId eq null", "dave frank"],
  ["active eq true", but("bob", "frank")],
  ['active eq "False"', "bob frank"],
  ["active ne false", but("bob", "frank")],
  ['displayName co "50%"', "carol"],
  ['displayName eq "ÉMILE"', "ivan"],
  ["displayName pr", but("dave")],
  ["displayName eq null", "dave"],
  ['title eq "engineer"', "alice dave"],
  ['title sw "ENG"', "alice dave"],
  ['not (title eq "Engineer")', but("alice", "dave")],
  ["title pr", "alice bob dave erin grace judy"],
  ['title eq "a\\"b"', "judy"],
  ['title ne "Manager"', but("bob")],
  ['name.familyName eq "smith"', "alice carol judy"],
  ['NAME.GIVENNAME sw "J"', "judy"],
  ['name[givenName eq "alice" or familyName eq "Hopper"]', "alice grace"],
  ['emails.value eq "BOB@example.com"', "bob"],
  ['emails eq "carol@x.com"', "carol"],
  ['emails co "@x.com"', "bob carol frank heidi"],
  ['emails[type eq "work" and value co "@x.com"]', "carol heidi"],
  ['emails.type eq "work" and emails.value co "@x.com"', "bob carol heidi"],
  ['emails[type eq "work"].value ew "@work.com"', "grace"],
  ['emails[not (type eq "work")]', "alice bob erin frank"],
  ["emails[primary eq true]", "alice bob grace"],
  ['emails[type eq "home" or primary eq "True"] and active eq false', "bob"],
  ["emails pr", but("dave", "ivan", "judy")],
  ["not (emails pr)", "dave ivan judy"],
  ['emails ne "bob@example.com"', but("bob")],
  [`${ENT}:employeeNumber eq "E100"`, "alice frank"],
  [`${ENT.toUpperCase()}:DEPARTMENT co "&"`, "alice"],
  [`${ENT}:manager.value eq "u-bob"`, "alice"],
  [`${ENT}:manager[value pr]`, "alice"],
  ['meta.lastModified gt "2026-11-01T00:00:00Z"', "heidi"],
  ['meta.lastModified ge "2026-11-28T03:32:49.941Z"', "heidi"],
  ['meta.lastModified gt "2026-11-28T03:32:49.941Z"', ""],
  ['meta.created lt "2026-03-01"', "alice bob"],
  ['meta.created le "2026-03-01T01:00:00+01:00"', "alice bob carol"],
  ['groups eq "g-eng"', "alice dave"],
  ['groups[value eq "g-sales"]', "bob erin"],
  ["not (groups pr)", "carol frank grace heidi ivan judy"],
  ['userName eq "alice@example.com" or userName eq "bob@example.com" and active eq false', "alice bob"],
  ['(userName eq "alice@example.com" or userName eq "bob@example.com") and active eq false', "bob"],
  ['not (userName eq "alice@example.com" or userName eq "bob@example.com")', but("alice", "bob")],
  ['userName eq "Alice@Example.com" and not (active eq false)', "alice"],
];
const GROUP_FILTERS: [string, string][] = [
  ['displayName eq "ENGINEERING"', "eng"],
  ['displayName sw "e"', "empty eng"],
  ['members[value eq "u-alice"]', "eng"],
  ['members eq "u-bob"', "sales"],
  ['members.value eq "U-ALICE"', ""],
  ['id eq "g-eng" and members[value eq "u-alice"]', "eng"],
  ['id eq "g-eng" and members[value eq "u-bob"]', ""],
  ['members[type eq "group"]', "eng"],
  ["not (members pr)", "empty"],
  ['externalId eq "sales-1"', ""],
  ['externalId eq "Sales-1"', "sales"],
  ['meta.lastModified gt "2026-04-01T00:00:00Z"', "eng sales"],
];
const REFUSED: [ResourceKind, string, RegExp][] = [
  [USER_KIND, 'password eq "x"', /'password' is not filterable/],
  [USER_KIND, 'phoneNumbers.value eq "1"', /not filterable/],
  [USER_KIND, 'addresses[type eq "work"]', /not filterable/],
  [USER_KIND, "x509Certificates pr", /not filterable/],
  [USER_KIND, 'emails[display eq "x"]', /not filterable/],
  [USER_KIND, 'nosuch eq "x"', /Unknown attribute 'nosuch'/],
  [USER_KIND, 'meta.version eq "x"', /not filterable/],
  [USER_KIND, 'name eq "x"', /complex/],
  [USER_KIND, "active gt true", /boolean/],
  [USER_KIND, 'active eq "maybe"', /boolean/],
  [USER_KIND, 'emails.primary co "t"', /strings only/],
  [USER_KIND, "meta.created gt 5", /dateTime/],
  [USER_KIND, 'meta.created eq "yesterday"', /dateTime/],
  [USER_KIND, 'meta.created co "2026"', /strings only/],
  [USER_KIND, "userName eq 5", /quoted value/],
  [USER_KIND, "userName gt null", /null/],
  [GROUP_KIND, 'members.display eq "x"', /not filterable/],
  [GROUP_KIND, 'title eq "x"', /Unknown attribute/],
];

// Indexed attributes (DESIGN.md) and the index SQLite must pick when applyFilter gets the tenant.
const INDEXED: [ResourceKind, string, string][] = [
  [USER_KIND, 'userName eq "alice@example.com"', "users_tenant_user_name"],
  [USER_KIND, 'externalId eq "ext-Alice"', "users_tenant_external_id"],
  [USER_KIND, 'emails.value eq "bob@example.com"', "user_emails_tenant_value"],
  [USER_KIND, 'emails[type eq "work" and value eq "bob@example.com"]', "user_emails_tenant_value"],
  [USER_KIND, 'displayName eq "alice smith"', "users_tenant_display_name"],
  [USER_KIND, "active eq false", "users_tenant_active"],
  [USER_KIND, 'meta.created lt "2026-02-01T00:00:00Z"', "users_tenant_created"],
  [USER_KIND, 'meta.lastModified gt "2026-11-01T00:00:00Z"', "users_tenant_updated"],
  [USER_KIND, 'id eq "u-alice"', "users_tenant_id"],
  [GROUP_KIND, 'members[value eq "u-alice"]', "group_members_tenant_member"],
  [GROUP_KIND, 'members.value eq "u-alice"', "group_members_tenant_member"],
  [GROUP_KIND, 'id eq "g-eng" and members[value eq "u-alice"]', "groups_tenant_id"],
  [GROUP_KIND, 'displayName eq "engineering"', "groups_tenant_display_name"],
  [GROUP_KIND, 'externalId eq "eng-1"', "groups_tenant_external_id"],
];
const SCAN = /\b(SCAN|Seq Scan on) "?(users|groups|user_emails|group_members|e|gm)\b/;

for (const backend of allBackends()) {
  describe(`SCIM filter → SQL [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let db: Knex;
    before(async () => {
      ctx = await createTestContext(backend);
      db = ctx.deps.db;
      await seedDirectory(db);
    });
    after(async () => ctx.close());

    // As a list handler does it: its own tenant condition, then the filter.
    const query = (kind: ResourceKind, filter: string, scoped: boolean) => {
      const table = kind === USER_KIND ? "users" : "groups";
      return db(table)
        .select(`${table}.id`)
        .where(`${table}.tenant_id`, T1)
        .andWhere((qb) => applyFilter(qb, db, kind, parseFilter(filter), scoped ? T1 : undefined));
    };
    const ids = async (kind: ResourceKind, filter: string, scoped: boolean) =>
      (await query(kind, filter, scoped))
        .map((r: { id: string }) => r.id.slice(2))
        .sort()
        .join(" ");
    const plan = async (kind: ResourceKind, filter: string, scoped: boolean) => {
      const { sql, bindings } = query(kind, filter, scoped).toSQL();
      if (backend.name === "sqlite") {
        const rows: { detail: string }[] = await db.raw(`explain query plan ${sql}`, bindings);
        return rows.map((r) => r.detail).join("\n");
      }
      // Tiny tables make a sequential scan cheapest; forbidding it shows whether an index can serve.
      return db.transaction(async (trx) => {
        await trx.raw("set local enable_seqscan = off");
        const r = await trx.raw(`explain ${sql}`, bindings);
        return r.rows.map((row: Record<string, string>) => row["QUERY PLAN"]).join("\n");
      });
    };

    for (const scoped of [false, true]) {
      const how = scoped ? "tenant passed to applyFilter" : "correlated EXISTS";
      it(`selects exactly the expected users (${USER_FILTERS.length} filters, ${how})`, async () => {
        for (const [filter, expected] of USER_FILTERS)
          assert.equal(await ids(USER_KIND, filter, scoped), expected, filter);
      });

      it(`selects exactly the expected groups (${GROUP_FILTERS.length} filters, ${how})`, async () => {
        for (const [filter, expected] of GROUP_FILTERS)
          assert.equal(await ids(GROUP_KIND, filter, scoped), expected, filter);
      });

      // SQLite plans are deterministic without statistics, so name the index. PostgreSQL picks any
      // index on 10-row tables; with sequential scans disabled it only shows no table is scanned.
      it(`never scans a table for an indexed attribute (${how}, no ANALYZE)`, async () => {
        for (const [kind, filter, index] of INDEXED) {
          const details = await plan(kind, filter, scoped);
          assert.doesNotMatch(details, SCAN, `${filter}\n${details}`);
          if (backend.name === "postgres") continue;
          // The correlated EXISTS probes the child by user_id/group_id, not by value.
          if (!scoped && /^(user_emails|group_members)_/.test(index)) continue;
          assert.match(details, new RegExp(`INDEX ${index}\\b`), `${filter}\n${details}`);
        }
      });
    }

    it("refuses unsupported attributes, operators and value types with invalidFilter", () => {
      for (const [kind, filter, message] of REFUSED)
        assertInvalid(() => applyFilter(db("users"), db, kind, parseFilter(filter)), message);
    });
  });
}
