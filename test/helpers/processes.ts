/** Roster's real entry points (src/server.ts, src/worker.ts) as child processes, for process-level suites. */
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { HANG_LIMIT_MS } from "./context.js";

const root = path.resolve(import.meta.dirname, "../..");

/** A running Roster process and what it printed. */
export interface RosterProcess {
  child: ChildProcess;
  out(): string;
  err(): string;
  /** Resolves once stdout or stderr holds `text`; rejects if the process exits first or never prints it. */
  printed(text: string, ms?: number): Promise<void>;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
}

const running: ChildProcess[] = [];

/** Start `src/<script>.ts` with only PATH, HOME and `env` in its environment (nothing leaks in from the runner). */
export function startRoster(script: "server" | "worker", env: Record<string, string>): RosterProcess {
  const child = spawn(process.execPath, ["--import", "tsx", `src/${script}.ts`], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // PostgreSQL needs a key shared by every process of a deployment (no generated key file).
      ROSTER_ENCRYPTION_KEY: "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (d) => (stdout += d));
  child.stderr!.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on("exit", (code) => r(code)));
  const printed = (text: string, ms = HANG_LIMIT_MS * 2) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (!(stdout + stderr).includes(text)) return false;
        done();
        resolve();
        return true;
      };
      const onExit = (code: number | null) => {
        done();
        reject(
          new Error(`src/${script}.ts exited (${code}) before printing "${text}":\n${stdout}\n${stderr}`),
        );
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`src/${script}.ts did not print "${text}" within ${ms} ms (hang detector)`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        child.stdout!.off("data", check);
        child.stderr!.off("data", check);
        child.off("exit", onExit);
      };
      if (check()) return;
      if (child.exitCode !== null || child.signalCode !== null) return onExit(child.exitCode);
      child.stdout!.on("data", check);
      child.stderr!.on("data", check);
      child.on("exit", onExit);
    });
  return { child, out: () => stdout, err: () => stderr, printed, exited };
}

/** Kill every process still running (an after() hook: a failed assertion must not leave one behind). */
export function killAll(): void {
  for (const c of running) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
}
