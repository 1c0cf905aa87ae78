import { createRequire } from "node:module";
import { writeFileSync } from "node:fs";
const require = createRequire("/work/main/package.json");
const Database = require("better-sqlite3");
const stats = new Map();
const st = Database.prototype.prepare;
Database.prototype.prepare = function (sql, ...rest) {
  const s = st.call(this, sql, ...rest);
  for (const m of ["run", "all", "get", "iterate"]) {
    const f = s[m];
    if (typeof f !== "function") continue;
    s[m] = function (...a) {
      const t = process.hrtime.bigint();
      try { return f.apply(this, a); } finally {
        const d = Number(process.hrtime.bigint() - t) / 1e6;
        const k = sql;
        const e = stats.get(k) ?? { n: 0, ms: 0 }; e.n++; e.ms += d; stats.set(k, e);
      }
    };
  }
  return s;
};
const dump = () => {
  const rows = [...stats].map(([k, e]) => [k.replace(/\s+/g, " ").slice(0, 140), e]).sort((a, b) => b[1].ms - a[1].ms).slice(0, 40).map(([k, e]) => `${e.ms.toFixed(0).padStart(7)} ms ${String(e.n).padStart(6)}x ${(e.ms / e.n).toFixed(3)}  ${k}`);
  writeFileSync(`/tmp/sqltime.${process.pid}.txt`, rows.join("\n") + "\n");
};
setInterval(dump, 2000).unref();
process.on("exit", dump);
