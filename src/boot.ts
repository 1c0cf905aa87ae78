import v8 from "node:v8";
import { ConfigError, type Config, loadConfig } from "./config.js";
import { KeyFileError, keyFileNotice, loadKeyring } from "./secrets/key-file.js";
import { describeDatabaseError, maskDatabaseUrl } from "./db/open-errors.js";

/**
 * Exit code of an API process of a cluster that cannot start (port taken, database unusable):
 * the primary stops instead of restarting it forever (sysexits' EX_CONFIG).
 */
export const CANNOT_START = 78;

/** End a process that cannot start: one line on stderr saying what and what to do, no stack. */
export function exitCannotStart(message: string, code = 1): never {
  process.stderr.write(`roster: ${message}\n`);
  process.exit(code);
}

/**
 * Run a process's first database work (opening, migrating). A database that cannot be opened
 * (PostgreSQL down or unknown, a missing database, a wrong password, a file that is not SQLite,
 * a folder, no permission) ends the process with one line naming DATABASE_URL (password masked)
 * and the cause; anything else is rethrown as it is.
 */
export async function withDatabaseOrExit<T>(config: Config, fn: () => Promise<T>, code = 1): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const cause = describeDatabaseError(err, config.database);
    if (!cause) throw err;
    exitCannotStart(
      `cannot open the database DATABASE_URL=${maskDatabaseUrl(config.database)}: ${cause}`,
      code,
    );
  }
}

/**
 * Entry points' config loading: print every problem and exit 1 before anything starts. Without
 * ROSTER_ENCRYPTION_KEY on SQLite, the first process to start generates the key file and says
 * once where it is; an unreadable or invalid key file stops the process here.
 */
export function loadConfigOrExit(): Config {
  try {
    const config = loadConfig(process.env);
    const { keyring, createdFile } = loadKeyring(config.encryption);
    if (createdFile) process.stderr.write(keyFileNotice(createdFile, keyring.current.key));
    return config;
  } catch (err) {
    if (err instanceof ConfigError || err instanceof KeyFileError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}

/**
 * V8 lets the old generation grow to four times what survives a full collection when garbage
 * comes fast (a busy SCIM sync): ~50 MB of live objects held ~180 MB of heap. Growing by half
 * instead keeps a 100,000-user sync's server near 260 MB (not ~365), at no CPU cost beyond
 * run-to-run noise in paired runs. A --heap-growing-percent given in NODE_OPTIONS or on the
 * command line wins.
 */
export function keepHeapCompact(): void {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? "").split(/\s+/)];
  if (given.some((a) => /^--heap[-_]growing[-_]percent/.test(a))) return;
  v8.setFlagsFromString("--heap-growing-percent=50");
}
