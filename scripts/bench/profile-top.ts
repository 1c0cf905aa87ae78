/**
 * Summarise a V8 CPU profile (`--cpu-prof`): the functions with the most self time and the
 * most total time (self + callees), as shares of the profile. Usage:
 * `node --import tsx scripts/bench/profile-top.ts <file.cpuprofile> [rows] [from-s to-s]`.
 */
import { readFileSync } from "node:fs";

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

// Optional window: only samples from `from` to `to` seconds after the profile starts (a phase).
const [file, rowsArg, fromArg, toArg] = process.argv.slice(2);
if (!file) throw new Error("usage: profile-top.ts <file.cpuprofile> [rows]");
const prof = JSON.parse(readFileSync(file, "utf8")) as {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
};
const rows = Number(rowsArg ?? 40);
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const label = (n: Node) => {
  const url = n.callFrame.url.replace(/^.*\/(node_modules\/)?/, (m) =>
    m.includes("node_modules") ? "nm:" : "",
  );
  return `${n.callFrame.functionName || "(anonymous)"} ${url}:${n.callFrame.lineNumber + 1}`;
};
const self = new Map<string, number>();
const total = new Map<string, number>();
let all = 0;
let clock = 0;
const from = Number(fromArg ?? 0) * 1e6;
const to = toArg === undefined ? Number.POSITIVE_INFINITY : Number(toArg) * 1e6;
prof.samples.forEach((id, i) => {
  const dt = prof.timeDeltas[i] ?? 0;
  clock += dt;
  if (clock < from || clock > to) return;
  all += dt;
  const n = byId.get(id)!;
  self.set(label(n), (self.get(label(n)) ?? 0) + dt);
  const seen = new Set<string>();
  for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
    const l = label(byId.get(cur)!);
    if (seen.has(l)) continue;
    seen.add(l);
    total.set(l, (total.get(l) ?? 0) + dt);
  }
});
const top = (m: Map<string, number>, title: string) => {
  console.log(`\n${title}`);
  for (const [l, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, rows))
    console.log(`${((100 * t) / all).toFixed(1).padStart(5)}%  ${l}`);
};
top(self, "self time");
top(total, "total time");
