import type { SamlTest } from "../../sso/saml/connection-store.js";
import type { viewConnection } from "../../sso/saml/connections.js";
import type { SpUrls } from "../../sso/saml/sp.js";
import type { Tenant } from "../../tenants/store.js";
import { StatusBadge } from "../components/badge.js";
import { CopyValue } from "../components/copy.js";
import { Csrf, type FieldErrors, TextArea, TextField } from "../components/field.js";
import { Flash } from "../components/flash.js";
import { OidcSections, type OidcView } from "./oidc-page.js";
import { OIDC_PROVIDERS, type OidcProvider } from "./oidc-providers.js";
import { PROVIDERS, type Provider } from "./providers.js";
import type { OidcTest } from "../../sso/oidc/connection-store.js";
import { TestReport } from "./report.js";

/** Certificates expiring within this many days raise the banner. */
const WARN_DAYS = 30;

interface Props {
  base: string;
  csrf: string;
  tenant: Tenant;
  conn?: ReturnType<typeof viewConnection>;
  sp: SpUrls;
  provider?: Provider;
  test?: SamlTest;
  roles: Array<{ key: string; name: string }>;
  errors?: FieldErrors;
  values?: Record<string, string>;
  /** The OpenID Connect side: its connection, and the chosen OIDC provider (then steps 2–5 are OIDC's). */
  oidc: { provider?: OidcProvider; conn?: OidcView; test?: OidcTest; redirectUri: string };
}

function stateOf(conn: { state: string; testedSinceLastChange: boolean } | undefined): string {
  if (!conn) return "not configured";
  if (conn.state === "draft" && conn.testedSinceLastChange) return "tested";
  return conn.state;
}

/** The SSO configuration page, top to bottom as the admin works through it. */
export function SsoPage(p: Props) {
  const oidcMode = p.oidc.provider !== undefined;
  const state = stateOf(oidcMode ? p.oidc.conn : p.conn);
  const samlState = stateOf(p.conn);
  const oidcState = stateOf(p.oidc.conn);
  // The OAuth hand-off and console sign-in prefer the enabled SAML connection, else the enabled
  // OpenID Connect one (src/sso/saml/routes.ts).
  const uses =
    samlState === "enabled"
      ? "SAML"
      : oidcState === "enabled"
        ? "OpenID Connect"
        : "neither: no connection is enabled";
  const provisioningOf = p.conn?.settings.provisioning ?? p.oidc.conn?.settings.provisioning;
  const expiring = (p.conn?.idp.certificates ?? []).filter((c) => c.daysUntilExpiry <= WARN_DAYS);
  const v = p.values ?? {};
  return (
    <>
      <p class="state">
        State: <StatusBadge status={state} />{" "}
        {state === "not configured"
          ? "Choose your identity provider to begin."
          : state === "draft"
            ? "Saved, not yet tested."
            : state === "tested"
              ? "Tested: ready to enable."
              : state === "enabled"
                ? "Members sign in through your identity provider."
                : "Disabled: nobody can sign in through SSO."}
      </p>
      <dl class="connections" aria-label="Connections">
        <dt>SAML</dt>
        <dd>
          <StatusBadge status={samlState} />
        </dd>
        <dt>OpenID Connect</dt>
        <dd>
          <StatusBadge status={oidcState} />
        </dd>
        <dt>Sign-in uses</dt>
        <dd id="sign-in-uses">{uses}</dd>
      </dl>
      {expiring.map((c) => (
        <Flash tone={c.daysUntilExpiry < 0 ? "bad" : "warn"}>
          {c.daysUntilExpiry < 0
            ? `The IdP signing certificate ${c.subject} expired on ${c.notAfter.slice(0, 10)}: sign-ins fail until you upload the new one below.`
            : `The IdP signing certificate ${c.subject} expires on ${c.notAfter.slice(0, 10)} (in ${c.daysUntilExpiry} days): add the new certificate below before then.`}
        </Flash>
      ))}

      <section aria-labelledby="s1">
        <h2 id="s1">1. Choose your identity provider</h2>
        <h3 id="pick-saml">SAML 2.0</h3>
        <ul class="providers" aria-labelledby="pick-saml">
          {PROVIDERS.map((x) => (
            <li>
              <a
                href={`${p.base}?provider=${x.key}`}
                aria-current={!oidcMode && p.provider?.key === x.key ? "true" : undefined}
              >
                {x.name}
              </a>
            </li>
          ))}
        </ul>
        <h3 id="pick-oidc">OpenID Connect</h3>
        <ul class="providers" aria-labelledby="pick-oidc">
          {OIDC_PROVIDERS.map((x) => (
            <li>
              <a
                href={`${p.base}?provider=${x.key}`}
                aria-current={p.oidc.provider?.key === x.key ? "true" : undefined}
              >
                {x.name}
              </a>
            </li>
          ))}
        </ul>
      </section>

      {p.oidc.provider ? (
        <OidcSections
          base={p.base}
          csrf={p.csrf}
          provider={p.oidc.provider}
          conn={p.oidc.conn}
          test={p.oidc.test}
          redirectUri={p.oidc.redirectUri}
          errors={p.errors}
          values={p.values}
        />
      ) : p.provider ? (
        <>
          <section aria-labelledby="s2">
            <h2 id="s2">2. Set up Roster in {p.provider.name}</h2>
            <ol class="steps">
              {p.provider.steps(p.sp).map((s) => (
                <li>{s}</li>
              ))}
            </ol>
            <h3>Values to copy into {p.provider.name}</h3>
            <CopyValue id="sp-entity-id" label="Entity ID" value={p.sp.entityId} />
            <CopyValue id="sp-acs-url" label="ACS URL" value={p.sp.acsUrl} />
            <CopyValue id="sp-metadata-url" label="Metadata URL" value={p.sp.metadataUrl} />
            {p.conn ? (
              <p>
                <a href={`${p.base}/sp-certificate.pem`} download>
                  Download the SP certificate (PEM)
                </a>
              </p>
            ) : (
              <p class="hint">The SP certificate can be downloaded once the IdP's details are saved.</p>
            )}
          </section>

          <section aria-labelledby="s3">
            <h2 id="s3">3. Enter {p.provider.name}'s details</h2>
            <p class="hint">Bring back: {p.provider.bringBack}. Fill one of the three ways.</p>
            {p.errors?._form ? <Flash tone="bad">{p.errors._form}</Flash> : null}
            <form method="post" action={`${p.base}/idp`}>
              <Csrf token={p.csrf} />
              <input type="hidden" name="provider" value={p.provider.key} />
              <TextField
                name="metadataUrl"
                label="Metadata URL"
                type="url"
                value={v.metadataUrl ?? p.conn?.idp.metadataUrl ?? ""}
                errors={p.errors}
                hint="Preferred: Roster reads the SSO URL, entity ID and certificates from it."
              />
              <div class="field">
                <label for="f-metadataFile">Or upload the metadata XML file</label>
                <input
                  id="f-metadataFile"
                  type="file"
                  accept=".xml,application/xml,text/xml"
                  data-read-into="f-metadataXml"
                />
              </div>
              <TextArea
                name="metadataXml"
                label="Metadata XML"
                value={v.metadataXml}
                errors={p.errors}
                rows={4}
                hint="Filled by the upload above, or paste it here."
              />
              <fieldset>
                <legend>Or enter the values one by one</legend>
                <TextField
                  name="ssoUrl"
                  label="SSO URL"
                  type="url"
                  value={v.ssoUrl ?? p.conn?.idp.ssoUrl ?? ""}
                  errors={p.errors}
                />
                <TextField
                  name="idpEntityId"
                  label="IdP entity ID (issuer)"
                  value={v.idpEntityId ?? p.conn?.idp.entityId ?? ""}
                  errors={p.errors}
                />
                <TextArea
                  name="certificate"
                  label="Signing certificate (PEM)"
                  value={v.certificate}
                  errors={p.errors}
                  rows={6}
                />
              </fieldset>
              <button type="submit">Save identity provider details</button>
            </form>
          </section>
        </>
      ) : null}

      {p.conn && !oidcMode ? (
        <>
          <section aria-labelledby="test-h" id="test">
            <h2 id="test-h">4. Test the configuration</h2>
            <form method="post" action={`${p.base}/test`} class="actions" data-opens-sign-in="">
              <Csrf token={p.csrf} />
              {p.provider ? <input type="hidden" name="provider" value={p.provider.key} /> : null}
              <button type="submit">Test configuration</button>
            </form>
            {p.test ? (
              <>
                {p.test.status === "pending" ? (
                  <p>
                    <a
                      href={`/sso/${encodeURIComponent(p.tenant.slug)}/login?test=${p.test.id}`}
                      target="_blank"
                      rel="noopener noreferrer"
                    >
                      Open the sign-in at your identity provider (new tab)
                    </a>
                  </p>
                ) : null}
                <div
                  id="test-region"
                  aria-live="polite"
                  data-poll-url={p.test.status === "pending" ? `${p.base}/test/${p.test.id}` : undefined}
                  data-reload-when-final=""
                >
                  <TestReport test={p.test} />
                </div>
              </>
            ) : null}
          </section>

          <section aria-labelledby="s5">
            <h2 id="s5">5. Enable single sign-on</h2>
            <div class="actions">
              <form method="post" action={`${p.base}/enable`}>
                <Csrf token={p.csrf} />
                <button
                  type="submit"
                  disabled={!p.conn.testedSinceLastChange || p.conn.state === "enabled"}
                  aria-describedby="enable-hint"
                >
                  Enable SSO
                </button>
              </form>
              <form method="post" action={`${p.base}/disable`}>
                <Csrf token={p.csrf} />
                <button type="submit" class="secondary">
                  Disable SSO
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

      {provisioningOf ? (
        <section aria-labelledby="s6" id="provisioning">
          <h2 id="s6">6. Provisioning preferences</h2>
          <form method="post" action={`${p.base}/provisioning`}>
            <Csrf token={p.csrf} />
            <fieldset class={p.errors?.provisioning ? "field field-invalid" : "field"}>
              <legend>How members are created</legend>
              <label>
                <input
                  type="radio"
                  name="provisioning"
                  value="jit"
                  checked={(v.provisioning ?? provisioningOf) === "jit"}
                />{" "}
                Just-in-time: created on first sign-in with the default role
              </label>
              <label>
                <input
                  type="radio"
                  name="provisioning"
                  value="manual"
                  checked={(v.provisioning ?? provisioningOf) === "manual"}
                />{" "}
                Manual: invite members (or sync them by SCIM) before they can sign in
              </label>
              {p.errors?.provisioning ? <p class="field-error">{p.errors.provisioning}</p> : null}
            </fieldset>
            <div class={p.errors?.defaultRole ? "field field-invalid" : "field"}>
              <label for="f-defaultRole">Default role</label>
              <select
                id="f-defaultRole"
                name="defaultRole"
                aria-describedby={p.errors?.defaultRole ? "f-defaultRole-error" : undefined}
              >
                {p.roles.map((r) => (
                  <option value={r.key} selected={(v.defaultRole ?? p.tenant.settings.defaultRole) === r.key}>
                    {r.name}
                  </option>
                ))}
              </select>
              {p.errors?.defaultRole ? (
                <p class="field-error" id="f-defaultRole-error">
                  {p.errors.defaultRole}
                </p>
              ) : null}
            </div>
            <button type="submit">Save provisioning preferences</button>
          </form>
        </section>
      ) : null}
    </>
  );
}
