import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import type { DatabaseConfig } from "../config.js";

/** DATABASE_URL as it may be printed: the password (in the userinfo or a query parameter) masked. */
export function maskDatabaseUrl(config: DatabaseConfig): string {
  if (config.client === "sqlite") return `sqlite:${config.filename}`;
  try {
    const url = new URL(config.url);
    if (url.password) url.password = "***";
    if (url.searchParams.has("password")) url.searchParams.set("password", "***");
    return url.toString().replace("password=%2A%2A%2A", "password=***");
  } catch {
    return "postgres://(unparsable URL)";
  }
}

/** A node/driver error's code, when it has one. */
const codeOf = (err: unknown): string | undefined => {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
};

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** stat, or undefined when the path is missing or cannot be looked at (ENOTDIR, EACCES). */
function statOf(p: string) {
  try {
    return statSync(p);
  } catch {
    return undefined;
  }
}

/** The nearest ancestor of `file` that can be looked at (where a missing folder would be created). */
function existingParent(file: string): string {
  let dir = path.dirname(file);
  while (statOf(dir) === undefined && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
}

function writable(p: string): boolean {
  try {
    accessSync(p, constants.W_OK | constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

function describeSqlite(err: unknown, filename: string): string | undefined {
  const file = path.resolve(filename);
  const code = codeOf(err);
  const stat = statOf(file);
  if (code === "SQLITE_NOTADB")
    return `${file} is not an SQLite database (another kind of file is at that path)`;
  if (code === "SQLITE_CORRUPT") return `${file} is a corrupt SQLite database`;
  if (code === "SQLITE_READONLY" || code?.startsWith("SQLITE_READONLY_"))
    return `${file} is read-only: the process needs write permission on it and on its folder (SQLite writes -wal and -shm files beside it)`;
  if (
    code === "SQLITE_CANTOPEN" ||
    code === "EACCES" ||
    code === "EPERM" ||
    code === "ENOTDIR" ||
    code === "EEXIST"
  ) {
    if (stat?.isDirectory()) return `${file} is a folder, not a database file`;
    const parent = existingParent(file);
    if (!statOf(parent)?.isDirectory())
      return `${parent} is a file, so no folder can be created there for the database`;
    if (stat && !writable(file)) return `no permission to read and write ${file}`;
    if (!writable(parent)) return `no permission to create files in ${parent}`;
    return `cannot open ${file} (${messageOf(err)})`;
  }
  return undefined;
}

// PostgreSQL SQLSTATE classes that mean "cannot get in" rather than "a statement failed".
const PG_CODES: Record<string, string> = {
  "3D000": "the database does not exist: create it (e.g. createdb) or fix the name in DATABASE_URL",
  "28P01": "password authentication failed: check the user and password in DATABASE_URL",
  "28000": "the server refused this user (check pg_hba.conf and the user in DATABASE_URL)",
  "42501": "the user lacks a privilege Roster needs (it creates and alters its tables)",
  "53300": "the server has no free connection slot (too many connections)",
  "57P03": "the server is starting up or shutting down; try again shortly",
};

function describePostgres(err: unknown, url: string): string | undefined {
  const code = codeOf(err);
  let where = "the server";
  try {
    const u = new URL(url);
    where = `${u.hostname || "localhost"}:${u.port || "5432"}`;
  } catch {}
  if (code && PG_CODES[code]) return `${PG_CODES[code]} (${messageOf(err)})`;
  if (code === "ECONNREFUSED")
    return `connection refused at ${where}: is PostgreSQL running and listening there?`;
  if (code === "ENOTFOUND" || code === "EAI_AGAIN")
    return `the host of ${where} is not known (DNS lookup failed)`;
  if (code === "ETIMEDOUT" || code === "EHOSTUNREACH" || code === "ENETUNREACH")
    return `${where} cannot be reached (${code}): check the host, port and firewall`;
  if (code === "ECONNRESET") return `${where} closed the connection (is it PostgreSQL? does it need SSL?)`;
  if ((err as Error)?.name === "KnexTimeoutError") return `no connection to ${where} within the timeout`;
  if (/SSL|certificate/i.test(messageOf(err)))
    return `the TLS connection to ${where} failed: ${messageOf(err)}`;
  // Other connection-level SQLSTATE classes: 08 (connection exception), 28 (authorization).
  if (code && /^(08|28)/.test(code)) return messageOf(err);
  return undefined;
}

/**
 * The cause, in words, of an error from opening or first using the database; undefined when
 * the error is not about reaching or opening it (then the caller reports it as it is).
 */
export function describeDatabaseError(err: unknown, config: DatabaseConfig): string | undefined {
  return config.client === "sqlite"
    ? describeSqlite(err, config.filename)
    : describePostgres(err, config.url);
}
