import type { OidcTest } from "../../sso/oidc/connection-store.js";

// The checks of an OpenID Connect test (src/sso/oidc/test-report.ts CHECKS), in the admin's words.
const NAMES: Record<string, string> = {
  discovery: "The provider's discovery document (issuer)",
  jwks: "The provider's signing keys (JWKS)",
  token_exchange: "Code exchange at the token endpoint (client ID and secret, redirect URI)",
  signature: "id_token signature and algorithm",
  claims: "id_token claims (issuer, audience, nonce, validity, e-mail verified, hd / tid)",
  directory: "The person is in the directory and active",
};
const ORDER = Object.keys(NAMES);

const WORDS = {
  passed: "Passed",
  warning: "Passed, with a warning",
  failed: "Failed",
  skipped: "Not reached",
  waiting: "Waiting for the sign-in",
};

interface Row {
  check: string;
  status: keyof typeof WORDS;
  message?: string;
  hint?: string;
}

function rowsOf(t: OidcTest): Row[] {
  if (t.status === "pending")
    return ORDER.map((check, i) => ({ check, status: i === 0 ? "waiting" : "skipped" }));
  const checks = Array.isArray(t.report?.checks) ? (t.report.checks as Row[]) : [];
  return ORDER.map((check) => {
    const c = checks.find((x) => x?.check === check);
    return c ? { ...c, check } : { check, status: "skipped" };
  });
}

/** The OpenID Connect report region (console.js swaps it in while pending; data-final when done). */
export function OidcTestReport(props: { test: OidcTest }) {
  const t = props.test;
  const report = t.report ?? {};
  const mapped = (report.mapped ?? {}) as Record<string, unknown>;
  return (
    <div id="test-report" data-final={t.status !== "pending" ? "" : undefined}>
      <p>
        <strong>
          {t.status === "pending"
            ? "Waiting for you to sign in at the provider…"
            : t.status === "succeeded"
              ? "Test passed: you can enable single sign-on."
              : "Test failed: fix the first failed check and test again."}
        </strong>
      </p>
      <ul class="checks">
        {rowsOf(t).map((c) => (
          <li class={c.status === "passed" ? "pass" : c.status === "failed" ? "fail" : c.status}>
            <strong>{NAMES[c.check] ?? c.check}</strong>: {WORDS[c.status] ?? c.status}
            {c.status === "failed" && c.message ? <p>Reason: {c.message}</p> : null}
            {c.status === "failed" && c.hint ? <p>Fix: {c.hint}</p> : null}
            {c.status === "warning" && c.message ? <p>Note: {c.message}</p> : null}
            {c.status === "warning" && c.hint ? <p>What to do: {c.hint}</p> : null}
          </li>
        ))}
      </ul>
      {t.status === "succeeded" && typeof mapped.userName === "string" ? (
        <p>
          Signed in as <code>{mapped.userName}</code>
          {Array.isArray(report.roles) && report.roles.length ? ` with roles ${report.roles.join(", ")}` : ""}
          .
        </p>
      ) : null}
    </div>
  );
}
