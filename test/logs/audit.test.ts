import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { ADMIN_ACTIONS } from "../../src/audit/actions.js";
import { createAdminKey } from "../../src/tenants/admin-keys.js";
import { admin, allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { databaseText } from "../helpers/db-text.js";

// Issue 18: every admin action is recorded, append-only and hash-chained; verify finds tampering.

interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle: { stack?: Layer[] };
  matchers?: Array<(p: string) => unknown>;
}

/** Every route of the app as `METHOD /path` under the prefix its router is mounted at. */
function routeTable(app: {
  router: { stack: Layer[] };
}): Array<{ method: string; path: string; prefix: string }> {
  const out: Array<{ method: string; path: string; prefix: string }> = [];
  const visit = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const [m, on] of Object.entries(layer.route.methods))
          if (on) out.push({ method: m.toUpperCase(), path: layer.route.path, prefix });
      } else if (Array.isArray(layer.handle?.stack)) {
        // Express 5 keeps no mount path on the layer: find it by asking the layer what it matches.
        const mount = ["/admin/v1", "/scim/v2"].find((p) => layer.matchers?.[0]?.(`${p}/x`)) ?? "";
        visit(layer.handle.stack, prefix + mount);
      }
    }
  };
  visit(app.router.stack, "");
  return out;
}

describe("every admin route is audited", () => {
  it("each admin route that is not a read has an ADMIN_ACTIONS entry, and each entry a route", async () => {
    const ctx = await createTestContext({ name: "sqlite" });
    try {
      const routes = routeTable(ctx.app as unknown as { router: { stack: Layer[] } }).filter(
        (r) => r.prefix === "/admin/v1" && r.method !== "GET" && r.method !== "HEAD",
      );
      assert.ok(routes.length >= 30, `the walk found the admin routes (${routes.length})`);
      const keys = routes.map((r) => `${r.method} ${r.path}`);
      const missing = keys.filter((k) => !(k in ADMIN_ACTIONS));
      assert.deepEqual(
        missing,
        [],
        "admin routes without an audit action (add them to src/audit/actions.ts)",
      );
      const stale = Object.keys(ADMIN_ACTIONS).filter((k) => !keys.includes(k));
      assert.deepEqual(stale, [], "audit actions without a route");
    } finally {
      await ctx.close();
    }
  });
});

for (const backend of allBackends()) {
  describe(`audit log [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let a: ReturnType<typeof admin>;
    before(async () => {
      ctx = await createTestContext(backend);
      a = admin(ctx);
    });
    after(async () => ctx.close());

    const tenantLog = async (slug: string, q = "") =>
      (await a.get(`/admin/v1/tenants/${slug}/audit-log${q}`).expect(200)).body.entries;

    it("records actions with actor, tenant, target, changes old → new, address and request id", async () => {
      await a
        .post("/admin/v1/tenants", { slug: "audited", name: "Before" })
        .set("X-Request-Id", "req-1")
        .expect(201);
      await a.patch("/admin/v1/tenants/audited", { name: "After" }).set("X-Request-Id", "req-2").expect(200);
      const entries = await tenantLog("audited");
      assert.deepEqual(
        entries.map((e: { action: string }) => e.action),
        ["tenant.updated", "tenant.created"],
      );
      const [update, create] = entries;
      assert.deepEqual(update.changes, [{ field: "name", old: "Before", new: "After" }]);
      assert.deepEqual(update.actor, { kind: "admin_token", id: null, name: "ROSTER_ADMIN_TOKEN" });
      assert.equal(update.tenant.slug, "audited");
      assert.deepEqual(update.target, { type: "tenant", id: "audited" });
      assert.equal(update.requestId, "req-2");
      assert.ok(update.sourceIp, "source address recorded");
      assert.equal(create.requestId, "req-1");
      assert.equal(update.prevHash, create.hash, "each entry carries the previous entry's hash");
    });

    it("names an admin key's id and name; secrets it created are never in the log", async () => {
      const key = await createAdminKey(ctx.deps.db, "Alice's laptop", ctx.deps.now());
      const tok = await ctx.http
        .post("/admin/v1/tenants/audited/scim-tokens")
        .set("Authorization", `Bearer ${key.token}`)
        .send({ name: "Entra ID" })
        .expect(201);
      const hook = await a
        .post("/admin/v1/tenants/audited/webhooks", {
          url: "http://127.0.0.1:9/hook",
          events: ["user.created"],
        })
        .expect(201);
      await a.post(`/admin/v1/tenants/audited/webhooks/${hook.body.id}/rotate-secret`, {}).expect(200);
      await a.delete(`/admin/v1/tenants/audited/scim-tokens/${tok.body.id}`).expect(204);
      const entries = await tenantLog("audited", "?limit=4");
      assert.deepEqual(
        entries.map((e: { action: string }) => e.action),
        ["scim_token.revoked", "webhook.secret_rotated", "webhook.created", "scim_token.created"],
      );
      const created = entries[3];
      assert.deepEqual(created.actor, { kind: "admin_key", id: key.id, name: "Alice's laptop" });
      assert.deepEqual(created.target, { type: "scim_token", id: tok.body.id });
      assert.deepEqual(entries[0].target, { type: "scim_token", id: tok.body.id });
      const log = JSON.stringify(await ctx.deps.db("audit_log").select("*"));
      assert.ok(!log.includes(tok.body.token), "SCIM token in the audit log");
      assert.ok(!log.includes(hook.body.secret), "webhook secret in the audit log");
      assert.match(JSON.stringify(entries[2].changes), /"field":"secret","new":"\[secret\]"/);
    });

    it("failed requests record nothing", async () => {
      const n = (await ctx.deps.db("audit_log").count({ n: "*" }).first())!.n;
      await a.patch("/admin/v1/tenants/audited", { name: "" }).expect(400);
      await a.delete("/admin/v1/tenants/nobody").expect(404);
      await a
        .delete("/admin/v1/tenants/audited/scim-tokens/00000000-0000-0000-0000-000000000000")
        .expect(404);
      assert.equal((await ctx.deps.db("audit_log").count({ n: "*" }).first())!.n, n);
    });

    it("tenant views are isolated; the operator view spans tenants, filters and exports JSON lines", async () => {
      await a.post("/admin/v1/tenants", { slug: "other-co", name: "Other" }).expect(201);
      const mine = await tenantLog("audited", "?limit=500");
      assert.ok(mine.every((e: { tenant: { slug: string } }) => e.tenant.slug === "audited"));
      const all = (await a.get("/admin/v1/audit-log?limit=500").expect(200)).body.entries;
      assert.ok(all.some((e: { tenant: { slug: string } }) => e.tenant?.slug === "other-co"));
      const filtered = (await a.get("/admin/v1/audit-log?action=tenant.created").expect(200)).body.entries;
      assert.deepEqual(
        filtered.map((e: { tenant: { slug: string } }) => e.tenant.slug),
        ["other-co", "audited"],
      );
      const page = (await a.get("/admin/v1/audit-log?limit=2").expect(200)).body;
      const older = (await a.get(`/admin/v1/audit-log?limit=2&before=${page.next}`).expect(200)).body;
      assert.ok(Number(older.entries[0].seq) < Number(page.entries[1].seq) + 1);
      const jsonl = await a.get("/admin/v1/tenants/audited/audit-log?format=jsonl").expect(200);
      assert.match(String(jsonl.headers["content-type"]), /application\/x-ndjson/);
      const lines = jsonl.text
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      assert.equal(lines.length, mine.length);
      for (const q of ["limit=0", "before=x", "since=yesterday", "nope=1", "format=csv"])
        await a.get(`/admin/v1/audit-log?${q}`).expect(400);
      await a.get("/admin/v1/tenants/nobody/audit-log").expect(404);
    });

    it("concurrent actions on one tenant keep one unbroken chain", async () => {
      await Promise.all(
        Array.from({ length: 12 }, (_, i) =>
          a.patch("/admin/v1/tenants/other-co", { name: `Name ${i}` }).expect(200),
        ),
      );
      const v = (await a.get("/admin/v1/audit-log/verify").expect(200)).body;
      assert.equal(v.ok, true, JSON.stringify(v.brokenAt));
      // 2 + 4 entries of the tests before, other-co's creation, and these 12.
      assert.equal(v.entries, 19);
    });

    it("the CLI's actions are recorded with actor cli", async () => {
      const r = spawnSync(
        process.execPath,
        ["--import", "tsx", "src/cli.ts", "tenant:create", "from-cli", "--name", "CLI Co"],
        {
          cwd: path.resolve(import.meta.dirname, "../.."),
          env: {
            PATH: process.env.PATH,
            HOME: process.env.HOME,
            DATABASE_URL: ctx.processDatabaseUrl,
            ROSTER_ENCRYPTION_KEY: ctx.deps.config.encryption.key!.toString("base64"),
            LOG_LEVEL: "silent",
          },
          encoding: "utf8",
        },
      );
      assert.equal(r.status, 0, r.stderr);
      const [entry] = await tenantLog("from-cli");
      assert.equal(entry.action, "tenant.created");
      assert.equal(entry.actor.kind, "cli");
      assert.deepEqual(entry.changes, [
        { field: "name", new: "CLI Co" },
        { field: "slug", new: "from-cli" },
      ]);
    });

    it("verify reports the first broken link: an altered entry, a removed entry, a removed head", async () => {
      assert.equal((await a.get("/admin/v1/audit-log/verify").expect(200)).body.ok, true);
      const [victim] = await tenantLog("audited", "?action=tenant.updated");
      const seq = Number(victim.seq);
      const db = ctx.deps.db;
      const row = await db("audit_log").where({ seq }).first();
      await db("audit_log")
        .where({ seq })
        .update({ changes: JSON.stringify([{ field: "name", old: "Before", new: "Evil" }]) });
      let v = (await a.get("/admin/v1/audit-log/verify").expect(200)).body;
      assert.equal(v.ok, false);
      assert.deepEqual([v.brokenAt.reason, v.brokenAt.seq], ["entry_altered", seq]);
      await db("audit_log").where({ seq }).update({ changes: row.changes });
      assert.equal((await a.get("/admin/v1/audit-log/verify").expect(200)).body.ok, true);
      // Remove an entry from the middle of the chain: its successor's link breaks.
      const chain = await db("audit_log").where({ chain: row.chain }).orderBy("seq").select("*");
      const middle = chain[1];
      await db("audit_log").where({ seq: middle.seq }).delete();
      v = (await a.get("/admin/v1/audit-log/verify").expect(200)).body;
      assert.deepEqual([v.brokenAt.reason, v.brokenAt.seq], ["link_broken", Number(chain[2].seq)]);
      await db("audit_log").insert(middle);
      assert.equal((await a.get("/admin/v1/audit-log/verify").expect(200)).body.ok, true);
      const newest = chain.at(-1);
      await db("audit_log").where({ seq: newest.seq }).delete();
      v = (await a.get("/admin/v1/audit-log/verify").expect(200)).body;
      assert.equal(v.brokenAt.reason, "head_mismatch");
      await db("audit_log").insert(newest);
      assert.equal((await a.get("/admin/v1/audit-log/verify").expect(200)).body.ok, true);
      assert.ok(!(await databaseText(db)).includes("Evil"));
    });
  });
}
