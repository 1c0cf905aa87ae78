#!/usr/bin/env node
/**
 * `npm run build`: compile src/ and migrations/ to JavaScript under dist/ so production starts
 * from plain `node` (no TypeScript compiled at every start: tsx compiles each file on first
 * import, seconds of CPU on a 2-core machine).
 *
 *   node scripts/build.mjs                 build into dist/
 *   node scripts/build.mjs --if-stale      build only when dist/ is missing or older than a source
 *   node scripts/build.mjs --out-dir DIR   build into DIR (relative to the repository; tests use it)
 *
 * Plain JavaScript on purpose: `npm start` runs it (prestart) before anything compiled exists.
 * Transpiles file by file with esbuild (installed with tsx, a runtime dependency, so a
 * production `npm install --omit=dev` can build too); type checking stays `npm run typecheck`.
 * When TypeScript is installed (development, CI) it also writes the declarations of
 * src/client/ so `roster/client` is typed. Every non-TypeScript file under src/ (templates,
 * CSS, images the server reads at run time) is copied beside the compiled code.
 */
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
const SOURCES = ["src", "migrations"];
/** Files whose change makes a build stale besides the sources. */
const INPUTS = ["package.json", "tsconfig.json", "scripts/build.mjs"];
const STAMP = ".build-stamp";

const args = process.argv.slice(2);
const outIndex = args.indexOf("--out-dir");
const outDir = path.resolve(root, outIndex >= 0 ? args[outIndex + 1] : "dist");

function walk(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => path.join(e.parentPath ?? e.path, e.name));
}

/** The newest modification time among the build's inputs (ms). */
function newestInput() {
  let newest = 0;
  for (const f of [
    ...SOURCES.flatMap((s) => walk(path.join(root, s))),
    ...INPUTS.map((f) => path.join(root, f)),
  ]) {
    const m = statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? 0;
    if (m > newest) newest = m;
  }
  return newest;
}

export function isStale(dir = outDir) {
  const stamp = statSync(path.join(dir, STAMP), { throwIfNoEntry: false });
  return !stamp || stamp.mtimeMs < newestInput();
}

export async function build(dir = outDir) {
  const started = Date.now();
  const require = createRequire(import.meta.url);
  const esbuild = await import(require.resolve("esbuild"));
  // Build beside the target and swap it in, so a server starting meanwhile never sees half a tree.
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  const files = SOURCES.flatMap((s) => walk(path.join(root, s)));
  const code = files.filter((f) => /\.tsx?$/.test(f) && !f.endsWith(".d.ts"));
  await esbuild.build({
    entryPoints: code,
    outdir: tmp,
    outbase: root,
    bundle: false,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: "linked",
    jsx: "automatic",
    jsxImportSource: "preact",
    logLevel: "warning",
  });
  for (const f of files.filter((f) => !/\.tsx?$/.test(f))) {
    const to = path.join(tmp, path.relative(root, f));
    mkdirSync(path.dirname(to), { recursive: true });
    cpSync(f, to);
  }
  const declarations = emitClientDeclarations(tmp);
  writeFileSync(path.join(tmp, STAMP), `${new Date().toISOString()}\n`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  console.error(
    `roster build: ${code.length} files compiled into ${path.relative(root, dir) || "."}/ in ${Date.now() - started} ms` +
      (declarations ? "" : " (TypeScript not installed: no declarations for roster/client)"),
  );
}

/** Declarations for the public client (`roster/client`), when TypeScript is installed. */
function emitClientDeclarations(dir) {
  let tsc;
  try {
    tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  } catch {
    return false;
  }
  const r = spawnSync(
    process.execPath,
    [
      tsc,
      "--declaration",
      "--emitDeclarationOnly",
      "--strict",
      "--skipLibCheck",
      "--target",
      "ES2022",
      "--module",
      "NodeNext",
      "--moduleResolution",
      "NodeNext",
      "--lib",
      "ES2023",
      "--types",
      "node",
      "--rootDir",
      root,
      "--outDir",
      dir,
      path.join(root, "src/client/index.ts"),
    ],
    { cwd: root, stdio: "inherit" },
  );
  if (r.status !== 0) throw new Error("roster build: declarations of src/client failed");
  return true;
}

const invokedDirectly =
  process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename);
if (invokedDirectly) {
  if (args.includes("--if-stale") && !isStale()) process.exit(0);
  await build();
}
