/**
 * Shared set-up for the secrets-at-rest suites: a tenant holding every kind of stored secret,
 * the flows that use each one, and a scan of every text cell of every table.
 */
import assert from "node:assert/strict";
import { createHash, createVerify, randomBytes } from "node:crypto";
import { stringify } from "node:querystring";
import type { Knex } from "knex";
import { createLocalJWKSet, jwtVerify } from "jose";
import supertest from "supertest";
import { createApp } from "../../src/app.js";
import type { Deps } from "../../src/deps.js";
import { verifySignature } from "../../src/events/signature.js";
import { listSigningKeys } from "../../src/oauth/store.js";
import { findConnection } from "../../src/sso/saml/connection-store.js";
import { keyringOf, SEALED_FIELDS, type SealedField } from "../../src/secrets/sealed.js";
import { startReceiver } from "../events/receiver.js";
import { admin, eventually, scimClient, type TestContext, userBody } from "../helpers/context.js";
import { addUser, authnRequestOf, Browser, setupSso, type SsoTenant } from "../saml/sso-helpers.js";

const REDIRECT = "https://app.example.test/callback";

/** A tenant with an SP key pair, a webhook (rotated: current and previous secret) and an OAuth client. */
export interface SecretWorld {
  slug: string;
  sso: SsoTenant;
  scimToken: string;
  rx: Awaited<ReturnType<typeof startReceiver>>;
  /** The random path segment of the webhook URL (a bearer credential, like Slack's). */
  urlToken: string;
  hook: { id: string; secret: string; previousSecret: string };
  client: { clientId: string; clientSecret: string };
}

/** Build the world through the admin API, as an operator would. */
export async function buildSecretWorld(ctx: TestContext, slug: string): Promise<SecretWorld> {
  const sso = await setupSso(ctx, slug);
  await addUser(sso, `ann@${slug}.test`, { emails: [{ value: `ann@${slug}.test`, primary: true }] });
  const a = admin(ctx);
  const scimToken = (await a.post(`/admin/v1/tenants/${slug}/scim-tokens`, { name: "secrets" }).expect(201))
    .body.token;
  const rx = await startReceiver();
  const urlToken = `T${randomBytes(18).toString("base64url")}`;
  const created = await a
    .post(`/admin/v1/tenants/${slug}/webhooks`, { url: `${rx.url}/${urlToken}`, events: ["user.*"] })
    .expect(201);
  const rotated = await a
    .post(`/admin/v1/tenants/${slug}/webhooks/${created.body.id}/rotate-secret`, {
      graceSeconds: 7 * 24 * 3600,
    })
    .expect(200);
  const client = (
    await a
      .post(`/admin/v1/tenants/${slug}/oauth-clients`, { name: "App", redirectUris: [REDIRECT] })
      .expect(201)
  ).body;
  return {
    slug,
    sso,
    scimToken,
    rx,
    urlToken,
    hook: { id: created.body.id, secret: rotated.body.secret, previousSecret: created.body.secret },
    client: { clientId: client.clientId, clientSecret: client.clientSecret },
  };
}

/** A context's view of another composition of the same database (a restarted process). */
export function viewOf(ctx: TestContext, deps: Deps): TestContext {
  const app = createApp(deps);
  return { ...ctx, deps, app, http: supertest(app) };
}

/** The second line of a PEM: 64 base64 characters of the key itself. */
const pemLine = (pem: string) => pem.trim().split("\n")[1];

/**
 * Every secret of the world, in clear, read through the stores (what the app decrypts), as
 * fragments to search for: a PEM body line, a private JWK's d/p/q, the webhook secrets and URL.
 */
export async function secretValues(ctx: TestContext, w: SecretWorld): Promise<Record<string, string>> {
  const conn = (await findConnection(ctx.deps.db, w.sso.tenantId))!;
  const out: Record<string, string> = {
    spSigningKey: pemLine(conn.sp.signingKey),
    spEncryptionKey: pemLine(conn.sp.encryptionKey),
    webhookSecret: w.hook.secret,
    webhookPreviousSecret: w.hook.previousSecret,
    webhookUrlToken: w.urlToken,
  };
  assert.match(conn.sp.signingKey, /BEGIN PRIVATE KEY/);
  const keys = await listSigningKeys(ctx.deps.db);
  assert.ok(keys.length > 0, "an id_token signing key exists");
  keys.forEach((k, i) => {
    const jwk = JSON.parse(k.privateJwk);
    for (const p of ["d", "p", "q"]) out[`signingKey${i}.${p}`] = jwk[p];
  });
  return out;
}

/** Every non-null cell of every table, as text. */
export async function allCells(db: Knex): Promise<Array<{ where: string; text: string }>> {
  const pg = db.client.config.client === "pg";
  const tables: string[] = pg
    ? (
        await db.raw(
          "select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'",
        )
      ).rows.map((r: any) => r.name)
    : (await db.raw("select name from sqlite_master where type = 'table' and name not like 'sqlite_%'")).map(
        (r: any) => r.name,
      );
  assert.ok(tables.includes("webhooks") && tables.includes("saml_connections"), `tables: ${tables}`);
  const cells: Array<{ where: string; text: string }> = [];
  for (const table of tables)
    for (const row of await db(table).select("*"))
      for (const [column, v] of Object.entries(row))
        if (v !== null && v !== undefined)
          cells.push({
            where: `${table}.${column}`,
            text: typeof v === "object" && !(v instanceof Date) ? JSON.stringify(v) : String(v),
          });
  return cells;
}

/** Where any of the secrets appears in a list of texts (`where` names each text). */
export function leaks(
  secrets: Record<string, string>,
  texts: Array<{ where: string; text: string }>,
): string[] {
  const found: string[] = [];
  for (const [name, value] of Object.entries(secrets)) {
    assert.ok(value && value.length >= 16, `${name} is a real secret fragment`);
    for (const t of texts) if (t.text.includes(value)) found.push(`${name} in ${t.where}`);
  }
  return found;
}

/** Every sealed column of every row holds an enc:v1 value under the given key id (or is null). */
export async function assertAllSealedUnder(db: Knex, keyId: string): Promise<number> {
  let n = 0;
  for (const spec of Object.values(SEALED_FIELDS))
    for (const r of await db(spec.table).select(spec.column).whereNotNull(spec.column)) {
      assert.match(
        r[spec.column],
        new RegExp(`^enc:v1:${keyId.replace(/[-]/g, "\\-")}:`),
        `${spec.table}.${spec.column}`,
      );
      n++;
    }
  return n;
}

/** Write every sealed value back in clear, as a Roster before encryption at rest stored it. */
export async function writeSealedValuesInClear(db: Knex): Promise<number> {
  const keyring = keyringOf(db);
  let n = 0;
  for (const [field, spec] of Object.entries(SEALED_FIELDS) as [
    SealedField,
    (typeof SEALED_FIELDS)[SealedField],
  ][])
    for (const r of await db(spec.table)
      .select([...spec.key, spec.column])
      .whereNotNull(spec.column)) {
      const row = spec.key.map((k) => String(r[k]));
      const clear = keyring.open(r[spec.column], { field, row });
      await db(spec.table)
        .where(Object.fromEntries(spec.key.map((k, i) => [k, row[i]])))
        .update({ [spec.column]: clear });
      n++;
    }
  return n;
}

/**
 * Use every secret: a signed AuthnRequest (SP signing key), an encrypted assertion (SP
 * encryption key), an id_token checked against the JWKS (OpenID signing key), and a webhook
 * delivery signed with the current and the previous secret to the URL's token path.
 */
export async function exerciseSecrets(ctx: TestContext, w: SecretWorld, label: string): Promise<void> {
  const a = admin(ctx);
  const conn = (await a.get(`/admin/v1/tenants/${w.slug}/saml`).expect(200)).body;

  // SAML HTTP-Redirect binding (SAML 2.0 Bindings §3.4.4.1): the signature covers
  // SAMLRequest=…&RelayState=…&SigAlg=… as sent.
  const start = await new Browser(ctx).get(`/sso/${w.slug}/login`, 302);
  const q = new URL(start.headers.location).searchParams;
  assert.ok(q.get("Signature"), "the AuthnRequest is signed");
  const signed: Record<string, string> = { SAMLRequest: q.get("SAMLRequest")! };
  if (q.has("RelayState")) signed.RelayState = q.get("RelayState")!;
  signed.SigAlg = q.get("SigAlg")!;
  const verifier = createVerify("RSA-SHA256").update(stringify(signed));
  assert.ok(
    verifier.verify(conn.sp.signingCertificate, q.get("Signature")!, "base64"),
    "AuthnRequest signature",
  );

  // An assertion encrypted for the SP encryption certificate, then the OAuth hand-off.
  const b = new Browser(ctx);
  const codeVerifier = randomBytes(32).toString("base64url");
  const authorize = await b.get(
    `/oauth/authorize?${new URLSearchParams({
      response_type: "code",
      client_id: w.client.clientId,
      redirect_uri: REDIRECT,
      scope: "openid email",
      state: "s",
      nonce: "n",
      code_challenge: createHash("sha256").update(codeVerifier).digest("base64url"),
      code_challenge_method: "S256",
    })}`,
    302,
  );
  const requestId = authnRequestOf(authorize.headers.location).id;
  const acs = await b.acs(
    w.slug,
    await w.sso.idp.response(
      w.sso.opts({
        nameId: `ann@${w.slug}.test`,
        inResponseTo: requestId,
        encryptFor: conn.sp.encryptionCertificate,
      }),
    ),
  );
  assert.equal(acs.status, 302, acs.text);
  const code = new URL(acs.headers.location).searchParams.get("code")!;
  const basic = `Basic ${Buffer.from(`${w.client.clientId}:${w.client.clientSecret}`).toString("base64")}`;
  const tokens = await ctx.http
    .post("/oauth/token")
    .set("Authorization", basic)
    .type("form")
    .send({ grant_type: "authorization_code", code, redirect_uri: REDIRECT, code_verifier: codeVerifier });
  assert.equal(tokens.status, 200, tokens.text);
  const jwks = await ctx.http.get("/oauth/jwks").expect(200);
  const { payload } = await jwtVerify(tokens.body.id_token, createLocalJWKSet(jwks.body), {
    issuer: "https://roster.test",
    audience: w.client.clientId,
  });
  assert.equal(payload.email, `ann@${w.slug}.test`);

  // A webhook delivery: to the URL with its token, signed with both secrets (grace period).
  const scim = scimClient(ctx, w.scimToken);
  const userId = (await scim.post("/Users", userBody(`hook-${label}@${w.slug}.test`)).expect(201)).body.id;
  const got = await eventually(
    async () => {
      ctx.deps.driver.poke();
      return w.rx.accepted().find((r) => r.event.data.userId === userId);
    },
    20_000,
    `the webhook delivery of ${label}`,
  );
  assert.equal(got.path, `/hook/${w.urlToken}`);
  const header = String(got.headers["roster-signature"]);
  const t = Number(/t=(\d+)/.exec(header)![1]);
  assert.equal(header.split(",").filter((p) => p.startsWith("v1=")).length, 2, header);
  assert.ok(verifySignature(w.hook.secret, header, got.body, t), "signed with the current secret");
  assert.ok(verifySignature(w.hook.previousSecret, header, got.body, t), "signed with the previous secret");
}
