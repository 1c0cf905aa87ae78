import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
const require = createRequire("/work/main/package.json");
const Database = require("better-sqlite3");
const d = []; const st = Database.prototype.prepare;
Database.prototype.prepare = function (sql, ...rest) {
  const s = st.call(this, sql, ...rest);
  if (sql.startsWith("COMMIT")) { const f = s.run; s.run = function (...a) { const t = performance.now(); try { return f.apply(this, a); } finally { d.push(performance.now() - t); } }; }
  return s;
};
const dump = () => { const h = [...d].sort((a, b) => a - b); const q = (p) => h[Math.floor(p * (h.length - 1))]?.toFixed(2); const sum = h.reduce((a, b) => a + b, 0);
  const big = h.filter((x) => x > 10); writeFileSync(`/tmp/commit.${process.pid}.txt`, `n=${h.length} sum=${sum.toFixed(0)} p50=${q(0.5)} p90=${q(0.9)} p99=${q(0.99)} max=${q(1)} over10ms=${big.length} sumOver10=${big.reduce((a, b) => a + b, 0).toFixed(0)}\n`); };
setInterval(dump, 2000).unref(); process.on("exit", dump);
