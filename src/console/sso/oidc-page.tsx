import type { OidcTest } from "../../sso/oidc/connection-store.js";
import type { viewOidcConnection } from "../../sso/oidc/connections.js";
import { CopyValue } from "../components/copy.js";
import { Csrf, type FieldErrors, TextField } from "../components/field.js";
import { Flash } from "../components/flash.js";
import type { OidcProvider } from "./oidc-providers.js";
import { OidcTestReport } from "./oidc-report.js";

export type OidcView = ReturnType<typeof viewOidcConnection>;

interface Props {
  base: string;
  csrf: string;
  provider: OidcProvider;
  conn?: OidcView;
  test?: OidcTest;
  redirectUri: string;
  errors?: FieldErrors;
  values?: Record<string, string>;
}

/** Steps 2–5 of the SSO page for an OpenID Connect provider (the SAML ones live in page.tsx). */
export function OidcSections(p: Props) {
  const v = p.values ?? {};
  const x = p.provider;
  // A saved connection of another preset is shown, but the form fills only what carries over.
  const same = p.conn?.preset === x.preset ? p.conn : undefined;
  const emailVerified = v._emailVerifiedShown
    ? v.requireEmailVerified === "on"
    : (same?.settings.requireEmailVerified ?? x.preset !== "entra");
  return (
    <>
      <section aria-labelledby="s2">
        <h2 id="s2">2. Set up Roster in {x.name}</h2>
        <ol class="steps">
          {x.steps.map((s) => (
            <li>{s}</li>
          ))}
        </ol>
        <h3>Value to copy into {x.name}</h3>
        <CopyValue id="oidc-redirect-uri" label="Redirect URI" value={p.redirectUri} />
      </section>

      <section aria-labelledby="s3">
        <h2 id="s3">3. Enter {x.name}'s details</h2>
        {p.conn && p.conn.preset !== x.preset ? (
          <Flash tone="warn">
            The saved OpenID Connect connection uses another provider; saving here replaces its settings.
          </Flash>
        ) : null}
        {p.errors?._form ? <Flash tone="bad">{p.errors._form}</Flash> : null}
        <form method="post" action={`${p.base}/oidc`}>
          <Csrf token={p.csrf} />
          <input type="hidden" name="provider" value={x.key} />
          {x.issuer === "fixed" ? (
            <p class="hint">Issuer: https://accounts.google.com (fixed for Google).</p>
          ) : x.issuer === "entra" ? (
            <TextField
              name="entraTenantId"
              label="Directory (tenant) ID"
              value={v.entraTenantId ?? same?.settings.entraTenantId ?? ""}
              errors={p.errors}
              hint={x.issuerHint}
            />
          ) : (
            <TextField
              name="issuer"
              label="Issuer URL"
              type="url"
              value={v.issuer ?? same?.issuer ?? ""}
              errors={p.errors}
              hint={x.issuerHint}
            />
          )}
          <TextField
            name="clientId"
            label={x.clientIdLabel}
            value={v.clientId ?? same?.clientId ?? ""}
            errors={p.errors}
          />
          {/* Write-only (never rendered back): the page says only whether one is set. */}
          <TextField
            name="clientSecret"
            label={x.clientSecretLabel}
            type="password"
            autocomplete="new-password"
            errors={p.errors}
            hint={
              same?.clientSecretSet
                ? "Set. Leave empty to keep it; enter a new one to replace it."
                : "Not set. It is stored encrypted and never shown again."
            }
          />
          {x.domains ? (
            <TextField
              name="domains"
              label="Workspace domain(s)"
              value={v.domains ?? same?.domains.join(", ") ?? ""}
              errors={p.errors}
              hint="Your Workspace primary domain, e.g. example.com (several: separate with commas). The id_token's hd claim must name one."
            />
          ) : null}
          {x.emailVerifiedToggle ? (
            <div class={p.errors?.requireEmailVerified ? "field field-invalid" : "field"}>
              <input type="hidden" name="_emailVerifiedShown" value="1" />
              <label>
                <input type="checkbox" name="requireEmailVerified" checked={emailVerified} /> Require the
                provider to say the e-mail is verified (email_verified)
              </label>
              {p.errors?.requireEmailVerified ? (
                <p class="field-error">{p.errors.requireEmailVerified}</p>
              ) : null}
            </div>
          ) : null}
          <button type="submit">Save provider details</button>
        </form>
      </section>

      {p.conn ? (
        <>
          <section aria-labelledby="test-h" id="test">
            <h2 id="test-h">4. Test the configuration</h2>
            <form method="post" action={`${p.base}/oidc/test`} class="actions" data-opens-sign-in="">
              <Csrf token={p.csrf} />
              <input type="hidden" name="provider" value={x.key} />
              <button type="submit">Test configuration</button>
            </form>
            {p.test ? (
              <>
                {p.test.status === "pending" ? (
                  <p>
                    <a
                      href={`${p.conn.loginUrl}?test=${p.test.id}`}
                      target="_blank"
                      rel="noopener noreferrer"
                    >
                      Open the sign-in at your provider (new tab)
                    </a>
                  </p>
                ) : null}
                <div
                  id="test-region"
                  aria-live="polite"
                  data-poll-url={p.test.status === "pending" ? `${p.base}/oidc/test/${p.test.id}` : undefined}
                  data-reload-when-final=""
                >
                  <OidcTestReport test={p.test} />
                </div>
              </>
            ) : null}
          </section>

          <section aria-labelledby="s5">
            <h2 id="s5">5. Enable single sign-on</h2>
            <div class="actions">
              <form method="post" action={`${p.base}/oidc/enable`}>
                <Csrf token={p.csrf} />
                <input type="hidden" name="provider" value={x.key} />
                <button
                  type="submit"
                  disabled={!p.conn.testedSinceLastChange || p.conn.state === "enabled"}
                  aria-describedby="enable-hint"
                >
                  Enable OpenID Connect sign-in
                </button>
              </form>
              <form method="post" action={`${p.base}/oidc/disable`}>
                <Csrf token={p.csrf} />
                <input type="hidden" name="provider" value={x.key} />
                <button type="submit" class="secondary">
                  Disable OpenID Connect sign-in
                </button>
              </form>
            </div>
            <p class="hint" id="enable-hint">
              {p.conn.testedSinceLastChange
                ? "The last test of these settings passed."
                : "Enable becomes available after a passing test of the current settings."}
            </p>
          </section>
        </>
      ) : null}
    </>
  );
}
