import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { domainCheckSweep } from "../../src/domains/jobs.js";
import { MAX_DOMAINS_PER_TENANT } from "../../src/domains/use-cases.js";
import {
  admin,
  allBackends,
  createTenantWithToken,
  createTestContext,
  eventually,
  type TestContext,
} from "../helpers/context.js";
import { TestDnsServer } from "../helpers/dns-server.js";
import { eventsOf } from "../saml/sso-helpers.js";

const MINUTE = 60_000;
const DAY = 86_400_000;

for (const backend of allBackends()) {
  describe(`verified domains [${backend.name}]`, { skip: backend.skip }, () => {
    let ctx: TestContext;
    let a: ReturnType<typeof admin>;
    const dns = new TestDnsServer();
    const tenants: Record<string, string> = {};
    const base = (slug: string) => `/admin/v1/tenants/${slug}/domains`;
    /** Publish what Roster asked for (the value from the claim). */
    const publish = (claim: { verification: { name: string; value: string } }) =>
      dns.setTxt(claim.verification.name, claim.verification.value);

    before(async () => {
      await dns.start();
      ctx = await createTestContext(backend, { env: { ROSTER_DNS_SERVERS: dns.address } });
      a = admin(ctx);
      for (const slug of ["acme", "rival", "idn", "sched", "many"])
        tenants[slug] = (await createTenantWithToken(ctx, slug)).tenantId;
    });
    after(async () => {
      await ctx.close();
      await dns.close();
    });

    it("claim → 201 pending with a random TXT challenge; GET lists it; the value differs per claim", async () => {
      const res = await a.post(base("acme"), { domain: "Acme.COM." }).expect(201);
      assert.equal(res.body.domain, "acme.com");
      assert.equal(res.body.status, "pending");
      assert.equal(res.body.verification.type, "dns-txt");
      assert.equal(res.body.verification.name, "_roster-challenge.acme.com");
      assert.match(res.body.verification.value, /^roster-verify=[A-Za-z0-9_-]{32}$/);
      assert.ok(res.body.createdAt);
      const other = await a.post(base("rival"), { domain: "acme.com" }).expect(201);
      assert.notEqual(other.body.verification.value, res.body.verification.value);
      const list = await a.get(base("acme")).expect(200);
      assert.deepEqual(
        list.body.domains.map((d: any) => [d.domain, d.status]),
        [["acme.com", "pending"]],
      );
      await a.post(base("acme"), { domain: "ACME.com" }).expect(409, /DOMAIN_EXISTS/);
    });

    it("verify: record absent, then a changed (wrong) value, then the right one among others → verified + event", async () => {
      const claim = (await a.get(`${base("acme")}/acme.com`).expect(200)).body;
      let res = await a.post(`${base("acme")}/acme.com/verify`).expect(200);
      assert.equal(res.body.status, "pending");
      assert.equal(res.body.lastResult, "missing");
      assert.ok(dns.queries.includes("_roster-challenge.acme.com"), "asked the DNS server");
      dns.setTxt(claim.verification.name, "roster-verify=an-older-value", "v=spf1 -all");
      res = await a.post(`${base("acme")}/acme.com/verify`).expect(200);
      assert.equal(res.body.status, "pending");
      assert.equal(res.body.lastResult, "mismatch");
      // A value inside a longer record is not proof.
      dns.setTxt(claim.verification.name, `x${claim.verification.value}`);
      res = await a.post(`${base("acme")}/acme.com/verify`).expect(200);
      assert.equal(res.body.status, "pending");
      assert.equal((await eventsOf(ctx, tenants.acme, "domain.verified")).length, 0);
      // The right value, split in two chunks (RFC 1035 §3.3.14), next to an unrelated record.
      const v: string = claim.verification.value;
      dns.setTxt(claim.verification.name, "v=spf1 -all", [v.slice(0, 10), v.slice(10)]);
      res = await a.post(`${base("acme")}/acme.com/verify`).expect(200);
      assert.equal(res.body.status, "verified");
      assert.ok(res.body.verifiedAt);
      const events = await eventsOf(ctx, tenants.acme, "domain.verified");
      assert.deepEqual(
        events.map((e) => e.domain),
        ["acme.com"],
      );
    });

    it("takeover refused: another tenant cannot claim or verify a domain verified elsewhere (409 DOMAIN_TAKEN)", async () => {
      // rival's pending claim from before: even with its own record published, verification is refused.
      const rival = (await a.get(`${base("rival")}/acme.com`).expect(200)).body;
      const acme = (await a.get(`${base("acme")}/acme.com`).expect(200)).body;
      dns.setTxt(rival.verification.name, acme.verification.value, rival.verification.value);
      await a.post(`${base("rival")}/acme.com/verify`).expect(409, /DOMAIN_TAKEN/);
      assert.equal((await a.get(`${base("rival")}/acme.com`).expect(200)).body.status, "pending");
      await a.delete(`${base("rival")}/acme.com`).expect(204);
      await a.post(base("rival"), { domain: "acme.com" }).expect(409, /DOMAIN_TAKEN/);
      // Subdomains are verified on their own: acme's verification does not cover eu.acme.com.
      const sub = await a.post(base("rival"), { domain: "eu.acme.com" }).expect(201);
      const res = await a.post(`${base("rival")}/eu.acme.com/verify`).expect(200);
      assert.equal(res.body.status, "pending");
      publish(sub.body);
      assert.equal((await a.post(`${base("rival")}/eu.acme.com/verify`).expect(200)).body.status, "verified");
      assert.equal((await eventsOf(ctx, tenants.rival, "domain.verified")).length, 1);
    });

    it("consumer mail domains are refused with 400 CONSUMER_DOMAIN; malformed names with 400", async () => {
      for (const domain of [
        "gmail.com",
        "GMAIL.com.",
        "outlook.com",
        "hotmail.com",
        "yahoo.com",
        "icloud.com",
        "proton.me",
        "mail.gmail.com",
      ]) {
        const res = await a.post(base("acme"), { domain }).expect(400);
        assert.equal(res.body.error.code, "CONSUMER_DOMAIN", domain);
      }
      for (const domain of [
        "",
        "localhost",
        "1.2.3.4",
        "a..com",
        "-a.com",
        "a-.com",
        "exa mple.com",
        "alice@acme.com",
        "https://acme.org",
        "acme.com/x",
        "[::1]",
        `${"a".repeat(64)}.com`,
        `${"abcdefghi.".repeat(26)}com`,
        "a_b.com",
      ]) {
        const res = await a.post(base("acme"), { domain }).expect(400);
        assert.equal(res.body.error.code, "INVALID_DOMAIN", domain);
      }
      for (const body of [{}, { domain: 42 }, { domain: "x".repeat(2000) }, { domain: "acme.org", extra: 1 }])
        await a.post(base("acme"), body).expect(400);
      assert.equal((await a.get(base("acme")).expect(200)).body.domains.length, 1, "nothing stored");
    });

    it("IDN: stored and looked up in ASCII (IDNA), reachable by either form", async () => {
      const res = await a.post(base("idn"), { domain: "Bücher.Example" }).expect(201);
      assert.equal(res.body.domain, "xn--bcher-kva.example");
      assert.equal(res.body.unicode, "bücher.example");
      assert.equal(res.body.verification.name, "_roster-challenge.xn--bcher-kva.example");
      await a.post(base("idn"), { domain: "xn--bcher-kva.example" }).expect(409, /DOMAIN_EXISTS/);
      publish(res.body);
      const v = await a.post(`${base("idn")}/${encodeURIComponent("bücher.example")}/verify`).expect(200);
      assert.equal(v.body.status, "verified");
      await a.get(`${base("idn")}/xn--bcher-kva.example`).expect(200);
    });

    it("isolation: one tenant's domains are invisible to another's routes", async () => {
      await a.get(`${base("rival")}/acme.com`).expect(404, /DOMAIN_NOT_FOUND/);
      await a.post(`${base("rival")}/acme.com/verify`).expect(404);
      await a.delete(`${base("rival")}/acme.com`).expect(404);
      await a.get(`${base("idn")}/acme.com`).expect(404);
      assert.deepEqual(
        (await a.get(base("rival")).expect(200)).body.domains.map((d: any) => d.domain),
        ["eu.acme.com"],
      );
      await a.get(base("nope")).expect(404, /TENANT_NOT_FOUND/);
      assert.equal((await a.get(`${base("acme")}/acme.com`).expect(200)).body.status, "verified");
      await ctx.http.get(base("acme")).expect(401);
    });

    it(`a tenant claims at most ${MAX_DOMAINS_PER_TENANT} domains (409 DOMAIN_LIMIT)`, async () => {
      for (let i = 0; i < MAX_DOMAINS_PER_TENANT; i++)
        await a.post(base("many"), { domain: `d${i}.many.example` }).expect(201);
      await a.post(base("many"), { domain: "one-more.example" }).expect(409, /DOMAIN_LIMIT/);
      await a.delete(`${base("many")}/d0.many.example`).expect(204);
      await a.post(base("many"), { domain: "one-more.example" }).expect(201);
      await ctx.deps.db("domains").where({ tenant_id: tenants.many }).delete();
      await ctx.deps.db("jobs").where({ tenant_id: tenants.many }).delete();
    });

    it("the re-check job on the app's clock: every 10 min, verified when the record appears, record_missing once when it is removed", async () => {
      const claim = (await a.post(base("sched"), { domain: "sched.example" }).expect(201)).body;
      const createdAt = new Date(claim.createdAt).getTime();
      assert.equal(claim.nextCheckAt, new Date(createdAt + 10 * MINUTE).toISOString());
      await ctx.deps.driver.start();
      const get = async () => (await a.get(`${base("sched")}/sched.example`).expect(200)).body;
      const checkedAt = async (t: number) =>
        eventually(
          async () => {
            ctx.deps.driver.poke();
            const d = await get();
            return d.lastCheckedAt === new Date(t).toISOString() && d;
          },
          undefined,
          `a check at +${(t - createdAt) / MINUTE} min`,
        );
      ctx.clock.advance(10 * MINUTE);
      let d = await checkedAt(createdAt + 10 * MINUTE);
      assert.equal(d.status, "pending");
      assert.equal(d.lastResult, "missing");
      assert.equal(d.nextCheckAt, new Date(createdAt + 20 * MINUTE).toISOString());
      publish(claim);
      ctx.clock.advance(10 * MINUTE);
      d = await checkedAt(createdAt + 20 * MINUTE);
      assert.equal(d.status, "verified");
      assert.equal(d.nextCheckAt, new Date(createdAt + 20 * MINUTE + DAY).toISOString());
      // Removed later: still verified, the admin is told once.
      dns.remove(claim.verification.name);
      ctx.clock.advance(DAY);
      d = await checkedAt(createdAt + 20 * MINUTE + DAY);
      assert.equal(d.status, "verified");
      assert.equal(d.recordMissingSince, d.lastCheckedAt);
      ctx.clock.advance(DAY);
      d = await checkedAt(createdAt + 20 * MINUTE + 2 * DAY);
      const missing = await eventsOf(ctx, tenants.sched, "domain.record_missing");
      assert.deepEqual(
        missing.map((e) => e.domain),
        ["sched.example"],
      );
      // A DNS outage is not an absence; the record back clears the alarm.
      dns.fail(claim.verification.name);
      ctx.clock.advance(DAY);
      d = await checkedAt(createdAt + 20 * MINUTE + 3 * DAY);
      assert.equal(d.lastResult, "dns_error");
      assert.equal(d.status, "verified");
      publish(claim);
      ctx.clock.advance(HOUR);
      d = await checkedAt(createdAt + 20 * MINUTE + 3 * DAY + HOUR);
      assert.equal(d.recordMissingSince, null);
      assert.equal((await eventsOf(ctx, tenants.sched, "domain.record_missing")).length, 1);
    });

    it("pending domains: hourly after the first day, failed (and an event) after 7 days", async () => {
      const claim = (await a.post(base("sched"), { domain: "never.example" }).expect(201)).body;
      const createdAt = new Date(claim.createdAt).getTime();
      const get = async () => (await a.get(`${base("sched")}/never.example`).expect(200)).body;
      ctx.clock.advance(DAY + 5 * MINUTE);
      let d = await eventually(async () => {
        ctx.deps.driver.poke();
        const x = await get();
        return x.lastCheckedAt && x;
      });
      assert.equal(d.nextCheckAt, new Date(ctx.deps.now().getTime() + HOUR).toISOString());
      ctx.clock.advance(6 * DAY);
      d = await eventually(async () => {
        ctx.deps.driver.poke();
        const x = await get();
        return x.status === "failed" && x;
      });
      assert.equal(d.nextCheckAt, null);
      const failed = await eventsOf(ctx, tenants.sched, "domain.verification_failed");
      assert.deepEqual(
        failed.map((e) => [e.domain, e.result]),
        [["never.example", "missing"]],
      );
      // An admin can still check by hand once the record is there.
      publish(claim);
      assert.equal(
        (await a.post(`${base("sched")}/never.example/verify`).expect(200)).body.status,
        "verified",
      );
      assert.ok(createdAt);
    });

    it("housekeeping schedules again a check whose job was lost; a deleted domain's job ends quietly", async () => {
      const claim = (await a.post(base("sched"), { domain: "lost.example" }).expect(201)).body;
      // Not due for 10 minutes, so the running driver has not claimed it: delete it as a lost job.
      const key = `domain-check/${(await ctx.deps.db("domains").where({ domain: "lost.example" }).first()).id}`;
      await ctx.deps.db("jobs").where({ dedupe_key: key }).delete();
      ctx.clock.advance(2 * HOUR);
      const sweep = domainCheckSweep(ctx.deps.jobs);
      assert.equal(await sweep(ctx.deps), 1);
      publish(claim);
      await eventually(async () => {
        ctx.deps.driver.poke();
        return (await a.get(`${base("sched")}/lost.example`).expect(200)).body.status === "verified";
      });
      assert.equal(await sweep(ctx.deps), 0);
      await a.delete(`${base("sched")}/lost.example`).expect(204);
      ctx.clock.advance(2 * DAY);
      await eventually(async () => {
        ctx.deps.driver.poke();
        const jobs = await ctx.deps.db("jobs").where({ dedupe_key: key });
        return jobs.length > 0 && jobs.every((j: any) => j.state === "done");
      });
      assert.equal((await eventsOf(ctx, tenants.sched, "domain.record_missing")).length, 1);
    });
  });
}

const HOUR = 60 * MINUTE;

describe("ROSTER_DNS_SERVERS", () => {
  it("takes IPs, IP:port and [IPv6]:port, comma-separated; anything else stops start-up", async () => {
    const { loadConfig } = await import("../../src/config.js");
    assert.equal(loadConfig({}).dnsServers, undefined);
    assert.deepEqual(loadConfig({ ROSTER_DNS_SERVERS: "127.0.0.1:5353, 1.1.1.1,[::1]:53,::1" }).dnsServers, [
      "127.0.0.1:5353",
      "1.1.1.1",
      "[::1]:53",
      "::1",
    ]);
    for (const bad of ["dns.example.com", "127.0.0.1:0", "127.0.0.1:70000", "1.2.3", ",", "[::1", "::1:53x"])
      assert.throws(() => loadConfig({ ROSTER_DNS_SERVERS: bad }), /ROSTER_DNS_SERVERS/, bad);
  });
});
