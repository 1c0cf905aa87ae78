// A/B: two Roster checkouts served side by side, alternating rounds of Entra-style sync (lookup + create).
// usage: node --import tsx .scratch/ab.ts <dirA> <dirB> [rounds] [usersPerRound]. Scratch; never commit.
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ADMIN, cpuMs, fmt, pool, request } from "../scripts/bench/lib.js";
const [dirA, dirB, roundsArg, perArg] = process.argv.slice(2);
const ROUNDS = Number(roundsArg ?? 6), PER = Number(perArg ?? 2000);
async function start(dir: string, extra: string[]) {
  const port = 40000 + Math.floor(Math.random() * 10000);
  const file = path.join(mkdtempSync(path.join(tmpdir(), "ab-")), "r.sqlite");
  const child = spawn(process.execPath, [...extra, ...(process.env.AB_NODE_ARGS?.split(" ").filter(Boolean) ?? []), "--import", "tsx", "src/server.ts"], { cwd: dir, env: { PATH: process.env.PATH, PORT: String(port), ROSTER_ADMIN_TOKEN: ADMIN, LOG_LEVEL: "warn", DATABASE_URL: `sqlite:${file}`, ROSTER_QUEUE_PREFIX: `ab${process.pid}` }, stdio: ["ignore", "inherit", "inherit"] });
  for (let i = 0; i < 300; i++) { try { if ((await request(port, "GET", "/healthz")).status === 200) break; } catch {} await new Promise((r) => setTimeout(r, 100)); }
  const slug = `ab-${Date.now()}`;
  await request(port, "POST", "/admin/v1/tenants", { slug, name: "AB" }, ADMIN);
  const token = (await request(port, "POST", `/admin/v1/tenants/${slug}/scim-tokens`, { name: "ab" }, ADMIN)).body.token;
  return { child, port, token, next: 0, cpu: [] as number[], rate: [] as number[] };
}
const argsOf = (v?: string) => v?.split(" ").filter(Boolean) ?? [];
const servers = [await start(dirA, argsOf(process.env.AB_A_ARGS)), await start(dirB, argsOf(process.env.AB_B_ARGS))];
const sync = async (s: (typeof servers)[0], n: number) => {
  const base = s.next; s.next += n;
  await pool(n, 16, async (k) => {
    const i = base + k; const un = `user${i}@bench.example.com`;
    await request(s.port, "GET", `/scim/v2/Users?filter=${encodeURIComponent(`userName eq "${un}"`)}`, undefined, s.token);
    const r = await request(s.port, "POST", "/scim/v2/Users", { schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"], userName: un, externalId: `ext-${i}`, active: true, displayName: `User ${i}`, name: { givenName: "User", familyName: `Number${i}` }, emails: [{ value: un, type: "work", primary: true }] }, s.token);
    if (r.status !== 201) throw new Error(`create ${r.status}`);
  });
};
for (const s of servers) await sync(s, 1000); // warm-up
for (let r = 0; r < ROUNDS; r++)
  for (const s of (r % 2 ? [...servers].reverse() : servers)) {
    const c0 = cpuMs(s.child.pid!); const t0 = performance.now();
    await sync(s, PER);
    s.cpu.push((cpuMs(s.child.pid!) - c0) / (2 * PER)); s.rate.push(PER / ((performance.now() - t0) / 1000));
  }
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
servers.forEach((s, i) => console.log(`${i ? "B" : "A"} ${[dirA, dirB][i]}: CPU ms/request median ${fmt(med(s.cpu), 3)} [${s.cpu.map((c) => fmt(c, 3)).join(" ")}]; users/s median ${fmt(med(s.rate), 0)}`));
for (const s of servers) s.child.kill();
