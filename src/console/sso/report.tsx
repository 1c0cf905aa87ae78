import type { SamlTest } from "../../sso/saml/connection-store.js";

/** One check of a test report, in words. */
interface Check {
  name: string;
  state: "pass" | "warning" | "fail" | "waiting" | "skipped";
  reason?: string;
  fix?: string;
}

// The checks a test login goes through, in order, and the failure codes each one owns
// (README "Troubleshooting"; test-report.ts gives the fix).
const CHECKS: Array<{ name: string; codes: string[] }> = [
  {
    name: "The IdP answered with a SAML response",
    codes: [
      "MALFORMED",
      "NOT_A_RESPONSE",
      "DOCTYPE",
      "XML_TOO_COMPLEX",
      "IDP_STATUS",
      "UNKNOWN_REQUEST",
      "OTHER_BROWSER",
      "REPLAY",
      "ASSERTION_COUNT",
    ],
  },
  {
    name: "Signature and certificate",
    codes: ["SIGNATURE_INVALID", "SIGNATURE_MISSING", "CERTIFICATE_EXPIRED", "WEAK_ALGORITHM"],
  },
  { name: "Issuer (IdP entity ID)", codes: ["ISSUER_MISMATCH"] },
  { name: "Audience (our Entity ID)", codes: ["AUDIENCE_MISMATCH"] },
  { name: "ACS URL (destination and recipient)", codes: ["DESTINATION_MISMATCH", "RECIPIENT_MISMATCH"] },
  { name: "Clock and validity window", codes: ["EXPIRED", "NOT_YET_VALID", "INVALID"] },
  {
    name: "The person is in the directory and active",
    codes: ["USER_NOT_FOUND", "USER_INACTIVE", "AMBIGUOUS_USER"],
  },
];

const FIXES: Record<string, string> = {
  IDP_STATUS: "The IdP refused the sign-in: check that the person is assigned to the application at the IdP.",
  UNKNOWN_REQUEST: "Start the test again from this page, in the same browser.",
  OTHER_BROWSER: "Finish the IdP sign-in in the same browser that started the test.",
  USER_INACTIVE:
    "The directory deactivated this person: reactivate them at the IdP or test with another account.",
  AMBIGUOUS_USER: "Two members share this e-mail: fix the directory or map an immutable id attribute.",
};

/** The checks of a test, from its stored report. */
export function checksOf(test: SamlTest): Check[] {
  if (test.status === "pending")
    return CHECKS.map((c, i) => ({ name: c.name, state: i === 0 ? "waiting" : "skipped" }));
  const report = test.report ?? {};
  const code = typeof report.code === "string" ? report.code : undefined;
  const failedAt = code ? CHECKS.findIndex((c) => c.codes.includes(code)) : -1;
  const at = code && failedAt < 0 ? 0 : failedAt;
  // A passing test can carry the directory check as a warning (the person is not in the directory
  // yet, or would be refused today): src/sso/test-directory.ts.
  const warnings = Array.isArray(report.warnings) ? (report.warnings as Array<Record<string, unknown>>) : [];
  const directoryWarning = warnings.find((w) => w?.check === "directory");
  return CHECKS.map((c, i) => {
    if (!code && directoryWarning && i === CHECKS.length - 1)
      return {
        name: c.name,
        state: "warning",
        reason: String(directoryWarning.message ?? directoryWarning.code ?? ""),
        fix: typeof directoryWarning.hint === "string" ? directoryWarning.hint : undefined,
      };
    if (!code || i < at) return { name: c.name, state: "pass" };
    if (i > at) return { name: c.name, state: "skipped" };
    return {
      name: c.name,
      state: "fail",
      reason: typeof report.message === "string" ? report.message : code,
      fix:
        typeof report.hint === "string"
          ? report.hint
          : (FIXES[code] ?? "See the troubleshooting table for this code."),
    };
  });
}

const WORDS = {
  pass: "Passed",
  warning: "Passed, with a warning",
  fail: "Failed",
  waiting: "Waiting for the IdP sign-in",
  skipped: "Not reached",
};

/** The report region: a fragment console.js swaps in while the test is pending (data-final when done). */
export function TestReport(props: { test: SamlTest }) {
  const t = props.test;
  const final = t.status !== "pending";
  const report = t.report ?? {};
  return (
    <div id="test-report" data-final={final ? "" : undefined}>
      <p>
        <strong>
          {t.status === "pending"
            ? "Waiting for you to sign in at the IdP…"
            : t.status === "succeeded"
              ? "Test passed: you can enable single sign-on."
              : "Test failed: fix the first failed check and test again."}
        </strong>
      </p>
      <ul class="checks">
        {checksOf(t).map((c) => (
          <li class={c.state}>
            <strong>{c.name}</strong>: {WORDS[c.state]}
            {c.reason ? (
              <p>
                {c.state === "warning" ? "Note" : "Reason"}: {c.reason}
              </p>
            ) : null}
            {c.fix ? (
              <p>
                {c.state === "warning" ? "What to do" : "Fix"}: {c.fix}
              </p>
            ) : null}
          </li>
        ))}
      </ul>
      {t.status === "succeeded" && typeof report.nameId === "string" ? (
        <p>
          Signed in as <code>{report.nameId}</code>
          {Array.isArray(report.roles) && report.roles.length ? ` with roles ${report.roles.join(", ")}` : ""}
          .
        </p>
      ) : null}
    </div>
  );
}
