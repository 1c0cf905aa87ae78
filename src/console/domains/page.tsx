import type { Response } from "express";
import type { Deps } from "../../deps.js";
import { listDomains } from "../../domains/use-cases.js";
import { getPolicy, getRequireSsoChecklist, TEST_FRESH_DAYS } from "../../sso/policy.js";
import { StatusBadge } from "../components/badge.js";
import { ConfirmAction } from "../components/confirm.js";
import { CopyValue } from "../components/copy.js";
import { Csrf, type FieldErrors, TextArea, TextField } from "../components/field.js";
import { Flash } from "../components/flash.js";
import { SelectField } from "../components/select.js";
import { consoleContext, consoleTenant } from "../http.js";
import { renderPage } from "../page.js";

/** What each "Require SSO" precondition asks the admin to do, in words. */
const TODO: Record<string, { label: string; todo: string }> = {
  SSO_POLICY_NO_ENABLED_CONNECTION: {
    label: "An SSO connection is enabled",
    todo: "Open Security → SSO configuration, test the connection, then enable it.",
  },
  SSO_POLICY_NOT_TESTED: {
    label: `An enabled connection passed a test login in the last ${TEST_FRESH_DAYS} days`,
    todo: "Run Test configuration on the SSO configuration page again.",
  },
  SSO_POLICY_NO_VERIFIED_DOMAIN: {
    label: "A verified domain routes to that connection",
    todo: "Add your e-mail domain above, publish its TXT record, then Verify now.",
  },
  SSO_POLICY_NO_BREAK_GLASS: {
    label: "At least one break-glass e-mail is named",
    todo: "Name the e-mail of an account that may sign in with a password in an emergency, below.",
  },
};

/** Messages after a redirect (?done=…). */
const DONE: Record<string, string> = {
  added: "Domain added: publish the TXT record, then choose Verify now.",
  verified: "The domain is verified.",
  checked: "Checked: the TXT record was not found yet (DNS changes can take a while to appear).",
  deleted: "Domain deleted.",
  saved: "Break-glass e-mails saved.",
  on: "Require SSO is on: people of your verified domains must sign in through SSO.",
  off: "Require SSO is off.",
  armed: "Break-glass armed.",
  disarmed: "Break-glass disarmed.",
};

export interface DomainsPageState {
  status?: number;
  done?: unknown;
  errors?: FieldErrors;
  values?: Record<string, string>;
  /** A refusal of "Require SSO" or of an action, in words. */
  problem?: string;
}

/** Security → Domains & policy: verified domains, Require SSO and its checklist, break-glass. */
export async function domainsPage(deps: Deps, res: Response, o: DomainsPageState = {}) {
  const tenant = consoleTenant(res);
  const { session } = consoleContext(res);
  const base = `/console/t/${encodeURIComponent(tenant.slug)}/domains`;
  const domains = await listDomains(deps, tenant.slug);
  const policy = await getPolicy(deps, tenant.slug);
  const checklist = await getRequireSsoChecklist(deps, tenant.slug);
  const v = o.values ?? {};
  const done = typeof o.done === "string" ? DONE[o.done] : undefined;
  renderPage(
    res,
    { title: "Domains & policy", current: base, status: o.status ?? (o.errors || o.problem ? 400 : 200) },
    <>
      {done ? <Flash>{done}</Flash> : null}
      {o.problem ? <Flash tone="bad">{o.problem}</Flash> : null}
      <section aria-labelledby="h-domains">
        <h2 id="h-domains">Verified domains</h2>
        <p>
          Prove you own your e-mail domain: add it, publish the TXT record below at your DNS provider, then
          choose <em>Verify now</em>. Until it is verified, nothing routes or is enforced for it.
        </p>
        {domains.length === 0 ? <p>No domain yet.</p> : null}
        {domains.map((d, i) => (
          <article class="card" aria-labelledby={`d-${i}`}>
            <h3 id={`d-${i}`}>
              {d.unicode ?? d.domain} <StatusBadge status={d.status} />
            </h3>
            {d.recordMissingSince ? (
              <Flash tone="warn">
                The TXT record has been missing since {d.recordMissingSince}: put it back, or the domain will
                stop being verified.
              </Flash>
            ) : null}
            {d.status !== "verified" ? (
              <p>
                At your DNS provider, add a record of type <strong>TXT</strong> with this name and value (some
                providers want only the part before your domain as the name).
              </p>
            ) : null}
            <CopyValue id={`txt-name-${i}`} label="TXT record name" value={d.verification.name} />
            <CopyValue id={`txt-value-${i}`} label="TXT record value" value={d.verification.value} />
            {d.lastResult ? <p>Last check: {String(d.lastResult)}</p> : null}
            <form method="post" action={`${base}/verify`} class="inline">
              <Csrf token={session.csrf} />
              <input type="hidden" name="domain" value={d.domain} />
              <button type="submit" class="secondary" aria-label={`Verify ${d.domain} now`}>
                Verify now
              </button>
            </form>
            <ConfirmAction
              id={`del-${i}`}
              action={`${base}/delete`}
              csrf={session.csrf}
              summary={`Delete ${d.domain}…`}
              button="Delete domain"
              typed={d.domain}
              hidden={{ domain: d.domain }}
            >
              <p>Sign-ins of this domain stop routing to your SSO connection.</p>
            </ConfirmAction>
          </article>
        ))}
        <form method="post" action={base}>
          <Csrf token={session.csrf} />
          <TextField
            name="domain"
            label="Domain"
            value={v.domain}
            errors={o.errors}
            required
            hint="Your organisation's e-mail domain, e.g. example.com."
          />
          <button type="submit">Add domain</button>
        </form>
      </section>

      <section aria-labelledby="h-policy">
        <h2 id="h-policy">
          Require SSO{" "}
          <StatusBadge
            status={policy.requireSso ? "on" : "off"}
            tone={policy.requireSso ? "ok" : "neutral"}
          />
        </h2>
        <p>
          When on, people of your verified domains can only sign in through SSO (except armed break-glass
          accounts).
        </p>
        <ul class="checks">
          {checklist.map((c) => (
            <li>
              <StatusBadge status={c.met ? "met" : "not met"} tone={c.met ? "ok" : "warn"} />{" "}
              {TODO[c.code].label}
              {c.met ? null : <span class="hint"> — {TODO[c.code].todo}</span>}
            </li>
          ))}
        </ul>
        <form method="post" action={`${base}/policy`} class="actions">
          <Csrf token={session.csrf} />
          <input type="hidden" name="requireSso" value={policy.requireSso ? "off" : "on"} />
          <button type="submit" class={policy.requireSso ? "danger" : undefined}>
            {policy.requireSso ? "Turn Require SSO off" : "Turn Require SSO on"}
          </button>
        </form>
        <form method="post" action={`${base}/break-glass`}>
          <Csrf token={session.csrf} />
          <TextArea
            name="breakGlass"
            label="Break-glass e-mails"
            value={v.breakGlass ?? policy.breakGlass.join("\n")}
            errors={o.errors}
            rows={3}
            hint="One e-mail per line (at most 10): accounts that may be armed to sign in without SSO."
          />
          <button type="submit" class="secondary">
            Save break-glass e-mails
          </button>
        </form>
      </section>

      <section aria-labelledby="h-arm">
        <h2 id="h-arm">Break-glass access</h2>
        {policy.armed.length === 0 ? <p>No account is armed.</p> : null}
        {policy.armed.map((w) => (
          <form method="post" action={`${base}/disarm`} class="card">
            <Csrf token={session.csrf} />
            <input type="hidden" name="email" value={w.email} />
            <p>
              <strong>{w.email}</strong> may sign in without SSO until {w.expiresAt} (armed {w.armedAt}:{" "}
              {w.reason}).
            </p>
            <button type="submit" class="danger" aria-label={`Disarm ${w.email}`}>
              Disarm
            </button>
          </form>
        ))}
        {policy.breakGlass.length > 0 ? (
          <form method="post" action={`${base}/arm`}>
            <Csrf token={session.csrf} />
            <SelectField
              name="email"
              label="Account"
              value={v.email ?? policy.breakGlass[0]}
              errors={o.errors}
              options={policy.breakGlass.map((e) => ({ value: e, label: e }))}
            />
            <TextField
              name="minutes"
              label="Minutes (at most 60)"
              type="number"
              value={v.minutes ?? "30"}
              errors={o.errors}
              required
            />
            <TextField
              name="reason"
              label="Reason"
              value={v.reason}
              errors={o.errors}
              required
              hint="Kept in the event log, e.g. the IdP is down."
            />
            <button type="submit">Arm break-glass</button>
          </form>
        ) : (
          <p>Name a break-glass e-mail above first.</p>
        )}
      </section>
    </>,
  );
}
