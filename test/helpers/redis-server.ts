import { type ChildProcess, spawn } from "node:child_process";

/** A private redis-server on its own port, so stopping it disturbs nothing else on the machine. */
export function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d) => String(d).includes("Ready to accept connections") && resolve(child));
    child.on("error", reject);
  });
}

/** Kill it (no persistence: it comes back empty, as after a crash). */
export function stopRedis(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.on("exit", () => resolve());
    child.kill("SIGKILL");
  });
}
