import type { Db } from "../db/knex.js";
import { JOB_CATALOG } from "./catalog.js";
import { notifyAfterCommit } from "./notify.js";
import { insertJobs } from "./store.js";
import type { JobDefinition, JobSpec } from "./types.js";

/** The named jobs this process knows, and the one way to enqueue them. */
export class JobRegistry {
  private readonly defs = new Map<string, JobDefinition>();

  /** Register a job; names are unique. */
  define<P>(def: JobDefinition<P>): this {
    if (this.defs.has(def.name)) throw new Error(`job '${def.name}' defined twice`);
    const fixed = (JOB_CATALOG as Record<string, { queue: string }>)[def.name];
    if (fixed && fixed.queue !== def.queue)
      throw new Error(`job '${def.name}' must run on queue '${fixed.queue}' (see jobs/catalog.ts)`);
    this.defs.set(def.name, def as JobDefinition);
    return this;
  }

  /** The definition of a job name, or undefined. */
  get(name: string): JobDefinition | undefined {
    return this.defs.get(name);
  }

  /** Enqueue jobs in the caller's transaction, so they commit (or vanish) with the change. */
  async enqueue(db: Db, specs: JobSpec[], now: Date): Promise<void> {
    if (specs.length === 0) return;
    const rows = specs.map((s) => {
      const def = this.defs.get(s.name);
      if (!def) throw new Error(`unknown job '${s.name}'`);
      return { ...s, queue: def.queue, maxAttempts: def.maxAttempts };
    });
    await insertJobs(db, rows, now);
    notifyAfterCommit(
      db,
      rows.map((r) => r.queue),
    );
  }
}

/** Exponential backoff with jitter: base·2^(attempt-1), capped, scaled by a random 50–100%. */
export function backoffMs(attempt: number, baseMs = 1000, capMs = 3_600_000): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exp * (0.5 + Math.random() * 0.5));
}
