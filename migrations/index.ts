import type { Knex } from "knex";
import * as m0001 from "./0001-foundation.js";
import * as m0002 from "./0002-directory.js";
import * as m0003 from "./0003-roles-events.js";
import * as m0004 from "./0004-sso.js";
import * as m0005 from "./0005-revocation.js";
import * as m0006 from "./0006-pending-role-syncs.js";
import * as m0007 from "./0007-role-user-indexes.js";
import * as m0008 from "./0008-input-hardening.js";
import * as m0009 from "./0009-secrets-at-rest.js";
import * as m0010 from "./0010-sso-bounds.js";
import * as m0011 from "./0011-console.js";
import * as m0012 from "./0012-domains-sso-policy.js";
import * as m0013 from "./0013-oidc-connections.js";
import * as m0014 from "./0014-logs-audit.js";
import * as m0015 from "./0015-member-search.js";
import * as m0017 from "./0017-console-admin-token-fingerprint.js";

interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

// Listed in code (not read from a folder) so names carry no .ts/.js extension and the same
// database works under tsx and compiled builds (knex's "migration directory is corrupt" trap).
const migrations: Migration[] = [
  { name: "0001-foundation", ...m0001 },
  { name: "0002-directory", ...m0002 },
  { name: "0003-roles-events", ...m0003 },
  { name: "0004-sso", ...m0004 },
  { name: "0005-revocation", ...m0005 },
  { name: "0006-pending-role-syncs", ...m0006 },
  { name: "0007-role-user-indexes", ...m0007 },
  { name: "0008-input-hardening", ...m0008 },
  { name: "0009-secrets-at-rest", ...m0009 },
  { name: "0010-sso-bounds", ...m0010 },
  { name: "0011-console", ...m0011 },
  { name: "0012-domains-sso-policy", ...m0012 },
  { name: "0013-oidc-connections", ...m0013 },
  { name: "0014-logs-audit", ...m0014 },
  { name: "0015-member-search", ...m0015 },
  { name: "0017-console-admin-token-fingerprint", ...m0017 },
];

/** knex migration source over the static list above. */
export const migrationSource: Knex.MigrationSource<Migration> = {
  getMigrations: async () => migrations,
  getMigrationName: (m) => m.name,
  getMigration: async (m) => m,
};
