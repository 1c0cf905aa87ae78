import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../src/config.js";
import { createOperatorLink } from "../../src/console/links.js";
import { admin, createTestContext, type TestContext } from "../helpers/context.js";
import { ConsoleClient } from "./helpers.js";

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(path.join(dir, e.name)) : [path.join(dir, e.name)],
  );
}

describe("console rendering and headers [sqlite]", () => {
  let ctx: TestContext;
  before(async () => {
    ctx = await createTestContext(
      { name: "sqlite" },
      { env: { ROSTER_CONSOLE_FRAME_ANCESTORS: "https://app.example 'self'" } },
    );
  });
  after(() => ctx.close());

  it("no console source renders raw HTML or inline script", () => {
    for (const f of files(path.resolve("src/console"))) {
      const text = readFileSync(f, "utf8");
      assert.ok(!/dangerouslySetInnerHTML\s*[=:]/.test(text), `${f} renders raw HTML`);
      if (f.endsWith(".tsx"))
        assert.ok(!/<script>|\sstyle=\{|\son[A-Z][a-z]+=/.test(text), `${f} has inline script or style`);
    }
  });

  it("every value is escaped: a tenant named like markup shows as text", async () => {
    const name = `<img src=x onerror="alert(1)">`;
    await admin(ctx).post("/admin/v1/tenants", { slug: "evil", name }).expect(201);
    const b = new ConsoleClient(ctx);
    await b.exchange((await createOperatorLink(ctx.deps)).url);
    for (const url of [
      "/console/operator/tenants",
      "/console/t/evil/sso",
      "/console/operator/tenants/evil",
    ]) {
      const page = await b.get(url);
      assert.equal(page.status, 200, url);
      assert.ok(!page.text.includes("<img src=x"), url);
      assert.ok(page.text.includes("&lt;img src=x onerror="), url);
    }
  });

  it("frame-ancestors comes from ROSTER_CONSOLE_FRAME_ANCESTORS ('none' by default)", async () => {
    const res = await ctx.http.get("/console/sign-in");
    assert.match(res.headers["content-security-policy"], /frame-ancestors https:\/\/app\.example 'self'$/);
    assert.equal(res.headers["x-frame-options"], undefined);
    assert.equal(loadConfig({}).consoleFrameAncestors, "'none'");
    for (const bad of [
      "*",
      "https://a.example/path",
      "'none' https://a.example",
      "https://a.example;script-src *",
    ])
      assert.throws(() => loadConfig({ ROSTER_CONSOLE_FRAME_ANCESTORS: bad }), ConfigError, bad);
  });

  it("the sign-in form is rate-limited per address", async () => {
    const limited = await createTestContext(
      { name: "sqlite" },
      { env: { ROSTER_RATE_LIMIT_CONSOLE_SIGN_IN: "3/1m" } },
    );
    try {
      const b = new ConsoleClient(limited);
      await b.get("/console/sign-in");
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++)
        statuses.push((await b.post("/console/sign-in", { key: "rst_admin_wrong" })).status);
      assert.deepEqual(statuses, [401, 401, 401, 429]);
    } finally {
      await limited.close();
    }
  });
});
