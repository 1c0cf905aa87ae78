import type { Knex } from "knex";
import { loadConfig } from "./src/config.js";
import { migrationSource } from "./migrations/index.js";

// For the knex CLI (`node --import tsx node_modules/knex/bin/cli.js migrate:status`);
// Roster itself migrates through `npm run migrate` and at start.
const config = loadConfig(process.env);
const db = config.database;

const knexConfig: Knex.Config =
  db.client === "sqlite"
    ? {
        client: "sqlite3",
        connection: { filename: db.filename },
        useNullAsDefault: true,
        migrations: { migrationSource },
      }
    : { client: "pg", connection: db.url, migrations: { migrationSource } };

export default knexConfig;
