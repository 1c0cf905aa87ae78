import { type Db, dialectOf } from "../db/knex.js";
import { SEALED_PREFIX } from "./cipher.js";
import type { SealedFieldSpec } from "./sealed.js";

/** One stored value of a sealed column with the identity of its row. */
export interface StoredSecret {
  row: string[];
  value: string;
}

/**
 * The values of a sealed column: all of them, or (`clearOnly`) those not encrypted yet. With
 * `lock`, on PostgreSQL, the rows stay locked until the caller's transaction ends, so a
 * concurrent write cannot slip a value under another key in between.
 */
export async function listStoredSecrets(
  db: Db,
  f: SealedFieldSpec,
  opts: { clearOnly: boolean; lock: boolean },
): Promise<StoredSecret[]> {
  const q = db(f.table)
    .select([...f.key, f.column])
    .whereNotNull(f.column)
    .orderBy([...f.key]);
  // "enc:" has no LIKE wildcard in it.
  if (opts.clearOnly) q.andWhere(f.column, "not like", `${SEALED_PREFIX}%`);
  if (opts.lock && dialectOf(db) === "pg") q.forUpdate();
  return (await q).map((r: any) => ({ row: f.key.map((k) => String(r[k])), value: r[f.column] }));
}

/** Replace a stored value if the row still holds `previous` (compare and set); 1 if replaced. */
export async function replaceStoredSecret(
  db: Db,
  f: SealedFieldSpec,
  s: StoredSecret,
  next: string,
): Promise<number> {
  const where = Object.fromEntries(f.key.map((k, i) => [k, s.row[i]]));
  return db(f.table)
    .where(where)
    .andWhere(f.column, s.value)
    .update({ [f.column]: next });
}
