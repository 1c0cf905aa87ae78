import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";

/** Prometheus metrics of one Roster process (a registry per instance, so tests can build several). */
export interface Metrics {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status">;
  httpDuration: Histogram<"method" | "route" | "status">;
  jobs: Counter<"name" | "outcome">;
  ssoRefusals: Counter<"reason" | "verified">;
}

/** Build the registry with process metrics, HTTP and job counters. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: "roster_http_requests_total",
      help: "HTTP requests by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: "roster_http_request_duration_seconds",
      help: "HTTP request latency by method, route pattern and status",
      labelNames: ["method", "route", "status"],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    jobs: new Counter({
      name: "roster_jobs_total",
      help: "Jobs run by name and outcome (completed, retried, failed)",
      labelNames: ["name", "outcome"],
      registers: [registry],
    }),
    // Labels from fixed sets (Roster's reason codes, true/false), never the tenant: an anonymous
    // caller choosing slugs must not be able to grow the registry.
    ssoRefusals: new Counter({
      name: "roster_sso_refusals_total",
      help: "Refused SSO sign-ins by reason code; verified=false: refused before any IdP signature verified (anyone can cause these)",
      labelNames: ["reason", "verified"],
      registers: [registry],
    }),
  };
}
