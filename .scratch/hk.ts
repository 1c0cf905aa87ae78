import { createTestContext } from "../test/helpers/context.js";
import { scheduleHousekeeping } from "../src/jobs/housekeeping.js";
const ctx = await createTestContext({ name: "sqlite" });
await scheduleHousekeeping(ctx.deps.jobs, ctx.deps.db, ctx.deps.now());
console.log(await ctx.deps.db("jobs").select("name","state","dedupe_key"));
await ctx.close();
