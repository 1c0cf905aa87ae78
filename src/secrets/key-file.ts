import {
  chmodSync,
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import path from "node:path";
import type { EncryptionConfig } from "../config.js";
import { generateEncryptionKey, Keyring, keyIdOf, keyText, parseKeyText } from "./cipher.js";

/** A key file that cannot be read or holds no valid key: the process must not start. */
export class KeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KeyFileError";
  }
}

const HEADER = [
  "# Roster encryption key (AES-256-GCM) for the secrets stored in the database next to this file:",
  "# SAML SP private keys, the OpenID signing key, webhook secrets and URLs. Keep a copy apart from",
  "# the database backups: without this key they cannot be decrypted. First line: the current key;",
  "# any further line: an older key still accepted for decryption (during a rotation).",
];

/**
 * The keys of a key file, current first. When the file is missing it is created with a new
 * key, readable by the owner only (0600, in a 0700 folder when the folder is new); an existing
 * one is made owner-only. Returns whether this call created it (the caller says so once).
 */
export function openKeyFile(file: string): { keys: Buffer[]; created: boolean } {
  let created = false;
  try {
    created = createKeyFile(file, [generateEncryptionKey()]);
    if (!created) chmodSync(file, 0o600);
  } catch (err) {
    throw new KeyFileError(`Cannot create or protect the encryption key file ${file}: ${describe(err)}`);
  }
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new KeyFileError(`Cannot read the encryption key file ${file}: ${describe(err)}`);
  }
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  const keys = lines.map(parseKeyText);
  if (keys.length === 0 || keys.some((k) => k === undefined))
    throw new KeyFileError(
      `The encryption key file ${file} must hold one key per line (32 random bytes, base64 or hex): ` +
        "restore it from your backup, or set ROSTER_ENCRYPTION_KEY",
    );
  return { keys: keys as Buffer[], created };
}

/**
 * Write a file only if it does not exist, with its whole content at once: written to a private
 * temporary file, then hard-linked into place (link fails if the name exists), so a process
 * starting at the same moment never reads a half-written key. Returns false when it existed.
 */
function createKeyFile(file: string, keys: Buffer[]): boolean {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true, mode: 0o700 });
  const tmp = writeTemp(file, keys);
  try {
    linkSync(tmp, file);
    syncDir(file);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Replace a key file's keys (current first) atomically: temporary file, fsync, rename. */
export function writeKeyFile(file: string, keys: Buffer[]): void {
  const tmp = writeTemp(file, keys);
  try {
    renameSync(tmp, file);
    syncDir(file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new KeyFileError(`Cannot write the encryption key file ${file}: ${describe(err)}`);
  }
}

function writeTemp(file: string, keys: Buffer[]): string {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  // 0600 at creation (not chmod after): the key is never readable by others, even briefly.
  const fd = openSync(tmp, "wx", 0o600);
  try {
    writeSync(fd, [...HEADER, ...keys.map(keyText), ""].join("\n"));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

function syncDir(file: string): void {
  const fd = openSync(path.dirname(path.resolve(file)), "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code} (${e.message})` : String(err);
}

/**
 * The keyring a process uses: ROSTER_ENCRYPTION_KEY, else the key file next to the SQLite
 * database (created on first start), else (an in-memory database) a key that lives as long as
 * the process, like the data; plus ROSTER_ENCRYPTION_KEY_PREVIOUS for decryption.
 */
export function loadKeyring(enc: EncryptionConfig): { keyring: Keyring; createdFile?: string } {
  if (enc.key) return { keyring: new Keyring(enc.key, enc.previous) };
  if (!enc.keyFile) return { keyring: new Keyring(generateEncryptionKey(), enc.previous) };
  const { keys, created } = openKeyFile(enc.keyFile);
  return {
    keyring: new Keyring(keys[0], [...keys.slice(1), ...enc.previous]),
    createdFile: created ? enc.keyFile : undefined,
  };
}

/** What the first start prints (once, outside the JSON log) when it generated the key file. */
export function keyFileNotice(file: string, key: Buffer): string {
  return [
    "",
    "============================================================================",
    " Roster generated an encryption key for the secrets it stores (SAML SP keys,",
    " the OpenID signing key, webhook secrets). It is in:",
    "",
    `   ${path.resolve(file)}   (key id ${keyIdOf(key)}, mode 0600)`,
    "",
    " Back this file up apart from the database: losing it loses those secrets",
    " (every SAML connection would need new SP keys, every webhook a new secret).",
    " To manage the key yourself, set ROSTER_ENCRYPTION_KEY to its value.",
    "============================================================================",
    "",
  ].join("\n");
}
