import { readFileSync } from "node:fs";
const p = JSON.parse(readFileSync(process.argv[2], "utf8"));
const self = new Map(); let total = 0;
const walk = (n, stack) => {
  const cf = n.callFrame; const name = `${cf.functionName || "(anon)"} ${cf.url.replace(/.*node_modules\//, "nm/").replace(/.*\/work\/main\//, "")}:${cf.lineNumber + 1}`;
  const s = n.selfSize; total += s; self.set(name, (self.get(name) ?? 0) + s);
  for (const c of n.children) walk(c, stack);
};
walk(p.head, []);
console.log(`total sampled ${(total / 1e6).toFixed(1)} MB`);
[...self].sort((a, b) => b[1] - a[1]).slice(0, Number(process.argv[3] ?? 40)).forEach(([n, s]) => console.log(`${(s / 1e6).toFixed(1).padStart(8)} MB ${(100 * s / total).toFixed(1).padStart(5)}%  ${n}`));
