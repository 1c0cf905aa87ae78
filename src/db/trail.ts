/** An event a unit of work recorded (its feed sequence number and what it names). */
export interface TrailEvent {
  seq: number;
  type: string;
  data: Record<string, unknown>;
}

/**
 * What a request's work produced and committed, for the records that say so (the SCIM request
 * log: "the ids of the events it produced", "the resources it touched"). A request that keeps
 * such a record hands one to the use cases (DirectoryDeps.trail); they note their events once
 * their transaction committed (a body rolled back or retried produced nothing).
 */
export interface Trail {
  events: TrailEvent[];
}

/** A new, empty trail. */
export function newTrail(): Trail {
  return { events: [] };
}

/** Note committed events on the trail, if there is one. */
export function noteCommitted(trail: Trail | undefined, events: readonly TrailEvent[]): void {
  if (trail) for (const e of events) trail.events.push({ seq: e.seq, type: e.type, data: e.data });
}
