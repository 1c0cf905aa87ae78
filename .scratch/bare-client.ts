import { spawn } from "node:child_process";
import { cpuMs, fmt, pool, request } from "../scripts/bench/lib.js";
for (const mode of ["http", "express"]) {
  const port = 45000 + Math.floor(Math.random() * 1000);
  const c = spawn(process.execPath, [".scratch/bare-server.mjs", mode], { env: { ...process.env, PORT: String(port) }, stdio: "inherit" });
  await new Promise((r) => setTimeout(r, 800));
  await pool(3000, 16, () => request(port, "GET", "/x"));
  const c0 = cpuMs(c.pid!); const t0 = performance.now();
  await pool(20000, 16, () => request(port, "GET", "/x"));
  console.log(`${mode}: ${fmt(20000 / ((performance.now() - t0) / 1000), 0)} req/s, ${fmt((cpuMs(c.pid!) - c0) / 20000, 3)} ms CPU/req`);
  c.kill();
}
