import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
const require = createRequire("/work/main/package.json");
const Database = require("better-sqlite3");
const holds = []; let t0 = 0n;
const st = Database.prototype.prepare;
Database.prototype.prepare = function (sql, ...rest) {
  const s = st.call(this, sql, ...rest);
  if (/^(BEGIN|COMMIT|ROLLBACK)/.test(sql)) {
    const f = s.run;
    s.run = function (...a) { const r = f.apply(this, a); if (sql.startsWith("BEGIN")) t0 = process.hrtime.bigint(); else holds.push(Number(process.hrtime.bigint() - t0) / 1e6); return r; };
  }
  return s;
};
const dump = () => { const h = [...holds].sort((a, b) => a - b); const q = (p) => h[Math.floor(p * (h.length - 1))]?.toFixed(2);
  writeFileSync(`/tmp/txtime.${process.pid}.txt`, `n=${h.length} p50=${q(0.5)} p90=${q(0.9)} p99=${q(0.99)} max=${q(1)}\n`); };
setInterval(dump, 2000).unref(); process.on("exit", dump);
