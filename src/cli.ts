import { Command } from "commander";
import { loadConfigOrExit, withDatabaseOrExit } from "./boot.js";
import { migrateLatest } from "./db/knex.js";
import { createDeps, type Deps } from "./deps.js";
import { AppError } from "./http/errors.js";
import { generateEncryptionKey, keyIdOf, keyText, SecretDecryptionError } from "./secrets/cipher.js";
import {
  prepareStoredSecrets,
  rotateEncryptionKey,
  type RotationResult,
  UnknownKeyError,
} from "./secrets/reseal.js";
import { createOperatorLink } from "./console/links.js";
import { createAdminKey, listAdminKeys, revokeAdminKey } from "./tenants/admin-keys.js";
import * as tenants from "./tenants/use-cases.js";
import { putPolicy } from "./sso/policy.js";

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
    await prepareStoredSecrets(deps);
    const { data, text } = await fn(deps);
    process.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
  } catch (err) {
    if (!(err instanceof AppError || err instanceof UnknownKeyError || err instanceof SecretDecryptionError))
      throw err;
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
  .command("sso-policy:off <slug>")
  .description("turn the tenant's Require SSO policy off (always allowed: the way back when its IdP fails)")
  .action((slug: string) =>
    withDeps(json(), async (deps) => {
      const p = await putPolicy(deps, slug, { requireSso: false }, "cli");
      return { data: p, text: `Require SSO is off for ${slug}` };
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
  .command("console:link")
  .description("print a single-use console sign-in URL for an operator (valid 10 minutes)")
  .action(() =>
    withDeps(json(), async (deps) => {
      const link = await createOperatorLink(deps);
      return {
        data: link,
        text: `${link.url}\n(single use; valid until ${link.expiresAt}; open it in your browser)`,
      };
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

program
  .command("secrets:generate-key")
  .description("print a new encryption key (for ROSTER_ENCRYPTION_KEY or ROSTER_ENCRYPTION_KEY_NEW)")
  .action(() => {
    const key = generateEncryptionKey();
    process.stdout.write(
      json() ? `${JSON.stringify({ key: keyText(key), keyId: keyIdOf(key) })}\n` : `${keyText(key)}\n`,
    );
  });

program
  .command("secrets:rotate-key")
  .description(
    "re-encrypt every stored secret under a new key: ROSTER_ENCRYPTION_KEY_NEW, else (key file) a generated one, else the current ROSTER_ENCRYPTION_KEY",
  )
  .action(() =>
    withDeps(json(), async (deps) => {
      const r = await rotateEncryptionKey(deps);
      return { data: r, text: rotationText(r) };
    }),
  );

function rotationText(r: RotationResult): string {
  const done = `re-encrypted ${r.reencrypted} of ${r.total} stored secrets: all are now under key ${r.keyId}`;
  if (r.source === "generated")
    return `${done}\nthe new key replaced the old one in ${r.keyFile}: back this file up again (the old copy decrypts nothing now), then restart Roster`;
  if (r.source === "ROSTER_ENCRYPTION_KEY_NEW")
    return `${done}\nnow set ROSTER_ENCRYPTION_KEY to this new key on every process (and the old one as ROSTER_ENCRYPTION_KEY_PREVIOUS until all have restarted), then remove ROSTER_ENCRYPTION_KEY_NEW`;
  return `${done}\nno secret is left under another key: ROSTER_ENCRYPTION_KEY_PREVIOUS can be removed`;
}

program.parseAsync(process.argv).catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
