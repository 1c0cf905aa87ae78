import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { admin, allBackends, createTestContext, type TestContext } from "../helpers/context.js";
import { TestDnsServer } from "../helpers/dns-server.js";
import { eventsOf, type SsoTenant, setupSso } from "../saml/sso-helpers.js";
import { ConsoleClient } from "./helpers.js";

const D = "/console/t/acme/domains";

for (const backend of allBackends()) {
  describe(`console: Security → Domains & policy [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let a: ReturnType<typeof admin>;
    let acme: SsoTenant;
    let linkId: string;
    let c: ConsoleClient;
    const dns = new TestDnsServer();
    const txtOf = (html: string, label: string) =>
      new RegExp(`<label for="(txt-${label}-\\d+)">[^<]*</label>[\\s\\S]*?value="([^"]+)"`).exec(html)?.[2];

    before(async () => {
      await dns.start();
      ctx = await createTestContext(backend, { env: { ROSTER_DNS_SERVERS: dns.address } });
      a = admin(ctx);
      acme = await setupSso(ctx, "acme");
      await setupSso(ctx, "globex");
      // Globex verified globex.test (through the admin API).
      const claim = (await a.post("/admin/v1/tenants/globex/domains", { domain: "globex.test" }).expect(201))
        .body;
      dns.setTxt(claim.verification.name, claim.verification.value);
      await a.post("/admin/v1/tenants/globex/domains/globex.test/verify").expect(200);
      const link = await a.post("/admin/v1/tenants/acme/setup-links", { scopes: ["sso"] }).expect(201);
      linkId = link.body.id;
      c = new ConsoleClient(ctx);
      assert.equal((await c.exchange(link.body.url)).status, 303);
    });
    after(async () => {
      await ctx.close();
      await dns.close();
    });

    it("adds a domain (errors beside the field), shows its TXT record, verifies it against real DNS", async () => {
      const page = await c.get(D);
      assert.equal(page.status, 200);
      assert.match(page.text, /Domains &amp; policy/);
      for (const [domain, words] of [
        ["gmail.com", /public e-mail provider/],
        ["globex.test", /Another organisation has verified this domain/],
        ["not a domain", /field-error|invalid|must/i],
      ] as const) {
        const res = await c.post(D, { domain });
        assert.equal(res.status, 400, domain);
        assert.match(res.text, words, domain);
        assert.match(res.text, /id="f-domain-error"/, `${domain}: the error is beside the field`);
      }
      assert.equal((await c.post(D, { domain: "acme.test" })).status, 303);
      const added = await c.get(`${D}?done=added`);
      assert.match(added.text, /publish the TXT record/);
      const name = txtOf(added.text, "name");
      const value = txtOf(added.text, "value");
      assert.equal(name, "_roster-challenge.acme.test");
      assert.match(value!, /^roster-verify=/);
      assert.match(added.text, /Copy/);
      // Verify now, record not published yet: still pending.
      assert.equal(
        (await c.post(`${D}/verify`, { domain: "acme.test" })).headers.location,
        `${D}?done=checked`,
      );
      dns.setTxt(name!, value!);
      assert.equal(
        (await c.post(`${D}/verify`, { domain: "acme.test" })).headers.location,
        `${D}?done=verified`,
      );
      const rows = (await a.get("/admin/v1/tenants/acme/domains").expect(200)).body.domains;
      assert.equal(rows.find((d: any) => d.domain === "acme.test").status, "verified");
    });

    it("Require SSO: the checklist says what is missing; turning on is refused in words until it is met; off always works", async () => {
      let page = await c.get(D);
      assert.match(page.text, /not met<\/span> At least one break-glass e-mail is named/);
      assert.match(page.text, /met<\/span> An SSO connection is enabled/);
      const refused = await c.post(`${D}/policy`, { requireSso: "on" });
      assert.equal(refused.status, 409);
      assert.match(refused.text, /Name at least one break-glass e-mail/);
      assert.equal((await a.get("/admin/v1/tenants/acme/sso-policy")).body.requireSso, false);
      const bad = await c.post(`${D}/break-glass`, { breakGlass: "not-an-email" });
      assert.equal(bad.status, 400);
      assert.match(bad.text, /id="f-breakGlass-error"/);
      assert.equal(
        (await c.post(`${D}/break-glass`, { breakGlass: "it@acme.test\nops@acme.test" })).status,
        303,
      );
      assert.equal((await c.post(`${D}/policy`, { requireSso: "on" })).headers.location, `${D}?done=on`);
      const discover = await ctx.http.get("/sso/discover?email=bob@acme.test").expect(200);
      assert.equal(discover.body.required, true);
      page = await c.get(D);
      assert.doesNotMatch(page.text, /not met/);
      assert.match(page.text, /Turn Require SSO off/);

      // Break-glass: at most 60 minutes, a reason, then disarm.
      const long = await c.post(`${D}/arm`, { email: "it@acme.test", minutes: "61", reason: "IdP down" });
      assert.equal(long.status, 400);
      assert.match(long.text, /id="f-minutes-error"/);
      const noReason = await c.post(`${D}/arm`, { email: "it@acme.test", minutes: "30", reason: "" });
      assert.equal(noReason.status, 400);
      assert.equal(
        (await c.post(`${D}/arm`, { email: "it@acme.test", minutes: "30", reason: "IdP down" })).status,
        303,
      );
      page = await c.get(D);
      assert.match(page.text, /<strong>it@acme.test<\/strong> may sign in without SSO until/);
      assert.equal((await ctx.http.get("/sso/discover?email=it@acme.test")).body.breakGlass, true);
      assert.equal((await c.post(`${D}/disarm`, { email: "it@acme.test" })).status, 303);
      assert.equal((await c.post(`${D}/disarm`, { email: "it@acme.test" })).status, 404);
      assert.equal((await c.post(`${D}/policy`, { requireSso: "off" })).headers.location, `${D}?done=off`);
      assert.equal((await a.get("/admin/v1/tenants/acme/sso-policy")).body.requireSso, false);

      // Each action is a console.action naming the actor (the setup link), never a secret.
      const actions = (await eventsOf(ctx, acme.tenantId, "console.action")).map(
        (e) => `${e.action} ${e.actor.kind}:${e.actor.id}`,
      );
      for (const act of [
        "domain.add",
        "domain.verify",
        "sso_policy.break_glass",
        "sso_policy.require_on",
        "break_glass.arm",
        "break_glass.disarm",
        "sso_policy.require_off",
      ])
        assert.ok(actions.includes(`${act} setup_link:${linkId}`), act);
      const changed = await eventsOf(ctx, acme.tenantId, "sso.policy_changed");
      assert.equal(changed.at(-1)?.actor, `console:setup_link:${linkId}`);
    });

    it("another tenant's pages, domains and actions are not found and change nothing; CSRF; wrong scope", async () => {
      const state = async () =>
        JSON.stringify([
          await ctx.deps.db("domains").orderBy("domain").select("domain", "status", "tenant_id"),
          await ctx.deps.db("sso_policies").orderBy("tenant_id"),
          (await ctx.deps.db("break_glass_windows").count("* as n"))[0],
        ]);
      const before = await state();
      assert.equal((await c.get("/console/t/globex/domains")).status, 404);
      for (const [url, form] of [
        ["/console/t/globex/domains", { domain: "evil.test" }],
        ["/console/t/globex/domains/verify", { domain: "globex.test" }],
        ["/console/t/globex/domains/delete", { domain: "globex.test", confirm: "globex.test" }],
        ["/console/t/globex/domains/policy", { requireSso: "off" }],
        ["/console/t/globex/domains/break-glass", { breakGlass: "x@evil.test" }],
        ["/console/t/globex/domains/arm", { email: "x@evil.test", minutes: "5", reason: "x" }],
        ["/console/t/globex/domains/disarm", { email: "x@evil.test" }],
        // Globex's domain through this tenant's own URLs.
        [`${D}/verify`, { domain: "globex.test" }],
        [`${D}/delete`, { domain: "globex.test", confirm: "globex.test" }],
      ] as const)
        assert.equal((await c.post(url, form)).status, 404, url);
      assert.equal(await state(), before);
      for (const url of [
        D,
        `${D}/verify`,
        `${D}/delete`,
        `${D}/policy`,
        `${D}/break-glass`,
        `${D}/arm`,
        `${D}/disarm`,
      ]) {
        assert.equal((await c.post(url, { domain: "x.test" }, false)).status, 403, url);
        assert.equal((await c.post(url, { domain: "x.test", _csrf: "x".repeat(43) })).status, 403, url);
      }
      assert.equal(await state(), before);
      const link = await a.post("/admin/v1/tenants/acme/setup-links", { scopes: ["members"] }).expect(201);
      const members = new ConsoleClient(ctx);
      await members.exchange(link.body.url);
      assert.equal((await members.get(D)).status, 403);
      assert.equal((await members.post(D, { domain: "x.test" })).status, 403);
      assert.doesNotMatch((await members.get("/console/t/acme/members")).text, /Domains &amp; policy/);
      assert.equal(await state(), before);
    });

    it("deleting a domain asks for the typed name", async () => {
      const wrong = await c.post(`${D}/delete`, { domain: "acme.test", confirm: "acme" });
      assert.equal(wrong.status, 400);
      assert.match(wrong.text, /Type the domain acme.test exactly/);
      assert.equal((await c.post(`${D}/delete`, { domain: "acme.test", confirm: "acme.test" })).status, 303);
      assert.deepEqual((await a.get("/admin/v1/tenants/acme/domains").expect(200)).body.domains, []);
    });
  });
}
