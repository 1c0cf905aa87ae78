import { Command } from "commander";
import { loadConfigOrExit, withDatabaseOrExit } from "./boot.js";
import { migrateLatest } from "./db/knex.js";
import { createDeps, type Deps } from "./deps.js";
import { AppError } from "./http/errors.js";
import { createAdminKey, listAdminKeys, revokeAdminKey } from "./tenants/admin-keys.js";
import * as tenants from "./tenants/use-cases.js";

/** Run a command with migrated deps; print JSON or text; AppErrors exit 1 with their message. */
async function withDeps(
  json: boolean,
  fn: (deps: Deps) => Promise<{ data: unknown; text: string }>,
): Promise<void> {
  const config = loadConfigOrExit();
  const deps = await withDatabaseOrExit(config, async () => {
    const d = createDeps(config, { role: "cli" });
    await migrateLatest(d.db);
    return d;
  });
  try {
    const { data, text } = await fn(deps);
    process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    process.stderr.write(
      json
        ? `${JSON.stringify({ error: { code: err.code, message: err.message } })}\n`
        : `error: ${err.message}\n`,
    );
    process.exitCode = 1;
  } finally {
    await deps.close();
  }
}

function table(rows: Record<string, unknown>[], cols: string[]): string {
  if (rows.length === 0) return "(none)";
  const cell = (v: unknown) => (v === null || v === undefined ? "-" : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(cols), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join("\n");
}

const program = new Command("roster")
  .description("Roster operator CLI")
  .option("--json", "machine-readable output", false);
const json = () => program.opts<{ json: boolean }>().json;

program
  .command("migrate")
  .description("apply pending database migrations")
  .action(() =>
    withDeps(json(), async (deps) => {
      const applied = await migrateLatest(deps.db);
      return {
        data: { applied },
        text: applied.length ? `applied: ${applied.join(", ")}` : "database is up to date",
      };
    }),
  );

program
  .command("tenant:create <slug>")
  .description("create a tenant")
  .requiredOption("--name <name>", "display name")
  .action((slug: string, o: { name: string }) =>
    withDeps(json(), async (deps) => {
      const t = await tenants.createTenant(deps, { slug, name: o.name });
      return { data: t, text: `created tenant ${t.slug} (${t.id})` };
    }),
  );

program
  .command("tenant:list")
  .description("list tenants")
  .action(() =>
    withDeps(json(), async (deps) => {
      const list = await tenants.listTenants(deps);
      return { data: { tenants: list }, text: table(list as any, ["slug", "name", "id", "createdAt"]) };
    }),
  );

program
  .command("scim-token:create <slug>")
  .description("create a SCIM token for a tenant (printed once)")
  .requiredOption("--name <name>", "what the token is for, e.g. 'Entra ID'")
  .option("--expires-at <iso>", "ISO 8601 expiry")
  .action((slug: string, o: { name: string; expiresAt?: string }) =>
    withDeps(json(), async (deps) => {
      const t = await tenants.createScimToken(deps, slug, {
        name: o.name,
        ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}),
      });
      return {
        data: t,
        text: `${t.token}\n(id ${t.id}; shown only now — store it in your IdP's SCIM settings)`,
      };
    }),
  );

program
  .command("scim-token:list <slug>")
  .description("list a tenant's SCIM tokens (no secrets)")
  .action((slug: string) =>
    withDeps(json(), async (deps) => {
      const list = (await tenants.listScimTokens(deps, slug)).map(({ tenantId: _t, ...t }) => t);
      return {
        data: { scimTokens: list },
        text: table(list as any, [
          "id",
          "name",
          "prefix",
          "createdAt",
          "expiresAt",
          "revokedAt",
          "lastUsedAt",
        ]),
      };
    }),
  );

program
  .command("scim-token:revoke <slug> <id>")
  .description("revoke a SCIM token at once")
  .action((slug: string, id: string) =>
    withDeps(json(), async (deps) => {
      const t = await tenants.revokeScimToken(deps, slug, id);
      const { tenantId: _t, ...token } = t;
      return { data: token, text: `revoked ${t.id} (${t.name})` };
    }),
  );

program
  .command("admin-key:create")
  .description("create an admin API key (printed once)")
  .requiredOption("--name <name>", "who or what uses it")
  .action((o: { name: string }) =>
    withDeps(json(), async (deps) => {
      const k = await createAdminKey(deps.db, o.name, deps.now());
      return { data: k, text: `${k.token}\n(id ${k.id}; shown only now)` };
    }),
  );

program
  .command("admin-key:list")
  .description("list admin keys (no secrets)")
  .action(() =>
    withDeps(json(), async (deps) => {
      const list = await listAdminKeys(deps.db);
      return {
        data: { adminKeys: list },
        text: table(list as any, ["id", "name", "prefix", "createdAt", "revokedAt"]),
      };
    }),
  );

program
  .command("admin-key:revoke <id>")
  .description("revoke an admin key")
  .action((id: string) =>
    withDeps(json(), async (deps) => {
      if (!(await revokeAdminKey(deps.db, id, deps.now())))
        throw new AppError(404, "NOT_FOUND", `No active admin key ${id}`);
      return { data: { id, revoked: true }, text: `revoked admin key ${id}` };
    }),
  );

program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
