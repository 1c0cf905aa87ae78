import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { CONFIG_VARIABLES, ConfigError, loadConfig } from "../../src/config.js";
import {
  createTenantWithToken,
  createTestContext,
  scimClient,
  type TestContext,
} from "../helpers/context.js";

const root = path.resolve(import.meta.dirname, "../..");

describe("every configuration variable is documented", () => {
  it(".env.example lists every variable src/config.ts reads, and no other", () => {
    const text = readFileSync(path.join(root, ".env.example"), "utf8");
    const listed = [...text.matchAll(/^#? ?([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
    assert.deepEqual([...listed].sort(), Object.keys(CONFIG_VARIABLES).sort());
  });
  it("the README's config table has a row for every variable", () => {
    const readme = readFileSync(path.join(root, "README.md"), "utf8");
    for (const name of Object.keys(CONFIG_VARIABLES))
      assert.match(readme, new RegExp(`^\\| \`${name}\` \\|`, "m"), name);
  });
  it("LICENSE matches package.json's license", () => {
    const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
    assert.equal(pkg.license, "MIT");
    assert.match(readFileSync(path.join(root, "LICENSE"), "utf8"), /^MIT License/);
  });
});

describe("ServiceProviderConfig.documentationUri", () => {
  let ctx: TestContext;
  let custom: TestContext;
  before(async () => {
    ctx = await createTestContext({ name: "sqlite" });
    custom = await createTestContext(
      { name: "sqlite" },
      { env: { ROSTER_SCIM_DOCUMENTATION_URL: "https://docs.example.com/roster/scim" } },
    );
  });
  after(async () => {
    await ctx?.close();
    await custom?.close();
  });
  const docUri = async (c: TestContext) => {
    const scim = scimClient(c, (await createTenantWithToken(c, "acme")).token);
    return (await scim.get("/ServiceProviderConfig").expect(200)).body.documentationUri;
  };
  it("defaults to the SCIM protocol's specification, and is the configured URL when set", async () => {
    assert.equal(await docUri(ctx), "https://www.rfc-editor.org/rfc/rfc7644");
    assert.equal(await docUri(custom), "https://docs.example.com/roster/scim");
  });
  it("must be an absolute http(s) URL", () => {
    assert.throws(
      () => loadConfig({ ROSTER_SCIM_DOCUMENTATION_URL: "ftp://docs" }),
      (e: unknown) => e instanceof ConfigError && /ROSTER_SCIM_DOCUMENTATION_URL/.test(e.message),
    );
  });
});
