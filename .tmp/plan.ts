import knex from "knex";
import { migrationSource } from "../migrations/index.ts";
const db = knex({ client: "better-sqlite3", connection: { filename: ":memory:" }, useNullAsDefault: true });
await db.migrate.latest({ migrationSource });
const r = await db.raw(`explain query plan update jobs set state = 'running' where id in (
       select id from jobs
       where queue in ('urgent')
         and ((state = 'pending' and run_at <= '2026') or (state = 'running' and locked_until < '2026'))
       order by id limit 2)`);
console.log(r);
const r2 = await db.raw(`explain query plan select id from jobs where queue in ('urgent') and state = 'pending' and run_at <= '2026' and tenant_id = 'x' order by id limit 2`);
console.log(r2);
await db.destroy();
