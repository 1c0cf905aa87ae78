import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import {
  allBackends,
  createTenantWithToken,
  createTestContext,
  type TestContext,
} from "../helpers/context.js";

interface Step {
  name: string;
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  path: string;
  body?: unknown;
  /** `members`: the group's exact member ids after this step (read back), for every step that changes them. */
  expect: { status: number; match?: unknown; members?: string[] };
  save?: Record<string, string>;
}

const dir = path.join(import.meta.dirname, "../fixtures/idp");
const fixtures = readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .map((f) => JSON.parse(readFileSync(path.join(dir, f), "utf8")) as { idp: string; steps: Step[] });

function substitute<T>(value: T, vars: Map<string, string>): T {
  const text = JSON.stringify(value).replace(/\{\{(\w+)\}\}/g, (_m, name) => {
    if (!vars.has(name)) throw new Error(`fixture uses {{${name}}} before saving it`);
    return vars.get(name)!;
  });
  return JSON.parse(text);
}

/** Deep subset: every key of `expected` is in `actual` with a matching value; arrays match item for item, length included. */
function assertSubset(actual: any, expected: any, where: string): void {
  if (expected && typeof expected === "object" && !Array.isArray(expected)) {
    assert.ok(
      actual && typeof actual === "object",
      `${where}: expected an object, got ${JSON.stringify(actual)}`,
    );
    for (const [k, v] of Object.entries(expected)) assertSubset(actual[k], v, `${where}.${k}`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${where}: expected an array`);
    assert.equal(actual.length, expected.length, `${where}: ${JSON.stringify(actual)} has another length`);
    for (const [i, v] of expected.entries()) assertSubset(actual[i], v, `${where}[${i}]`);
    return;
  }
  assert.deepEqual(actual, expected, where);
}

describe("IdP conformance: the fixture matcher", () => {
  it("matches objects as subsets but arrays item for item, length included", () => {
    assertSubset({ a: 1, b: { c: [1, { d: 2 }] }, extra: true }, { b: { c: [1, { d: 2 }] } }, "x");
    assert.throws(() => assertSubset({ c: [1, 2] }, { c: [1] }, "x"), /another length/);
    assert.throws(() => assertSubset({ c: [1] }, { c: [1, 2] }, "x"), /another length/);
    assert.throws(() => assertSubset({ c: [{ d: 3 }] }, { c: [{ d: 2 }] }, "x"));
  });
});

const pick = (obj: any, dotted: string) =>
  dotted.split(".").reduce((o, k) => (o == null ? undefined : o[k]), obj);

for (const backend of allBackends()) {
  describe(`IdP conformance: replaying each IdP's real request sequence [${backend.name}]`, {
    skip: backend.skip,
  }, () => {
    let ctx: TestContext;
    before(async () => {
      ctx = await createTestContext(backend);
    });
    after(async () => ctx.close());

    for (const fx of fixtures) {
      it(`${fx.idp}: ${fx.steps.length} requests answer as the IdP expects`, async () => {
        const { token } = await createTenantWithToken(ctx, `idp-${fx.idp}`);
        const vars = new Map<string, string>();
        for (const [i, raw] of fx.steps.entries()) {
          const step = substitute(raw, vars);
          const req = ctx.http[step.method.toLowerCase() as "get"](`/scim/v2${step.path}`)
            .set("Authorization", `Bearer ${token}`)
            .set("Content-Type", "application/scim+json");
          const res = step.body === undefined ? await req : await req.send(JSON.stringify(step.body));
          const where = `${fx.idp} step ${i + 1} (${step.name}): ${step.method} ${step.path}`;
          assert.equal(
            res.status,
            step.expect.status,
            `${where} → ${res.status} ${JSON.stringify(res.body)}`,
          );
          if (step.expect.match !== undefined) assertSubset(res.body, step.expect.match, where);
          // A status says nothing about what a membership change did: read the group back.
          const changesMembers =
            /^\/Groups/.test(raw.path) &&
            raw.method !== "GET" &&
            JSON.stringify(raw.body ?? {}).includes('"members');
          assert.ok(
            !changesMembers || step.expect.members || raw.method === "DELETE",
            `${where}: the fixture must say which members the group has after this step (expect.members)`,
          );
          if (step.expect.members) {
            const groupId = /^\/Groups\/([^/?]+)/.exec(step.path)?.[1] ?? res.body.id;
            const group = await ctx.http
              .get(`/scim/v2/Groups/${groupId}`)
              .set("Authorization", `Bearer ${token}`)
              .expect(200);
            assert.deepEqual(
              (group.body.members ?? []).map((m: { value: string }) => m.value).sort(),
              [...step.expect.members].sort(),
              `${where}: the group's members afterwards`,
            );
          }
          for (const [name, field] of Object.entries(step.save ?? {})) {
            const v = pick(res.body, field);
            assert.equal(typeof v, "string", `${where}: nothing at ${field} to save as ${name}`);
            vars.set(name, v);
          }
        }
      });
    }
  });
}
