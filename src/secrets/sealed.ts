import type { Knex } from "knex";
import type { Db } from "../db/knex.js";
import type { Keyring } from "./cipher.js";

/**
 * Every column holding a secret Roster must read back (so it cannot be hashed): each is stored
 * encrypted (cipher.ts), with its table, column and row identity bound to the ciphertext. A new
 * secret column (an upstream OIDC client secret, say) is one more entry here, then
 * sealValue/openValue in its store: the start-up sweep and `secrets:rotate-key` cover it.
 */
export const SEALED_FIELDS = {
  /** SAML SP private keys (PEM): sign AuthnRequests, decrypt encrypted assertions. */
  "saml_connections.sp_signing_key": {
    table: "saml_connections",
    column: "sp_signing_key",
    key: ["tenant_id", "id"],
  },
  "saml_connections.sp_encryption_key": {
    table: "saml_connections",
    column: "sp_encryption_key",
    key: ["tenant_id", "id"],
  },
  /** Upstream OpenID Connect client secrets (Roster sends them to the provider's token endpoint). */
  "oidc_connections.client_secret": {
    table: "oidc_connections",
    column: "client_secret",
    key: ["tenant_id", "id"],
  },
  /** The OpenID Provider's id_token signing key (private JWK). */
  "signing_keys.private_jwk": { table: "signing_keys", column: "private_jwk", key: ["kid"] },
  /** Webhook HMAC secrets, current and previous (they must be kept to sign). */
  "webhooks.secret": { table: "webhooks", column: "secret", key: ["tenant_id", "id"] },
  "webhooks.previous_secret": { table: "webhooks", column: "previous_secret", key: ["tenant_id", "id"] },
  /** Webhook URLs: Slack, Teams or Discord incoming-webhook URLs are bearer credentials themselves. */
  "webhooks.url": { table: "webhooks", column: "url", key: ["tenant_id", "id"] },
} as const satisfies Record<string, SealedFieldSpec>;

/** A sealed column: its table, column and the columns that identify a row. */
export interface SealedFieldSpec {
  table: string;
  column: string;
  key: readonly string[];
}

/** The name of a sealed column, `table.column`. */
export type SealedField = keyof typeof SEALED_FIELDS;

// Keyed by the knex client's config object, which a knex instance shares with every transaction
// made from it, nested ones included (knex's userParams are lost in nested transactions).
const keyrings = new WeakMap<object, Keyring>();

/** Give a database handle its keyring (createDeps does, once per knex instance). */
export function attachKeyring(db: Knex, keyring: Keyring): void {
  keyrings.set(db.client.config, keyring);
}

/** The keyring of a database handle or of a transaction on it. */
export function keyringOf(db: Db): Keyring {
  const keyring = keyrings.get(db.client.config);
  if (!keyring) throw new Error("no encryption keyring attached to this database handle (see createDeps)");
  return keyring;
}

/** Encrypt a secret for its column and row (store functions call this on every write). */
export function sealValue(db: Db, field: SealedField, row: readonly string[], plaintext: string): string {
  return keyringOf(db).seal(plaintext, { field, row });
}

/** Decrypt a stored secret (store functions call this on every read); throws SecretDecryptionError. */
export function openValue(db: Db, field: SealedField, row: readonly string[], stored: string): string {
  return keyringOf(db).open(stored, { field, row });
}

/** sealValue for a nullable column. */
export function sealNullable(
  db: Db,
  field: SealedField,
  row: readonly string[],
  v: string | null,
): string | null {
  return v === null ? null : sealValue(db, field, row, v);
}

/** openValue for a nullable column. */
export function openNullable(
  db: Db,
  field: SealedField,
  row: readonly string[],
  v: string | null | undefined,
): string | null {
  return v === null || v === undefined ? null : openValue(db, field, row, v);
}
