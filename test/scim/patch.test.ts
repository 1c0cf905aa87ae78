import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ScimError, type ScimType } from "../../src/http/errors.js";
import { parseFilter } from "../../src/scim/filter/parse.js";
import {
  applyPatch,
  matchesFilter,
  type PatchOperation,
  parsePatchBody,
  splitMemberOps,
} from "../../src/scim/patch.js";
import { type AttributeDef, GROUP_KIND, USER_KIND } from "../../src/scim/schema-info.js";

const ENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const PATCH_OP = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

const adele = () => ({
  userName: "adele.vance@example.com",
  active: true,
  displayName: "Adele Vance",
  name: { givenName: "Adele", familyName: "Vance" },
  emails: [{ value: "adele.vance@example.com", type: "work", primary: true }],
  [ENT]: { department: "Retail", employeeNumber: "1001" },
});
const patchUser = (ops: PatchOperation[]) => applyPatch(USER_KIND, adele(), ops);

function rejects(fn: () => unknown, scimType: ScimType, message?: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ScimError, String(e));
    assert.equal(e.scimType, scimType, e.message);
    assert.equal(e.status, 400);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe("scim patch: PatchOp body [sqlite]", () => {
  const body = (Operations: unknown) => ({ schemas: [PATCH_OP], Operations });

  it("normalises Entra's capitalised ops and keeps path and value", () => {
    const ops = parsePatchBody(
      body([
        { op: "Replace", path: "active", value: "False" },
        { op: "REMOVE", path: "x" },
      ]),
    );
    assert.deepEqual(ops, [
      { op: "replace", path: "active", value: "False" },
      { op: "remove", path: "x" },
    ]);
  });

  it("accepts the SCIM Validator's empty Operations as a no-op", () => {
    assert.deepEqual(parsePatchBody(body([])), []);
    assert.deepEqual(applyPatch(USER_KIND, adele(), []), adele());
  });

  it("rejects wrong message shapes with invalidSyntax", () => {
    rejects(() => parsePatchBody("nope"), "invalidSyntax");
    rejects(() => parsePatchBody({ Operations: [] }), "invalidSyntax", /schemas/);
    rejects(() => parsePatchBody({ schemas: ["urn:other"], Operations: [] }), "invalidSyntax");
    rejects(() => parsePatchBody({ schemas: [PATCH_OP] }), "invalidSyntax", /Operations/);
    rejects(() => parsePatchBody(body({ op: "add" })), "invalidSyntax");
    rejects(() => parsePatchBody(body(["add"])), "invalidSyntax");
    rejects(() => parsePatchBody(body([{ op: "copy", path: "a", value: 1 }])), "invalidSyntax", /op/);
    rejects(() => parsePatchBody(body([{ path: "a", value: 1 }])), "invalidSyntax");
  });

  it("rejects a non-string path (invalidPath) and add/replace without value (invalidValue, scimmy#80)", () => {
    rejects(() => parsePatchBody(body([{ op: "add", path: 3, value: 1 }])), "invalidPath");
    rejects(() => parsePatchBody(body([{ op: "Replace", path: "displayName" }])), "invalidValue");
    rejects(() => patchUser([{ op: "add", path: "displayName" }]), "invalidValue");
  });
});

describe("scim patch: operations with a path [sqlite]", () => {
  it("replaces a simple attribute, storing the canonical attribute name", () => {
    const out = patchUser([{ op: "replace", path: "USERNAME", value: "adele@example.com" }]);
    assert.equal(out.userName, "adele@example.com");
    assert.equal(Object.keys(out).filter((k) => k.toLowerCase() === "username").length, 1);
  });

  it("sets a sub-attribute and leaves the others (name.givenName)", () => {
    const out = patchUser([{ op: "Replace", path: "name.givenName", value: "Ada" }]);
    assert.deepEqual(out.name, { givenName: "Ada", familyName: "Vance" });
  });

  it("writes URN-qualified extension attributes under the extension key", () => {
    const out = patchUser([
      { op: "Replace", path: `${ENT}:employeeNumber`, value: "1001-B" },
      { op: "add", path: `${ENT.toLowerCase()}:costCenter`, value: "CC1" },
    ]);
    assert.deepEqual(out[ENT], { department: "Retail", employeeNumber: "1001-B", costCenter: "CC1" });
  });

  it("stores Entra's bare-string manager as {value}, and takes {value} objects and manager.value", () => {
    const added = patchUser([{ op: "Add", path: `${ENT}:manager`, value: "m-1" }]);
    assert.deepEqual((added[ENT] as any).manager, { value: "m-1" });
    const replaced = applyPatch(USER_KIND, added, [
      { op: "Replace", path: `${ENT}:manager`, value: { value: "m-2" } },
    ]);
    assert.deepEqual((replaced[ENT] as any).manager, { value: "m-2" });
    const viaSub = patchUser([{ op: "replace", path: `${ENT}:manager.value`, value: "m-3" }]);
    assert.deepEqual((viaSub[ENT] as any).manager, { value: "m-3" });
    const removed = applyPatch(USER_KIND, added, [{ op: "Remove", path: `${ENT}:manager` }]);
    assert.deepEqual(removed[ENT], adele()[ENT]);
  });

  it('replaces the sub-attribute of the values a filter selects (emails[type eq "work"].value)', () => {
    const out = patchUser([
      { op: "Replace", path: 'emails[type eq "work"].value', value: "adele.v@example.com" },
    ]);
    assert.deepEqual(out.emails, [{ value: "adele.v@example.com", type: "work", primary: true }]);
  });

  it("matches filter strings case-insensitively where the sub-attribute is not caseExact (emails.type)", () => {
    const out = patchUser([{ op: "replace", path: 'emails[TYPE eq "WORK"].display', value: "Work" }]);
    assert.equal((out.emails as any)[0].display, "Work");
  });

  it("creates the value when a replace/add filter matches nothing (Entra relies on it)", () => {
    const out = applyPatch(USER_KIND, { userName: "u" }, [
      { op: "Replace", path: 'emails[type eq "work"].value', value: "u@example.com" },
      { op: "Add", path: 'addresses[type eq "work"].streetAddress', value: "1 Main St" },
      { op: "Add", path: 'phoneNumbers[type eq "mobile"]', value: { value: "+1 555" } },
    ]);
    assert.deepEqual(out.emails, [{ type: "work", value: "u@example.com" }]);
    assert.deepEqual(out.addresses, [{ type: "work", streetAddress: "1 Main St" }]);
    assert.deepEqual(out.phoneNumbers, [{ type: "mobile", value: "+1 555" }]);
  });

  it("answers noTarget when nothing matches and the filter cannot say what to create", () => {
    rejects(
      () => patchUser([{ op: "replace", path: 'emails[value co "nobody"].type', value: "home" }]),
      "noTarget",
    );
  });

  it("replaces the whole values a filter selects, keeping the filter's equalities", () => {
    const out = patchUser([
      { op: "replace", path: 'emails[type eq "work"]', value: { value: "n@example.com" } },
    ]);
    assert.deepEqual(out.emails, [{ type: "work", value: "n@example.com" }]);
  });

  it("removes the values a filter selects; a filter matching nothing is no error", () => {
    const two = applyPatch(USER_KIND, adele(), [
      { op: "add", path: "emails", value: { value: "h@x.io", type: "home" } },
    ]);
    const out = applyPatch(USER_KIND, two, [{ op: "remove", path: 'emails[type eq "home"]' }]);
    assert.deepEqual(out.emails, adele().emails);
    assert.deepEqual(patchUser([{ op: "remove", path: 'emails[type eq "other"]' }]), adele());
  });

  it('drops a value whose "value" is removed, and unassigns an emptied attribute (Entra clears work email)', () => {
    const out = patchUser([{ op: "Remove", path: 'emails[type eq "work"].value' }]);
    assert.equal("emails" in out, false);
  });

  it("removes a sub-attribute of a complex attribute and a whole extension", () => {
    assert.deepEqual(patchUser([{ op: "remove", path: "name.familyName" }]).name, { givenName: "Adele" });
    assert.equal(ENT in patchUser([{ op: "remove", path: ENT }]), false);
  });

  it('accepts string booleans as a path value (Entra: Replace active "False"/"True")', () => {
    assert.equal(patchUser([{ op: "Replace", path: "active", value: "False" }]).active, false);
    assert.equal(patchUser([{ op: "Replace", path: "active", value: "true" }]).active, true);
  });

  it("Google Workspace: lower-case replaces of title, name.familyName, department, active", () => {
    const out = patchUser([
      { op: "replace", path: "title", value: "Senior Data Analyst" },
      { op: "replace", path: "name.familyName", value: "Adams-Reed" },
      { op: "replace", path: `${ENT}:department`, value: "FP&A" },
      { op: "replace", path: "active", value: false },
    ]);
    assert.deepEqual(
      [out.title, (out.name as any).familyName, (out[ENT] as any).department, out.active],
      ["Senior Data Analyst", "Adams-Reed", "FP&A", false],
    );
  });

  it("checks and discards a password (writeOnly): it never enters the document", () => {
    const out = patchUser([
      { op: "replace", path: "password", value: "s3cret!" },
      { op: "add", path: "urn:ietf:params:scim:schemas:core:2.0:User:PASSWORD", value: "s3cret!" },
      { op: "replace", value: { Password: "s3cret!", title: "Dr" } },
    ]);
    assert.ok(!JSON.stringify(out).includes("s3cret!"), JSON.stringify(out));
    assert.equal(out.title, "Dr");
    rejects(() => patchUser([{ op: "replace", path: "password", value: 7 }]), "invalidValue");
  });

  it("appends to multi-valued attributes without duplicating an existing value", () => {
    const out = patchUser([
      { op: "add", path: "emails", value: [{ value: "ADELE.VANCE@example.com", type: "work" }] },
      { op: "add", path: "emails", value: { value: "a@home.io", type: "home" } },
    ]);
    assert.deepEqual(out.emails, [
      { value: "ADELE.VANCE@example.com", type: "work", primary: true },
      { value: "a@home.io", type: "home" },
    ]);
  });
});

describe("scim patch: operations without a path [sqlite]", () => {
  it("Entra aadOptscim062020: dotted keys and fully-qualified extension attributes", () => {
    const out = patchUser([
      {
        op: "replace",
        value: { displayName: "Adele V", "name.givenName": "Ada", [`${ENT}:department`]: "Retail Ops" },
      },
    ]);
    assert.equal(out.displayName, "Adele V");
    assert.deepEqual(out.name, { givenName: "Ada", familyName: "Vance" });
    assert.deepEqual(out[ENT], { department: "Retail Ops", employeeNumber: "1001" });
  });

  it("Entra default: string booleans inside the value object", () => {
    assert.equal(patchUser([{ op: "Replace", value: { active: "False" } }]).active, false);
  });

  it("Okta: replace {active:false} and the nested extension object form", () => {
    const out = patchUser([{ op: "replace", value: { active: false, [ENT]: { division: "EMEA" } } }]);
    assert.equal(out.active, false);
    assert.deepEqual(out[ENT], { department: "Retail", employeeNumber: "1001", division: "EMEA" });
  });

  it("add merges: multi-valued appended, complex merged by sub-attribute, simple replaced", () => {
    const out = patchUser([
      {
        op: "add",
        value: {
          emails: [{ value: "a@home.io", type: "home", primary: "True" }],
          name: { middleName: "J" },
          title: "Manager",
        },
      },
    ]);
    assert.deepEqual(out.emails, [
      { value: "adele.vance@example.com", type: "work", primary: false },
      { value: "a@home.io", type: "home", primary: true },
    ]);
    assert.deepEqual(out.name, { givenName: "Adele", familyName: "Vance", middleName: "J" });
    assert.equal(out.title, "Manager");
  });

  it("replace: multi-valued replaced whole, complex replaces only the given sub-attributes", () => {
    const out = patchUser([
      { op: "replace", value: { emails: [{ value: "n@x.io" }], name: { givenName: "A" } } },
    ]);
    assert.deepEqual(out.emails, [{ value: "n@x.io" }]);
    assert.deepEqual(out.name, { givenName: "A", familyName: "Vance" });
  });

  it("null in a value object unassigns an optional attribute (RFC 7644 §3.5.1 semantics)", () => {
    const out = patchUser([
      { op: "replace", value: { title: "Dev", displayName: null, externalId: "ol-7" } },
    ]);
    assert.equal(out.title, "Dev");
    assert.equal(out.externalId, "ol-7");
    assert.equal("displayName" in out, false);
  });

  it("drops the resource's own id and ignores schemas", () => {
    const out = applyPatch(GROUP_KIND, { displayName: "Sales" }, [
      { op: "replace", value: { id: "g-1", schemas: ["x"], displayName: "Sales EMEA" } },
    ]);
    assert.deepEqual(out, { displayName: "Sales EMEA" });
  });
});

describe("scim patch: primary values (RFC 7643 §2.4) [sqlite]", () => {
  it('a new primary value clears primary on the others, also via a filtered "True"', () => {
    const two = patchUser([{ op: "add", path: "emails", value: { value: "h@x.io", type: "home" } }]);
    const out = applyPatch(USER_KIND, two, [
      { op: "Replace", path: 'emails[type eq "home"].primary', value: "True" },
    ]);
    assert.deepEqual(
      (out.emails as any[]).map((e) => e.primary),
      [false, true],
    );
  });

  it("two primaries in one write are invalidValue", () => {
    const value = [
      { value: "a@x.io", primary: true },
      { value: "b@x.io", primary: true },
    ];
    rejects(() => patchUser([{ op: "replace", path: "emails", value }]), "invalidValue", /primary/);
  });
});

describe("scim patch: errors [sqlite]", () => {
  it("remove without path is noTarget (RFC 7644 §3.5.2.2)", () => {
    rejects(() => patchUser([{ op: "remove" }]), "noTarget");
  });

  it("unassigning a required attribute is mutability (RFC 7644 §3.5.2.2)", () => {
    rejects(() => patchUser([{ op: "remove", path: "userName" }]), "mutability", /required/);
    rejects(() => patchUser([{ op: "replace", path: "userName", value: null }]), "mutability");
    rejects(
      () => applyPatch(GROUP_KIND, { displayName: "G" }, [{ op: "Remove", path: "displayName" }]),
      "mutability",
    );
  });

  it("writing readOnly attributes is mutability (id, meta, groups, manager.displayName)", () => {
    rejects(() => patchUser([{ op: "replace", path: "id", value: "x" }]), "mutability");
    rejects(
      () => patchUser([{ op: "replace", path: "meta.lastModified", value: "2024-01-01T00:00:00Z" }]),
      "mutability",
    );
    rejects(() => patchUser([{ op: "add", path: "groups", value: [{ value: "g" }] }]), "mutability");
    rejects(() => patchUser([{ op: "add", value: { groups: [{ value: "g" }] } }]), "mutability");
    rejects(() => patchUser([{ op: "add", path: `${ENT}:manager.displayName`, value: "M" }]), "mutability");
  });

  it("immutable sub-attributes keep their value (members.value)", () => {
    const group = { displayName: "G", members: [{ value: "u-1" }] };
    const ops = [{ op: "replace", path: 'members[value eq "u-1"].value', value: "u-2" }];
    rejects(() => applyPatch(GROUP_KIND, group, ops), "mutability");
  });

  it("unknown attributes, malformed paths and sub-attributes of simple attributes are invalidPath", () => {
    for (const path of [
      "nope",
      "name.nope",
      "userName.first",
      'emails[type eq "work"',
      'emails[type eq "work"]value',
      "displayName[value eq 1]",
      'emails[nope eq "x"]',
      "urn:ietf:params:scim:schemas:extension:other:2.0:User:x",
    ]) {
      rejects(() => patchUser([{ op: "replace", path, value: "x" }]), "invalidPath");
    }
    rejects(() => patchUser([{ op: "replace", value: { nickname2: "x" } }]), "invalidPath");
  });

  it("a broken value filter in a path is invalidFilter (RFC 7644 §3.12, PATCH path filter)", () => {
    rejects(() => patchUser([{ op: "remove", path: 'emails[type equals "work"]' }]), "invalidFilter");
  });

  it("values of the wrong type are invalidValue naming the attribute", () => {
    rejects(() => patchUser([{ op: "replace", path: "active", value: "yes" }]), "invalidValue", /'active'/);
    rejects(
      () => patchUser([{ op: "replace", path: "displayName", value: 42 }]),
      "invalidValue",
      /'displayName'/,
    );
    rejects(() => patchUser([{ op: "replace", path: "name", value: "Ada" }]), "invalidValue", /'name'/);
    rejects(
      () => patchUser([{ op: "add", path: "emails", value: [{ value: 1 }] }]),
      "invalidValue",
      /emails\.value/,
    );
    rejects(() => patchUser([{ op: "add", path: "emails", value: [{ mail: "x" }] }]), "invalidValue");
    rejects(() => patchUser([{ op: "replace", path: "title", value: ["a"] }]), "invalidValue");
    rejects(() => patchUser([{ op: "replace", path: "userName", value: " " }]), "invalidValue");
    rejects(() => patchUser([{ op: "replace", value: "active" }]), "invalidValue");
    rejects(() => patchUser([{ op: "add", path: "nickName", value: null }]), "invalidValue");
  });
});

describe("scim patch: atomicity [sqlite]", () => {
  it("does not mutate the input document", () => {
    const doc = adele();
    applyPatch(USER_KIND, doc, [
      { op: "replace", path: 'emails[type eq "work"].value', value: "x@y.io" },
      { op: "replace", path: "name.givenName", value: "X" },
      { op: "remove", path: `${ENT}:department` },
    ]);
    assert.deepEqual(doc, adele());
  });

  it("all-or-nothing: a failing second operation throws and returns nothing", () => {
    const doc = adele();
    rejects(
      () =>
        applyPatch(USER_KIND, doc, [
          { op: "replace", path: "displayName", value: "Changed" },
          { op: "replace", path: "active", value: "maybe" },
        ]),
      "invalidValue",
      /Operations\[1\]/,
    );
    assert.deepEqual(doc, adele());
  });
});

describe("scim patch: group members as set deltas [sqlite]", () => {
  it("Entra add with $ref null, and legacy remove by value list", () => {
    const add = splitMemberOps([
      { op: "Add", path: "members", value: [{ $ref: null, value: "u1" }, { value: "u2" }] },
    ]);
    assert.deepEqual(add, {
      add: [{ value: "u1" }, { value: "u2" }],
      remove: [],
      removeAll: false,
      rest: [],
    });
    const rm = splitMemberOps([{ op: "Remove", path: "members", value: [{ $ref: null, value: "u2" }] }]);
    assert.deepEqual(rm.remove, ["u2"]);
  });

  it("Okta: remove by filter and add in one PATCH, case-insensitive Members", () => {
    const out = splitMemberOps([
      { op: "remove", path: 'members[value eq "u2"]' },
      { op: "add", path: "Members", value: [{ value: "u3", display: "carol", type: "user" }] },
    ]);
    assert.deepEqual(out.add, [{ value: "u3", type: "User", display: "carol" }]);
    assert.deepEqual(out.remove, ["u2"]);
  });

  it("or-ed value filters remove several; other member filters are invalidFilter", () => {
    assert.deepEqual(
      splitMemberOps([{ op: "remove", path: 'members[value eq "a" or value eq "b"]' }]).remove,
      ["a", "b"],
    );
    rejects(() => splitMemberOps([{ op: "remove", path: 'members[display eq "x"]' }]), "invalidFilter");
  });

  it("Okta full push: replace members is the new set; later ops fold into it", () => {
    const out = splitMemberOps([
      { op: "replace", path: "members", value: [{ value: "u1" }, { value: "u2" }] },
      { op: "remove", path: 'members[value eq "u2"]' },
      { op: "add", path: "members", value: [{ value: "u3" }] },
    ]);
    assert.deepEqual(out, {
      add: [],
      remove: [],
      removeAll: false,
      replace: [{ value: "u1" }, { value: "u3" }],
      rest: [],
    });
  });

  it("remove path members without value is removeAll; later adds still apply", () => {
    const out = splitMemberOps([
      { op: "remove", path: 'members[value eq "x"]' },
      { op: "remove", path: "members" },
      { op: "add", path: "members", value: { value: "u9" } },
    ]);
    assert.deepEqual(out, { add: [{ value: "u9" }], remove: [], removeAll: true, rest: [] });
  });

  it("later operations win: add-then-remove removes, remove-then-add adds", () => {
    const out = splitMemberOps([
      { op: "add", path: "members", value: [{ value: "u1" }] },
      { op: "remove", path: "members", value: [{ value: "u1" }] },
      { op: "remove", path: 'members[value eq "u2"]' },
      { op: "add", path: "members", value: [{ value: "u2" }] },
    ]);
    assert.deepEqual(out.add, [{ value: "u2" }]);
    assert.deepEqual(out.remove, ["u1"]); // u1 may have been a member before this PATCH
  });

  it("no-path add/replace: members split out, the rest kept, Okta's id dropped", () => {
    const out = splitMemberOps([
      { op: "replace", value: { id: "g-1", displayName: "Sales EMEA" } },
      { op: "add", value: { Members: [{ value: "u5" }], externalId: "okta-g" } },
      { op: "Replace", path: "displayName", value: "Renamed" },
    ]);
    assert.deepEqual(out.add, [{ value: "u5" }]);
    assert.deepEqual(out.rest, [
      { op: "replace", value: { displayName: "Sales EMEA" } },
      { op: "add", value: { externalId: "okta-g" } },
      { op: "replace", path: "displayName", value: "Renamed" },
    ]);
    const applied = applyPatch(GROUP_KIND, { displayName: "Sales" }, out.rest);
    assert.deepEqual(applied, { displayName: "Renamed", externalId: "okta-g" });
    assert.deepEqual(splitMemberOps([{ op: "replace", value: { members: [] } }]).replace, []);
  });

  it("OneLogin/JumpCloud: add then remove by value list; JumpCloud rename stays in rest", () => {
    const out = splitMemberOps([
      { op: "add", path: "members", value: [{ value: "u1" }] },
      { op: "replace", path: "displayName", value: "Design Systems" },
      { op: "remove", path: "members", value: [{ value: "u2" }] },
    ]);
    assert.deepEqual(out, {
      add: [{ value: "u1" }],
      remove: ["u2"],
      removeAll: false,
      rest: [{ op: "replace", path: "displayName", value: "Design Systems" }],
    });
  });

  it("members must be objects with a string value; sub-attribute paths are mutability", () => {
    rejects(() => splitMemberOps([{ op: "add", path: "members", value: ["u1"] }]), "invalidValue");
    rejects(() => splitMemberOps([{ op: "add", path: "members", value: [{ value: 7 }] }]), "invalidValue");
    rejects(
      () => splitMemberOps([{ op: "add", path: "members", value: [{ value: "u", type: "Robot" }] }]),
      "invalidValue",
    );
    rejects(
      () => splitMemberOps([{ op: "replace", path: 'members[value eq "u"].display', value: "x" }]),
      "mutability",
    );
    rejects(() => splitMemberOps([{ op: "remove" }]), "noTarget");
  });

  it("applyPatch handles members too, removing by value list without duplicating", () => {
    const group = { displayName: "G", members: [{ value: "u1", display: "A" }] };
    const out = applyPatch(GROUP_KIND, group, [
      { op: "add", path: "members", value: [{ value: "u1" }, { value: "u2" }] },
      { op: "remove", path: "members", value: [{ value: "u1" }] },
    ]);
    assert.deepEqual(out.members, [{ value: "u2" }]);
  });
});

describe("scim patch: in-memory value filter [sqlite]", () => {
  const defs = (caseExact: boolean): AttributeDef[] => [
    {
      name: "value",
      type: "string",
      multiValued: false,
      required: false,
      caseExact,
      mutability: "readWrite",
      returned: "default",
    },
    {
      name: "primary",
      type: "boolean",
      multiValued: false,
      required: false,
      caseExact: false,
      mutability: "readWrite",
      returned: "default",
    },
  ];
  const item = { value: "Alice@Example.com", primary: true };
  const match = (f: string, exact = false) => matchesFilter(item, parseFilter(f), defs(exact));

  it("honours caseExact, and/or/not, pr and string booleans", () => {
    assert.equal(match('value eq "alice@example.com"'), true);
    assert.equal(match('value eq "alice@example.com"', true), false);
    assert.equal(match('value sw "ALICE" and primary eq true'), true);
    assert.equal(match('not (value ew ".org") or primary eq false'), true);
    assert.equal(match('primary eq "True"'), true);
    assert.equal(match("value pr"), true);
    assert.equal(match('value gt "B"', true), false);
    rejects(() => match("primary gt true"), "invalidFilter");
  });
});
