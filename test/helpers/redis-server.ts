import { type ChildProcess, spawn } from "node:child_process";
import { freePort } from "./ports.js";

/** A private redis-server: the process and the port it listens on. */
export type RedisServer = ChildProcess & { port: number };

/** Start redis-server on `port`; rejects (never hangs) when it exits or fails before it is ready. */
function spawnRedis(port: number): Promise<RedisServer> {
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  let out = "";
  return new Promise((resolve, reject) => {
    child.stdout!.on("data", (d) => {
      out += String(d);
      if (out.includes("Ready to accept connections")) resolve(Object.assign(child, { port }));
    });
    child.on("error", reject);
    child.on("exit", (code, signal) =>
      reject(
        new Error(`redis-server on port ${port} exited (${signal ?? code}) before it was ready:\n${out}`),
      ),
    );
  });
}

/**
 * A private redis-server, so stopping it disturbs nothing else on the machine. Without a port it
 * takes a free one (and tries another if it is taken meanwhile); with one (to start it again on
 * the same port after a stop) it uses that. The port is on the result: `redis://127.0.0.1:${port}`.
 */
export async function startRedis(port?: number): Promise<RedisServer> {
  if (port !== undefined) return spawnRedis(port);
  for (let attempt = 1; ; attempt++) {
    try {
      return await spawnRedis(await freePort());
    } catch (err) {
      // Another process may take the port between the check and redis-server's bind.
      if (attempt >= 5) throw err;
    }
  }
}

/** Kill it (no persistence: it comes back empty, as after a crash). */
export function stopRedis(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.on("exit", () => resolve());
    child.kill("SIGKILL");
  });
}
