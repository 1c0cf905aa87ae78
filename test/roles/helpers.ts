import {
  admin,
  allBackends,
  type Backend,
  createTenantWithToken,
  eventually,
  scimClient,
  skipUnless,
  type TestContext,
  userBody,
} from "../helpers/context.js";

/** One way to run a suite: a database, and whether jobs go through BullMQ on Redis. */
export interface Variant {
  label: string;
  backend: Backend;
  redis: boolean;
  /** Why it cannot run here (the suite's `skip`), unset when it can. */
  skip?: string;
}

/**
 * Backend × driver variants: inline on each database, and BullMQ on each (skipped, with the
 * reason, when PostgreSQL or Redis is not configured). Name suites `[${v.label}]`, pass
 * `{ skip: v.skip }`. A file without BullMQ suites asks for `{ redis: false }` (asking for Redis
 * declares suites that CI then requires to run).
 */
export function variants(opts: { redis?: boolean } = {}): Variant[] {
  return allBackends().flatMap((b) => [
    { label: b.name, backend: b, redis: false, skip: b.skip },
    ...(opts.redis === false
      ? []
      : [
          {
            label: `${b.name}+redis] [redis`,
            backend: b,
            redis: true,
            skip: skipUnless(...(b.name === "postgres" ? (["postgres"] as const) : []), "redis"),
          },
        ]),
  ]);
}

/** A tenant with SCIM and admin helpers bound to it. */
export async function tenant(ctx: TestContext, slug: string) {
  const { tenantId, token } = await createTenantWithToken(ctx, slug);
  const scim = scimClient(ctx, token);
  const a = admin(ctx);
  const base = `/admin/v1/tenants/${slug}`;
  const helpers = {
    tenantId,
    scim,
    a,
    base,
    async user(userName: string, extra: Record<string, unknown> = {}): Promise<string> {
      return (await scim.post("/Users", userBody(userName, extra)).expect(201)).body.id;
    },
    async group(displayName: string, members: string[] = [], extra: Record<string, unknown> = {}) {
      const body = {
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        displayName,
        members: members.map((value) => ({ value })),
        ...extra,
      };
      return (await scim.post("/Groups", body).expect(201)).body.id as string;
    },
    async roles(userId: string) {
      return (await a.get(`${base}/users/${userId}/roles`).expect(200)).body.roles as Array<{
        key: string;
        source: string;
        groupId?: string;
        mappingId?: string;
      }>;
    },
    async keys(userId: string): Promise<string> {
      return [...new Set((await helpers.roles(userId)).map((r) => r.key))].sort().join(",");
    },
    /** Wait until the user's role keys are exactly `expected` (comma-separated, sorted). */
    async waitKeys(userId: string, expected: string) {
      ctx.deps.driver.poke();
      await eventually(
        async () => (await helpers.keys(userId)) === expected,
        15_000,
        `roles of ${userId} = '${expected}' (now '${await helpers.keys(userId)}')`,
      );
    },
    /** Wait until no job of the tenant is pending or running. */
    async settle() {
      await eventually(
        async () => {
          ctx.deps.driver.poke();
          const n = await ctx.deps
            .db("jobs")
            .whereIn("state", ["pending", "running", "relayed"])
            .andWhere("run_at", "<=", ctx.deps.now().toISOString())
            .count({ c: "*" })
            .first();
          return Number(n?.c) === 0;
        },
        20_000,
        "jobs to settle",
      );
    },
    async events(type?: string) {
      const list = (await a.get(`${base}/events?limit=1000`).expect(200)).body.events as Array<any>;
      return type ? list.filter((e) => e.type === type) : list;
    },
  };
  return helpers;
}
