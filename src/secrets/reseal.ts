import type { Knex } from "knex";
import type { Logger } from "pino";
import type { Config } from "../config.js";
import { generateEncryptionKey, Keyring, SEALED_PREFIX } from "./cipher.js";
import { openKeyFile, writeKeyFile } from "./key-file.js";
import { keyringOf, SEALED_FIELDS, type SealedField } from "./sealed.js";
import { listStoredSecrets, replaceStoredSecret } from "./store.js";

/**
 * Encrypt under `keyring`'s current key every sealed value that is in clear or (`all`) under
 * another key, in one transaction: all of them or none. A value that does not decrypt stops
 * everything with its SecretDecryptionError (row named). Returns how many values changed, and
 * how many sealed values there are.
 */
async function reseal(
  db: Knex,
  keyring: Keyring,
  scope: "clear" | "all",
): Promise<{ changed: number; total: number }> {
  return db.transaction(async (trx) => {
    let changed = 0;
    let total = 0;
    for (const [field, spec] of Object.entries(SEALED_FIELDS) as [
      SealedField,
      (typeof SEALED_FIELDS)[SealedField],
    ][]) {
      for (const stored of await listStoredSecrets(trx, spec, { clearOnly: scope === "clear", lock: true })) {
        total++;
        if (keyring.isCurrent(stored.value)) continue;
        const place = { field, row: stored.row };
        const plaintext = stored.value.startsWith(SEALED_PREFIX)
          ? keyring.open(stored.value, place)
          : stored.value;
        changed += await replaceStoredSecret(trx, spec, stored, keyring.seal(plaintext, place));
      }
    }
    return { changed, total };
  });
}

/** Stored secrets are encrypted under keys this process does not have: it must not start. */
export class UnknownKeyError extends Error {
  readonly code = "UNKNOWN_ENCRYPTION_KEY";
  constructor(unknown: Map<string, number>, keyring: Keyring) {
    const list = [...unknown].map(([id, n]) => `${n} under key ${id}`).join(", ");
    super(
      `The database holds secrets encrypted with keys this process does not have (${list}; ` +
        `configured: ${keyring.ids.join(", ")}). Set ROSTER_ENCRYPTION_KEY to the key they were written ` +
        "with (or add it to ROSTER_ENCRYPTION_KEY_PREVIOUS during a rotation); with SQLite and no " +
        "ROSTER_ENCRYPTION_KEY, restore encryption.key next to the database from your backup.",
    );
    this.name = "UnknownKeyError";
  }
}

async function assertKeysKnown(db: Knex, keyring: Keyring): Promise<void> {
  const unknown = new Map<string, number>();
  for (const spec of Object.values(SEALED_FIELDS))
    for (const { value } of await listStoredSecrets(db, spec, { clearOnly: false, lock: false })) {
      if (!value.startsWith(SEALED_PREFIX)) continue;
      const id = value.split(":")[2] ?? "";
      if (!keyring.ids.includes(id)) unknown.set(id, (unknown.get(id) ?? 0) + 1);
    }
  if (unknown.size > 0) throw new UnknownKeyError(unknown, keyring);
}

/**
 * At every start, after the migrations: refuse to go on when stored secrets are under a key
 * this process lacks (a wrong ROSTER_ENCRYPTION_KEY on one process, a lost key file replaced by
 * a new one), so nothing is written under the wrong key; then encrypt the secrets an older
 * Roster stored in clear (idempotent: each value is replaced only if still clear, so concurrent
 * starts are harmless).
 */
export async function prepareStoredSecrets(deps: { db: Knex; logger: Logger }): Promise<number> {
  await assertKeysKnown(deps.db, keyringOf(deps.db));
  const { changed } = await reseal(deps.db, keyringOf(deps.db), "clear");
  if (changed > 0) deps.logger.info({ encrypted: changed }, "secrets stored in clear were encrypted");
  return changed;
}

/** What `secrets:rotate-key` did. */
export interface RotationResult {
  keyId: string;
  /** Where the new key came from. */
  source: "ROSTER_ENCRYPTION_KEY_NEW" | "generated" | "ROSTER_ENCRYPTION_KEY";
  /** The key file that now holds the new key (SQLite without ROSTER_ENCRYPTION_KEY). */
  keyFile?: string;
  reencrypted: number;
  total: number;
}

/**
 * Re-encrypt every secret under a new key: ROSTER_ENCRYPTION_KEY_NEW when set; otherwise, with
 * a key file, a generated key written to that file; otherwise the current ROSTER_ENCRYPTION_KEY
 * (the last step of a rotation: values under ROSTER_ENCRYPTION_KEY_PREVIOUS move to it). Old
 * values decrypt with the configured keys. With a key file, the file first holds the new key
 * and the old ones (a crash at any point leaves a file that decrypts every value), and only the
 * new key once the database committed.
 */
export async function rotateEncryptionKey(deps: { db: Knex; config: Config }): Promise<RotationResult> {
  const configured = keyringOf(deps.db);
  const enc = deps.config.encryption;
  const source: RotationResult["source"] = enc.next
    ? "ROSTER_ENCRYPTION_KEY_NEW"
    : enc.keyFile
      ? "generated"
      : "ROSTER_ENCRYPTION_KEY";
  const target = enc.next ?? (enc.keyFile ? generateEncryptionKey() : configured.current.key);
  const keyring = new Keyring(target, configured.keys);
  const file = enc.keyFile;
  const before = file ? openKeyFile(file).keys : [];
  if (file) writeKeyFile(file, [target, ...before]);
  let result: { changed: number; total: number };
  try {
    result = await reseal(deps.db, keyring, "all");
  } catch (err) {
    // Nothing was re-encrypted: the file goes back to what it was.
    if (file) writeKeyFile(file, before);
    throw err;
  }
  if (file) writeKeyFile(file, [target]);
  const { changed, total } = result;
  return { keyId: keyring.current.id, source, keyFile: enc.keyFile, reencrypted: changed, total };
}
