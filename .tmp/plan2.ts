import knex from "knex";
import { migrationSource } from "../migrations/index.ts";
async function main() {
const db = knex({ client: "better-sqlite3", connection: { filename: ":memory:" }, useNullAsDefault: true });
await db.migrate.latest({ migrationSource });
const r = await db.raw(`explain query plan with picked(id) as (
       select id from (select id from jobs where state = 'pending' and queue in ('urgent') and run_at <= 'x'
         order by id limit 2) due
       union all
       select id from (select id from jobs where state = 'running' and queue in ('urgent') and locked_until < 'x'
         order by id limit 2) expired
     )
     update jobs set state = 'r' where id in (select id from picked order by id limit 2)`);
for (const x of r) console.log(x.detail);
const r3 = await db.raw(`explain query plan with recursive t(tid) as (
       select min(tenant_id) from jobs where queue in ('urgent') and state = 'pending'
       union all
       select (select min(tenant_id) from jobs where queue in ('urgent') and state = 'pending' and tenant_id > t.tid)
       from t where t.tid is not null
     )
     select tid from t where tid is not null`);
for (const x of r3) console.log(x.detail);
await db.destroy();
}
main();
