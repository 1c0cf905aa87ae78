/**
 * `npm run bench`: every benchmark in turn, each printing its own figures.
 *   npm run bench                 all benchmarks at their default sizes
 *   npm run bench -- scim 2000    one benchmark with its arguments
 */
import { spawnSync } from "node:child_process";
import path from "node:path";

const BENCHES: Record<string, string[]> = {
  scim: ["10000", "100000"],
  roles: [],
  saml: ["1000", "100000"],
  oidc: ["1000", "100000"],
  revocation: ["1000", "100000"],
  members: ["100000"],
  console: ["100000"],
  discover: ["10000", "50000"],
  start: ["5"],
};
const [only, ...args] = process.argv.slice(2);
const selected = only ? { [only]: args.length ? args : (BENCHES[only] ?? []) } : BENCHES;
for (const [name, benchArgs] of Object.entries(selected)) {
  if (!(name in BENCHES)) {
    console.error(`unknown benchmark '${name}'; known: ${Object.keys(BENCHES).join(", ")}`);
    process.exit(2);
  }
  console.log(`\n=== ${name} ${benchArgs.join(" ")}`);
  const r = spawnSync(
    process.execPath,
    ["--import", "tsx", path.join(import.meta.dirname, `${name}.ts`), ...benchArgs],
    { stdio: "inherit" },
  );
  if (r.status !== 0) process.exit(r.status ?? 1);
}
