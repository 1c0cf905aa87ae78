/** Shared set-up for the OpenID Connect suites: a tenant connected to a loopback provider, and logins. */
import { markOidcTested } from "../../src/sso/oidc/connection-store.js";
import { admin, createTenantWithToken, scimClient, type TestContext } from "../helpers/context.js";
import type { Browser } from "../saml/sso-helpers.js";

/** Roster's redirect URI for a slug in the test app (PUBLIC_URL is https://roster.test). */
export const redirectUri = (slug: string) => `https://roster.test/sso/${slug}/oidc/callback`;

/** A configured tenant. */
export interface OidcTenant {
  slug: string;
  tenantId: string;
  scim: ReturnType<typeof scimClient>;
}

/**
 * Create a tenant and its OpenID Connect connection to `issuer` (PUT …/oidc with these fields);
 * with `enable`, mark it tested and enable it (the test-before-enable path has its own tests).
 */
export async function setupOidc(
  ctx: TestContext,
  slug: string,
  body: Record<string, unknown>,
  opts: { enable?: boolean } = {},
): Promise<OidcTenant> {
  const { tenantId, token } = await createTenantWithToken(ctx, slug);
  const a = admin(ctx);
  const put = await a.put(`/admin/v1/tenants/${slug}/oidc`, {
    clientId: "roster",
    clientSecret: "s3cret-s3cret",
    ...body,
  });
  if (put.status !== 200) throw new Error(`PUT oidc: ${put.status} ${JSON.stringify(put.body)}`);
  if (opts.enable !== false) {
    await markOidcTested(ctx.deps.db, tenantId, put.body.configVersion, ctx.clock.now().toISOString());
    await a.post(`/admin/v1/tenants/${slug}/oidc/enable`).expect(200);
  }
  return { slug, tenantId, scim: scimClient(ctx, token) };
}

/** A provider that can walk a login: oidc-provider (an account id) or the forge. */
export interface LoginOp {
  login(authorizationUrl: string, accountId: string): Promise<URL>;
}

/** Start at Roster, sign in at the provider, come back: Roster's answer to the callback. */
export async function oidcLogin(b: Browser, slug: string, op: LoginOp, accountId = "", query = "") {
  const start = await b.get(`/sso/${slug}/oidc/login${query}`, 302);
  const back = await op.login(start.headers.location, accountId);
  return b.get(back.pathname + back.search);
}

/** The redirect back from the provider without delivering it (for replays and tampering). */
export async function authorize(
  b: Browser,
  slug: string,
  op: LoginOp,
  accountId = "",
  query = "",
): Promise<URL> {
  const start = await b.get(`/sso/${slug}/oidc/login${query}`, 302);
  return op.login(start.headers.location, accountId);
}

/** The reference code a refusal page shows (`Reference: CODE · trace …`). */
export function refusalCode(html: string): string | undefined {
  return /Reference: ([A-Z_]+)/.exec(html)?.[1];
}
