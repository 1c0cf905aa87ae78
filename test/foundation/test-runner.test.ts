import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { describe, it } from "node:test";
import knex from "knex";

const root = path.resolve(import.meta.dirname, "../..");
const pg = process.env.ROSTER_TEST_PG;

describe(`the README's test command on a fresh machine${pg ? " [postgres]" : ""}`, {
  skip: pg ? false : "no PostgreSQL in this run (set DATABASE_URL=postgres://… for npm test)",
}, () => {
  it("DATABASE_URL=postgres://…/<a database that does not exist> npm test: the runner creates it", async () => {
    const name = `roster_fresh_${randomBytes(4).toString("hex")}`;
    const url = new URL(pg!);
    url.pathname = `/${name}`;
    const server = new URL(pg!);
    server.pathname = "/postgres";
    const admin = knex({ client: "pg", connection: server.toString() });
    try {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", "scripts/test.ts", "test/fixtures/runner-probe.ts"],
        {
          cwd: root,
          env: { PATH: process.env.PATH, HOME: process.env.HOME, DATABASE_URL: url.toString() },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let out = "";
      child.stdout.on("data", (d) => (out += d));
      child.stderr.on("data", (d) => (out += d));
      const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
      assert.equal(code, 0, out);
      assert.match(out, new RegExp(`created the test database ${name}`));
      assert.match(out, /cases passed by backend: sqlite 0, postgres 1/);
    } finally {
      await admin.raw(`drop database if exists "${name}" with (force)`);
      await admin.destroy();
    }
  });
});
