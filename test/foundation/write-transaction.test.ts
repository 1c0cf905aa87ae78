import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import type { Knex } from "knex";
import { createDb } from "../../src/db/knex.js";
import { exec } from "../../src/db/exec.js";
import { writeTransaction } from "../../src/db/write-transaction.js";

const Database = createRequire(import.meta.url)("better-sqlite3");

// Group commit (src/db/write-transaction.ts): concurrent SQLite writers share one COMMIT, each
// body still all or nothing, and no caller hears of success before the COMMIT.
describe("write transactions share commits on SQLite [sqlite]", () => {
  const file = path.join(tmpdir(), `roster-wtx-${randomBytes(6).toString("hex")}.sqlite`);
  let db: Knex;
  // A second connection, as another process would read the file.
  let other: { prepare(sql: string): { all(...args: unknown[]): unknown[] }; close(): void };
  const visibleElsewhere = (k: string) => other.prepare("select k from t where k = ?").all(k).length === 1;

  before(async () => {
    db = createDb({ client: "sqlite", driver: "better-sqlite3", filename: file });
    await db.raw("create table t (k text primary key, part text)");
    await db.raw("create table parent (id integer primary key)");
    await db.raw(
      "create table child (id integer primary key, parent_id integer references parent(id) deferrable initially deferred)",
    );
    other = new Database(file);
  });
  after(async () => {
    other.close();
    await db.destroy();
    for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  });

  it("runs concurrent bodies in one transaction and answers each only after its COMMIT", async () => {
    const seen: boolean[] = [];
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        writeTransaction(db, async (trx) => {
          await exec(trx, "insert into t (k, part) values (?, ?)", [`c${i}`, "x"]);
          // The previous body's row: visible in this transaction, not yet committed.
          if (i > 0) {
            assert.equal((await exec(trx, "select k from t where k = ?", [`c${i - 1}`])).length, 1);
            seen.push(visibleElsewhere(`c${i - 1}`));
          }
          return i;
        }).then((value) => {
          assert.ok(visibleElsewhere(`c${i}`), `c${i} answered before it was committed`);
          return value;
        }),
      ),
    );
    assert.deepEqual(results, [...Array(10).keys()]);
    // Shared: no body's write was committed while the next one ran.
    assert.equal(seen.length, 9);
    assert.ok(seen.every((v) => v === false));
  });

  it("undoes only the body that throws; the others of its batch commit", async () => {
    const outcomes = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        writeTransaction(db, async (trx) => {
          await exec(trx, "insert into t (k, part) values (?, ?)", [`r${i}`, "first"]);
          if (i === 3) throw new Error("body 3 fails after its first write");
          // Body 5 breaks a constraint in its second statement.
          await exec(trx, "insert into t (k, part) values (?, ?)", [i === 5 ? "r0" : `r${i}b`, "second"]);
        }),
      ),
    );
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["fulfilled", "fulfilled", "fulfilled", "rejected", "fulfilled", "rejected", "fulfilled", "fulfilled"],
    );
    assert.match(String((outcomes[3] as PromiseRejectedResult).reason), /body 3 fails/);
    assert.match(String((outcomes[5] as PromiseRejectedResult).reason), /UNIQUE/);
    const keys = (await db("t").where("k", "like", "r%").orderBy("k").pluck("k")) as string[];
    assert.deepEqual(keys, ["r0", "r0b", "r1", "r1b", "r2", "r2b", "r4", "r4b", "r6", "r6b", "r7", "r7b"]);
  });

  it("runs a statement from outside after an open transaction, never inside it", async () => {
    /** A promise and the function that resolves it: the signals that order the steps below. */
    const signal = () => {
      let fire!: () => void;
      const fired = new Promise<void>((r) => (fire = r));
      return { fire, fired };
    };
    const undo = (what: string) => new Error(`undo ${what}`);
    await exec(db, "select 1"); // the connection is known to exec's lease-free path
    // A knex transaction and a shared batch, each held open (after a write) until the test lets
    // it go, then undone: statements issued meanwhile from outside must not ride along (and
    // vanish with them). The batch queues behind the knex transaction (one connection).
    const [knexOpen, knexGo, batchOpen, batchGo] = [signal(), signal(), signal(), signal()];
    // Their outcomes are checked from the start (each must fail with its own error, nothing else).
    const knexUndone = assert.rejects(
      db.transaction(async (trx) => {
        await exec(trx, "insert into t (k, part) values ('o1', 'x')");
        knexOpen.fire();
        await knexGo.fired;
        throw undo("knex");
      }),
      /^Error: undo knex$/,
    );
    const batchUndone = assert.rejects(
      writeTransaction(db, async (trx) => {
        await exec(trx, "insert into t (k, part) values ('o2', 'x')");
        batchOpen.fire();
        await batchGo.fired;
        throw undo("batch");
      }),
      /^Error: undo batch$/,
    );
    await knexOpen.fired;
    const readDuringKnex = exec(db, "select k from t where k in ('o1', 'o2') order by k");
    const write = exec(db, "insert into t (k, part) values ('o3', 'x')");
    knexGo.fire();
    await batchOpen.fired;
    const readDuringBatch = exec(db, "select k from t where k in ('o1', 'o2') order by k");
    batchGo.fire();
    await knexUndone;
    await batchUndone;
    assert.deepEqual(await readDuringKnex, []);
    assert.deepEqual(await readDuringBatch, []);
    await write;
    assert.ok(visibleElsewhere("o3"));
    assert.equal(visibleElsewhere("o1") || visibleElsewhere("o2"), false);
  });

  it("fails every body of a batch whose COMMIT fails, and the next batch still commits", async () => {
    // A deferred foreign key is checked at COMMIT: the whole batch is refused there.
    const outcomes = await Promise.allSettled([
      writeTransaction(db, (trx) => exec(trx, "insert into t (k, part) values ('f1', 'x')")),
      writeTransaction(db, (trx) => exec(trx, "insert into child (id, parent_id) values (1, 999)")),
      writeTransaction(db, (trx) => exec(trx, "insert into t (k, part) values ('f2', 'x')")),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ["rejected", "rejected", "rejected"],
    );
    for (const o of outcomes) assert.match(String((o as PromiseRejectedResult).reason), /FOREIGN KEY/);
    assert.equal(visibleElsewhere("f1") || visibleElsewhere("f2"), false);
    assert.equal((await db("child").count({ n: "*" }))[0].n, 0);
    await writeTransaction(db, (trx) => exec(trx, "insert into t (k, part) values ('f3', 'x')"));
    assert.ok(visibleElsewhere("f3"));
  });
});
