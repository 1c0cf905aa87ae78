import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";

/**
 * Secrets at rest: AES-256-GCM (NIST SP 800-38D) under a 256-bit key, with a fresh 96-bit IV per
 * value and the value's place (table, column, row) as additional authenticated data, so a
 * ciphertext copied to another row or column does not decrypt. Stored as
 *
 *   enc:v1:<key id>:<iv>:<ciphertext + 16-byte tag>        (base64url parts)
 *
 * The key id names which key encrypted it (a rotation leaves values under several keys for a
 * while); it is a truncated SHA-256 of the key, which tells nothing about the key itself.
 */
export const SEALED_PREFIX = "enc:";
const VERSION = "v1";
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Key length of AES-256. */
export const KEY_BYTES = 32;

/** One encryption key and its id. */
export interface EncryptionKey {
  id: string;
  key: Buffer;
}

/** Where a sealed value lives: the additional authenticated data of its ciphertext. */
export interface SealedPlace {
  /** `table.column`, e.g. `webhooks.secret`. */
  field: string;
  /** The row's identity (primary key values, tenant id first where there is one). */
  row: readonly string[];
}

/** A value that cannot be decrypted: never answered with the stored text instead. */
export class SecretDecryptionError extends Error {
  readonly code = "SECRET_DECRYPTION_FAILED";
  constructor(place: SealedPlace, reason: string) {
    super(`Cannot decrypt ${place.field} of row ${place.row.join("/")}: ${reason}`);
    this.name = "SecretDecryptionError";
  }
}

/** The id of a key: 8 base64url characters of SHA-256 over a label and the key. */
export function keyIdOf(key: Buffer): string {
  return createHash("sha256")
    .update("roster encryption key id\0")
    .update(key)
    .digest("base64url")
    .slice(0, 8);
}

/** A key from 32 bytes. */
export function encryptionKey(key: Buffer): EncryptionKey {
  if (key.length !== KEY_BYTES) throw new Error(`an encryption key is ${KEY_BYTES} bytes`);
  return { id: keyIdOf(key), key };
}

/** A new random key. */
export function generateEncryptionKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/**
 * Parse key text: 32 bytes as 64 hex digits, or as base64 / base64url (with or without padding).
 * Returns undefined when the text is not one of these (the caller names the variable or file).
 */
export function parseKeyText(text: string): Buffer | undefined {
  const t = text.trim();
  let key: Buffer | undefined;
  if (/^[0-9a-fA-F]{64}$/.test(t)) key = Buffer.from(t, "hex");
  else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(t)) key = Buffer.from(t, "base64"); // accepts both alphabets
  // A placeholder (all zeros, "aaaa…") is not a random key: 32 random bytes have ~30 distinct values.
  if (!key || key.length !== KEY_BYTES || new Set(key).size < 8) return undefined;
  return key;
}

/** Key text as written to the key file and printed by `secrets:generate-key`. */
export function keyText(key: Buffer): string {
  return key.toString("base64");
}

function aad(header: string, place: SealedPlace): Buffer {
  return Buffer.from(`${header}|${place.field}|${place.row.join("/")}`, "utf8");
}

/** The current key encrypts; every key (current and previous ones) decrypts. */
export class Keyring {
  readonly current: EncryptionKey;
  private readonly byId = new Map<string, EncryptionKey>();

  constructor(current: Buffer, previous: readonly Buffer[] = []) {
    this.current = encryptionKey(current);
    for (const k of [this.current, ...previous.map(encryptionKey)])
      if (!this.byId.has(k.id)) this.byId.set(k.id, k);
  }

  /** Ids of every key this keyring decrypts with, current first. */
  get ids(): string[] {
    return [...this.byId.keys()];
  }

  /** Every key this keyring decrypts with, current first (a rotation's old keys). */
  get keys(): Buffer[] {
    return [...this.byId.values()].map((k) => k.key);
  }

  /** Encrypt a value for its place under the current key. */
  seal(plaintext: string, place: SealedPlace): string {
    const iv = randomBytes(IV_BYTES);
    const header = `enc:${VERSION}:${this.current.id}`;
    const cipher = createCipheriv("aes-256-gcm", this.current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(aad(header, place));
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `${header}:${iv.toString("base64url")}:${body.toString("base64url")}`;
  }

  /** Decrypt a stored value for its place; throws SecretDecryptionError, never returns the stored text. */
  open(stored: string, place: SealedPlace): string {
    if (!stored.startsWith(SEALED_PREFIX))
      throw new SecretDecryptionError(
        place,
        "it is stored in clear (Roster encrypts clear values when it starts: restart it, or run `npm run migrate`)",
      );
    const parts = stored.split(":");
    if (parts.length !== 5 || parts[1] !== VERSION)
      throw new SecretDecryptionError(place, `not an enc:${VERSION} value (written by a newer Roster?)`);
    const [, , id, ivText, bodyText] = parts;
    const key = this.byId.get(id);
    if (!key)
      throw new SecretDecryptionError(
        place,
        `it was encrypted with key ${id}, which is not configured (configured: ${this.ids.join(", ")}): ` +
          "set that key as ROSTER_ENCRYPTION_KEY, or as ROSTER_ENCRYPTION_KEY_PREVIOUS during a rotation",
      );
    const iv = Buffer.from(ivText, "base64url");
    const body = Buffer.from(bodyText, "base64url");
    if (iv.length !== IV_BYTES || body.length < TAG_BYTES)
      throw new SecretDecryptionError(place, "the value is truncated");
    try {
      const decipher = createDecipheriv("aes-256-gcm", key.key, iv, { authTagLength: TAG_BYTES });
      decipher.setAAD(aad(`enc:${VERSION}:${id}`, place));
      decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
      return Buffer.concat([
        decipher.update(body.subarray(0, body.length - TAG_BYTES)),
        decipher.final(),
      ]).toString("utf8");
    } catch {
      throw new SecretDecryptionError(
        place,
        `authentication failed under key ${id}: the value was altered or copied from another row or column`,
      );
    }
  }

  /** Whether a stored value is already encrypted under the current key. */
  isCurrent(stored: string): boolean {
    return stored.startsWith(`enc:${VERSION}:${this.current.id}:`);
  }
}
