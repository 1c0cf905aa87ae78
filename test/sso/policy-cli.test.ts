import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { findPolicy, savePolicy } from "../../src/sso/policy-store.js";
import { createTenantWithToken, createTestContext, type TestContext } from "../helpers/context.js";
import { eventsOf } from "../saml/sso-helpers.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

describe("CLI: sso-policy:off turns Require SSO off (the way back that never goes through SSO)", () => {
  let ctx: TestContext;
  const key = randomBytes(32).toString("base64");
  before(async () => {
    ctx = await createTestContext({ name: "sqlite" }, { env: { ROSTER_ENCRYPTION_KEY: key } });
  });
  after(async () => ctx.close());

  it("sets requireSso false, keeps the break-glass list, records the change by the CLI", async () => {
    const { tenantId } = await createTenantWithToken(ctx, "acme");
    await savePolicy(
      ctx.deps.db,
      { tenantId, requireSso: true, breakGlass: ["it@acme.test"], updatedAt: null },
      ctx.clock.now().toISOString(),
    );
    const run = (slug: string) =>
      spawnSync(process.execPath, ["--import", "tsx", "src/cli.ts", "--json", "sso-policy:off", slug], {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          DATABASE_URL: ctx.processDatabaseUrl,
          ROSTER_ENCRYPTION_KEY: key,
          LOG_LEVEL: "silent",
        },
        encoding: "utf8",
      });
    const r = run("acme");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).requireSso, false);
    const p = await findPolicy(ctx.deps.db, tenantId);
    assert.equal(p.requireSso, false);
    assert.deepEqual(p.breakGlass, ["it@acme.test"]);
    assert.deepEqual(
      (await eventsOf(ctx, tenantId, "sso.policy_changed")).map((e) => e.actor),
      ["cli"],
    );
    const missing = run("nope");
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /TENANT_NOT_FOUND/);
  });
});
