import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, describe, it } from "node:test";
import supertest from "supertest";
import { createMonitoringApp } from "../../src/http/health.js";
import { backends, createTestContext } from "../helpers/context.js";

const METRICS_TOKEN = "metrics-token-0123456789abcdef";

for (const backend of backends()) {
  describe(`/metrics access [${backend.name}]`, () => {
    it("on the API port: loopback clients only, unless they come through a proxy", async () => {
      const ctx = await createTestContext(backend, { env: { ROSTER_TRUST_PROXY: "loopback" } });
      try {
        const ok = await ctx.http.get("/metrics").expect(200);
        assert.match(ok.text, /roster_http_requests_total/);
        // A client elsewhere, as the proxy on this host reports it.
        const remote = await ctx.http.get("/metrics").set("X-Forwarded-For", "203.0.113.7");
        assert.equal(remote.status, 401);
        assert.equal(remote.body.error.code, "UNAUTHORIZED");
        assert.match(remote.body.error.message, /METRICS_TOKEN or METRICS_PORT/);
        assert.equal(remote.headers["www-authenticate"], 'Bearer realm="metrics"');
        // Health and readiness stay open to everyone (load balancers probe them).
        await ctx.http.get("/readyz").set("X-Forwarded-For", "203.0.113.7").expect(200);
        await ctx.http.get("/healthz").set("X-Forwarded-For", "203.0.113.7").expect(200);
      } finally {
        await ctx.close();
      }
    });

    it("a proxy on the same host without ROSTER_TRUST_PROXY: forwarded requests are not loopback", async () => {
      const ctx = await createTestContext(backend);
      try {
        await ctx.http.get("/metrics").expect(200);
        assert.equal((await ctx.http.get("/metrics").set("X-Forwarded-For", "203.0.113.7")).status, 401);
        assert.equal((await ctx.http.get("/metrics").set("Forwarded", "for=203.0.113.7")).status, 401);
      } finally {
        await ctx.close();
      }
    });

    it("with METRICS_TOKEN: the bearer token from anywhere; wrong tokens are rate-limited", async () => {
      const ctx = await createTestContext(backend, {
        env: { ROSTER_TRUST_PROXY: "loopback", METRICS_TOKEN, ROSTER_RATE_LIMIT_ADMIN_FAILURES: "2/1m" },
      });
      try {
        const from = { "X-Forwarded-For": "203.0.113.8" };
        await ctx.http.get("/metrics").set(from).set("Authorization", `Bearer ${METRICS_TOKEN}`).expect(200);
        assert.equal((await ctx.http.get("/metrics").set(from)).status, 401);
        for (let i = 0; i < 2; i++)
          assert.equal(
            (await ctx.http.get("/metrics").set(from).set("Authorization", "Bearer guess")).status,
            401,
          );
        const limited = await ctx.http.get("/metrics").set(from).set("Authorization", "Bearer guess");
        assert.equal(limited.status, 429);
        assert.ok(Number(limited.headers["retry-after"]) >= 1);
      } finally {
        await ctx.close();
      }
    });

    it("with METRICS_PORT: not on the API port at all; the monitoring listener serves it", async () => {
      const ctx = await createTestContext(backend, { env: { METRICS_PORT: "9464" } });
      try {
        assert.equal((await ctx.http.get("/metrics")).status, 404);
        await ctx.http.get("/readyz").expect(200);
        const monitoring = supertest(createMonitoringApp(ctx.deps));
        const m = await monitoring.get("/metrics").set("X-Forwarded-For", "203.0.113.9").expect(200);
        assert.match(m.text, /roster_http_requests_total\{method="GET",route="unmatched",status="404"\}/);
        await monitoring.get("/readyz").expect(200);
        await monitoring.get("/healthz").expect(200);
        assert.equal((await monitoring.get("/admin/v1/tenants")).status, 404);
      } finally {
        await ctx.close();
      }
    });
  });
}

// The real processes: the METRICS_PORT listener, and the server's timeouts.
const root = path.resolve(import.meta.dirname, "../..");
const dir = mkdtempSync(path.join(tmpdir(), "roster-mon-"));
const children: ChildProcess[] = [];
after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL");
  rmSync(dir, { recursive: true, force: true });
});

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

function start(entry: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, ["--import", "tsx", entry], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      LOG_LEVEL: "warn",
      ROSTER_ADMIN_TOKEN: "monitoring-test-admin-token-0123456789ab",
      ...env,
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  children.push(child);
  return child;
}

async function waitFor(url: string, ms = 90_000): Promise<Response> {
  const startAt = Date.now();
  for (;;) {
    try {
      return await fetch(url);
    } catch (err) {
      if (Date.now() - startAt > ms) throw err;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

const stopped = (c: ChildProcess) =>
  new Promise<number | null>((r) => {
    if (c.exitCode !== null) return r(c.exitCode);
    c.on("exit", (code) => r(code));
    c.kill("SIGTERM");
  });

describe("the monitoring listener and the server's timeouts [sqlite]", () => {
  it("METRICS_PORT: the API process and a worker serve /metrics, /healthz and /readyz there", async () => {
    const [port, metricsPort, workerMetricsPort] = [await freePort(), await freePort(), await freePort()];
    const db = `sqlite:${path.join(dir, "mon.sqlite")}`;
    const api = start("src/server.ts", {
      PORT: String(port),
      METRICS_PORT: String(metricsPort),
      DATABASE_URL: db,
    });
    const metrics = await waitFor(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(metrics.status, 200);
    assert.match(await metrics.text(), /process_cpu_user_seconds_total/);
    assert.equal((await waitFor(`http://127.0.0.1:${port}/metrics`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/readyz`)).status, 200);
    const worker = start("src/worker.ts", { METRICS_PORT: String(workerMetricsPort), DATABASE_URL: db });
    const ready = await waitFor(`http://127.0.0.1:${workerMetricsPort}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: "ok", checks: { database: "ok" } });
    assert.match(await (await fetch(`http://127.0.0.1:${workerMetricsPort}/metrics`)).text(), /roster_jobs/);
    assert.equal(await stopped(worker), 0);
    assert.equal(await stopped(api), 0);
  });

  it("a client that sends its headers or its body too slowly gets 408 and is disconnected", async () => {
    const port = await freePort();
    const api = start("src/server.ts", {
      PORT: String(port),
      DATABASE_URL: `sqlite:${path.join(dir, "timeouts.sqlite")}`,
      HTTP_HEADERS_TIMEOUT_MS: "1000",
      HTTP_REQUEST_TIMEOUT_MS: "2000",
    });
    await waitFor(`http://127.0.0.1:${port}/healthz`);
    /** Send part of a request, then nothing: what comes back before the server closes. */
    const stall = (partial: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, "127.0.0.1");
        let got = "";
        // The hang detector: Node's defaults (no request timeout before v18, 60 s for headers,
        // checked every 30 s) would keep this socket open far longer.
        const hang = setTimeout(() => {
          socket.destroy();
          reject(new Error(`the server kept a stalled request open: ${got}`));
        }, 20_000);
        socket.on("data", (d) => (got += d));
        socket.on("close", () => {
          clearTimeout(hang);
          resolve(got);
        });
        socket.on("error", () => {});
        socket.write(partial);
      });
    const headers = await stall("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ");
    assert.match(headers, /^HTTP\/1\.1 408/);
    const body = await stall(
      // The ACS reads its form before anything else.
      "POST /sso/acme/acs HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nSAMLResponse=",
    );
    assert.match(body, /^HTTP\/1\.1 408/);
    assert.equal(await stopped(api), 0);
  });
});
