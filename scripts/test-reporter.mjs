import { appendFileSync } from "node:fs";

/**
 * A node:test reporter for scripts/test.ts: one JSON line per finished test or suite with its
 * file, its ancestors' names and its outcome (pass, fail, skip or todo, with the reason), so the
 * runner can tell which suites were skipped and which service-tagged cases really ran, per file,
 * without parsing TAP text (where `ok … # SKIP` reads like a pass). Plain JavaScript: node loads
 * reporters before tsx's loader is in place. Each line is appended synchronously to the file
 * ROSTER_TEST_REPORT names as its event arrives: with --test-force-exit the runner may exit before
 * a reporter's output stream is drained (the last files' lines were lost that way).
 *
 * @typedef {{ file: string, ancestors: string[], name: string, kind: "suite" | "test",
 *   outcome: "pass" | "fail" | "skip" | "todo", reason?: string }} TestRecord
 */

/** @param {AsyncIterable<{ type: string, data?: any }>} source */
export default async function* reporter(source) {
  yield ""; // the output goes to ROSTER_TEST_REPORT, not to the reporter's destination
  // Per file, the names of the tests started at each nesting level: test:start events arrive in
  // order, a parent's before its children's.
  /** @type {Map<string, string[]>} */
  const stacks = new Map();
  const reasonOf = (/** @type {unknown} */ v) => (typeof v === "string" ? v : undefined);
  for await (const event of source) {
    const data = event.data;
    if (!data || typeof data.name !== "string") continue;
    const file = data.file ?? "";
    if (event.type === "test:start") {
      const stack = stacks.get(file) ?? [];
      stack.length = data.nesting;
      stack.push(data.name);
      stacks.set(file, stack);
      continue;
    }
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    /** @type {TestRecord} */
    const record = {
      file,
      ancestors: (stacks.get(file) ?? []).slice(0, data.nesting),
      name: data.name,
      kind: data.details?.type === "suite" ? "suite" : "test",
      outcome: event.type === "test:fail" ? "fail" : data.skip ? "skip" : data.todo ? "todo" : "pass",
      reason: reasonOf(data.skip) ?? reasonOf(data.todo),
    };
    appendFileSync(String(process.env.ROSTER_TEST_REPORT), `${JSON.stringify(record)}\n`);
  }
}
