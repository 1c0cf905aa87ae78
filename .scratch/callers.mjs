// For frames matching a name, attribute their inclusive time to the nearest src/ ancestor frame.
import { readFileSync } from "node:fs";
const [file, pat] = process.argv.slice(2);
const p = JSON.parse(readFileSync(file, "utf8"));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const dt = new Map();
for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const out = new Map();
for (const n of p.nodes) {
  const t = (dt.get(n.id) ?? 0) / 1000; if (!t) continue;
  let id = n.id, hit = false, chain = [];
  while (id !== undefined) { const m = byId.get(id); const cf = m.callFrame;
    if (!hit && `${cf.functionName} ${cf.url}`.includes(pat)) hit = true;
    if (hit && cf.url.includes("/src/")) chain.push(`${cf.functionName}@${cf.url.replace(/.*\/src\//, "")}:${cf.lineNumber}`);
    if (chain.length >= 3) break;
    id = parent.get(id); }
  if (hit) { const k = chain.join(" < ") || "(no src)"; out.set(k, (out.get(k) ?? 0) + t); }
}
[...out].sort((a, b) => b[1] - a[1]).slice(0, 25).forEach(([k, t]) => console.log(t.toFixed(0).padStart(7), k));
