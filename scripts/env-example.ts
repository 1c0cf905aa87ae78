/**
 * Writes .env.example from src/config.ts's CONFIG_VARIABLES (`npm run env-example`), so the file
 * lists every variable Roster reads, at its default, with its description
 * (test/foundation/config-docs.test.ts fails when the two disagree).
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { CONFIG_VARIABLES } from "../src/config.js";

/** Word-wrap a description into `# ` comment lines of at most ~98 characters. */
function comment(text: string): string[] {
  const lines: string[] = [];
  let line = "#";
  for (const word of text.split(/\s+/)) {
    if (line.length + 1 + word.length > 98 && line !== "#") {
      lines.push(line);
      line = "#";
    }
    line += ` ${word}`;
  }
  lines.push(line);
  return lines;
}

const out = [
  `# Roster configuration: every variable src/config.ts reads (README "Configuration").`,
  "# Copy to .env or set in your process manager; Roster reads the environment only (it does not load this file itself).",
  "# Each variable is shown commented out at its default (empty when it has none); uncomment what you set.",
];
for (const [name, v] of Object.entries(CONFIG_VARIABLES) as Array<
  [string, { description: string; default?: string; secret?: boolean }]
>) {
  out.push("", ...comment(v.description));
  if (v.secret) out.push("# (secret: keep it out of version control and logs)");
  out.push(`# ${name}=${v.default ?? ""}`);
}
writeFileSync(path.resolve(import.meta.dirname, "..", ".env.example"), `${out.join("\n")}\n`);
console.log(`wrote .env.example (${Object.keys(CONFIG_VARIABLES).length} variables)`);
