// Summarise a V8 .cpuprofile: self time by function and by file/package; total (inclusive) for selected names.
import { readFileSync } from "node:fs";
const [file, topN = 40] = process.argv.slice(2);
const p = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const dt = new Map();
for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
let total = 0;
const self = new Map(), byFile = new Map(), incl = new Map();
for (const n of p.nodes) {
  const t = (dt.get(n.id) ?? 0) / 1000; total += t;
  const cf = n.callFrame;
  const name = `${cf.functionName || "(anon)"} ${cf.url.replace(/.*node_modules\//, "nm/").replace(/.*\/work\/[^/]+\//, "")}:${cf.lineNumber}`;
  self.set(name, (self.get(name) ?? 0) + t);
  const f = cf.url.includes("node_modules/") ? cf.url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, "$1") : cf.url.replace(/.*\/work\/[^/]+\//, "") || cf.functionName;
  byFile.set(f, (byFile.get(f) ?? 0) + t);
  // inclusive by function name (count once per stack)
  const seen = new Set(); let id = n.id;
  while (id !== undefined) { const m = byId.get(id); const k = `${m.callFrame.functionName} ${m.callFrame.url.replace(/.*\//, "")}`; if (!seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) ?? 0) + t); } id = parent.get(id); }
}
const idle = self.get("(idle) :-1") ?? 0;
console.log(`total ${total.toFixed(0)} ms, idle ${idle.toFixed(0)}, busy ${(total - idle).toFixed(0)}`);
const show = (m, k) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k).forEach(([n, t]) => console.log(`${t.toFixed(0).padStart(7)} ${(100 * t / (total - idle)).toFixed(1).padStart(5)}%  ${n}`));
console.log("--- self by file/package"); show(byFile, 25);
console.log("--- self by function"); show(self, Number(topN));
console.log("--- inclusive"); show(incl, 60);
