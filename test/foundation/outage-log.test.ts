import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import pino from "pino";
import { RepeatingFailureLog } from "../../src/logger.js";
import { backends, createTestContext, eventually, TestClock } from "../helpers/context.js";

/** A logger whose lines land in an array. */
function capture() {
  const lines: any[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(JSON.parse(String(chunk)));
      cb();
    },
  });
  return { lines, logger: pino({ level: "debug" }, sink) };
}

describe("a failure that repeats is logged when it starts, once a minute, and when it ends [sqlite]", () => {
  it("counts what it does not log", async () => {
    const { lines, logger } = capture();
    const clock = new TestClock();
    const log = new RepeatingFailureLog(
      logger,
      { start: "down", repeat: "still down", end: "back" },
      clock.now,
    );
    for (let i = 0; i < 50; i++) log.failed(new Error("ECONNREFUSED"), { queue: "default" });
    clock.advance(59_000);
    log.failed(new Error("ECONNREFUSED"));
    assert.deepEqual(
      lines.map((l) => l.msg),
      ["down"],
    );
    assert.equal(lines[0].queue, "default");
    clock.advance(1000);
    log.failed(new Error("ECONNREFUSED"));
    assert.deepEqual(
      lines.map((l) => l.msg),
      ["down", "still down"],
    );
    assert.equal(lines[1].failures, 51);
    assert.equal(lines[1].forSeconds, 60);
    log.succeeded();
    log.succeeded();
    assert.deepEqual(
      lines.map((l) => l.msg),
      ["down", "still down", "back"],
    );
    log.failed(new Error("again"));
    assert.equal(lines.at(-1).msg, "down");
  });
});

for (const backend of backends()) {
  describe(`the in-process job runner while its claims fail [${backend.name}]`, () => {
    it("logs its failing claims once, not once per queue and poll", async () => {
      const ctx = await createTestContext(backend);
      try {
        await ctx.deps.driver.start();
        // Every claim now fails at once (as against a database that is down, minus the wait).
        await ctx.deps.db.schema.renameTable("jobs", "jobs_away");
        // Every queue polls every 20 ms (pollMs in tests): dozens of failures a second.
        const failures = () => (ctx.deps.driver as any).claimFailures.total as number;
        await eventually(async () => failures() >= 30, 30_000, "failing claims");
        const logged = ctx.logs.map((l) => JSON.parse(l)).filter((l) => /claiming jobs/.test(l.msg));
        assert.equal(logged.length, 1, JSON.stringify(logged));
        assert.match(logged[0].msg, /^claiming jobs failed/);
        await ctx.deps.db.schema.renameTable("jobs_away", "jobs");
        await eventually(
          async () => ctx.logs.some((l) => JSON.parse(l).msg === "claiming jobs again"),
          30_000,
          "the recovery line",
        );
      } finally {
        await ctx.close();
      }
    });
  });
}
