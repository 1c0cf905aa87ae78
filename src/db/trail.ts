import { AsyncLocalStorage } from "node:async_hooks";

/** An event a unit of work recorded (its feed sequence number and what it names). */
export interface TrailEvent {
  seq: number;
  type: string;
  data: Record<string, unknown>;
}

/**
 * What a request's work produced and committed, for the records that say so (the SCIM request
 * log: "the ids of the events it produced", "the resources it touched"). Only requests that keep
 * such a record open one (withTrail); everywhere else currentTrail() is undefined and noting is
 * a no-op, so the AsyncLocalStorage costs nothing where no record is kept.
 */
export interface Trail {
  events: TrailEvent[];
}

const storage = new AsyncLocalStorage<Trail>();

/** A new, empty trail. */
export function newTrail(): Trail {
  return { events: [] };
}

/** Run `fn` (and everything it starts) with `trail` as the current trail. */
export function withTrail<T>(trail: Trail, fn: () => T): T {
  return storage.run(trail, fn);
}

/** The trail of the work running now, if a record of it is kept. */
export function currentTrail(): Trail | undefined {
  return storage.getStore();
}

/** Note events recorded by the current work (kept only if its transaction commits: writeTransaction). */
export function noteEvents(events: TrailEvent[]): void {
  const trail = storage.getStore();
  if (trail) for (const e of events) trail.events.push({ seq: e.seq, type: e.type, data: e.data });
}

/**
 * Run a transaction body with a trail of its own, merged into `outer` only once the transaction
 * committed: a body rolled back (its savepoint, a deadlock retry) produced nothing.
 */
export function stagedBody<A, T>(outer: Trail, body: (arg: A) => Promise<T>) {
  const staged = newTrail();
  return {
    body: (arg: A) => withTrail(staged, () => body(arg)),
    commit: (value: T): T => {
      outer.events.push(...staged.events);
      return value;
    },
  };
}
