import type { CacheProvider } from "@node-saml/node-saml";
import { hashSecret } from "../../tenants/secrets.js";
import type { Tenant } from "../../tenants/store.js";
import { SsoFailure } from "./acs-checks.js";
import type { SamlConnection } from "./connection-store.js";
import { findTenantConnectionBySlug, findTest } from "./connection-store.js";
import type { SsoDeps } from "./connections.js";
import { reservePendingSlot } from "../pending.js";
import {
  insertRequest,
  type OAuthParams,
  type RequestPurpose,
  type SamlRequestRow,
} from "../request-store.js";
import { absoluteReturnUrl, isAllowedReturnUrl } from "../return-url.js";
import { REQUEST_TTL_MS, samlFor, spUrls } from "./sp.js";

const SLUG = /^[a-z0-9][a-z0-9-]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The tenant and connection for a public SSO endpoint, or a failure page; with `requestId`, the
 * started request a response names too (same query).
 */
export async function loadTenantConnection(
  deps: Pick<SsoDeps, "db">,
  slug: string,
  requestId: string | null = null,
  connectionId: string | null = null,
): Promise<{ tenant: Tenant; conn: SamlConnection; request: SamlRequestRow | undefined }> {
  // Slugs are lowercase letters, digits and dashes, connection ids UUIDs: anything else (a NUL
  // byte, which PostgreSQL refuses in a query) names no workspace, without a query.
  const named = connectionId === null || UUID.test(connectionId);
  const found =
    SLUG.test(slug) && named
      ? await findTenantConnectionBySlug(deps.db, slug, requestId, connectionId)
      : undefined;
  if (!found) throw new SsoFailure("UNKNOWN_TENANT", "This workspace does not exist.", {}, 404);
  const { tenant, conn, request } = found;
  if (!conn)
    throw new SsoFailure("NOT_CONFIGURED", `Single sign-on is not set up for ${tenant.name}.`, {}, 404);
  return { tenant, conn, request };
}

export { PENDING_PER_BROWSER } from "../pending.js";

/** What starts a login. */
export interface LoginStart {
  returnTo?: string;
  testId?: string;
  oauth?: OAuthParams;
  /** The browser's binding nonce (cookie value); the request row stores only its hash. */
  browserNonce: string;
  /** A named connection (/sso/{slug}/{id}/login); the default when absent. */
  connectionId?: string;
}

/**
 * SP-initiated login: an AuthnRequest (HTTP-Redirect binding, signed when the connection says
 * so) whose id is stored with the hash of this browser's nonce, so any process can later check
 * that the response answers a request *this* browser started. Returns the IdP redirect URL.
 */
export async function startLogin(deps: SsoDeps, slug: string, start: LoginStart): Promise<string> {
  const { tenant, conn } = await loadTenantConnection(deps, slug, null, start.connectionId ?? null);
  const purpose: RequestPurpose = start.testId ? "test" : start.oauth ? "oauth" : "login";
  if (purpose === "test") {
    const test = await findTest(deps.db, tenant.id, start.testId!);
    // A test link runs on the connection it was made for.
    const ofThis = test && (test.connectionId === null ? conn.isDefault : test.connectionId === conn.id);
    if (test?.status !== "pending" || !ofThis)
      throw new SsoFailure(
        "UNKNOWN_TEST",
        "This test link is unknown or was already used: start a new test.",
        {},
        404,
      );
  } else if (conn.state !== "enabled") {
    throw new SsoFailure("SSO_NOT_ENABLED", `Single sign-on is not enabled for ${tenant.name}.`, {}, 403);
  }
  let returnTo: string | null = null;
  if (start.returnTo !== undefined && purpose === "login") {
    if (!isAllowedReturnUrl(start.returnTo, deps.config.publicUrl, conn.settings.returnUrls))
      throw new SsoFailure(
        "RETURN_URL_NOT_ALLOWED",
        "The return address is not on this workspace's list of allowed URLs.",
        {},
        400,
      );
    returnTo = absoluteReturnUrl(start.returnTo, deps.config.publicUrl);
  }
  const now = deps.now();
  const browserHash = hashSecret(start.browserNonce);
  // Before anything is stored or signed: a refused start costs neither.
  await reservePendingSlot(deps, tenant, browserHash, now);
  const cache: CacheProvider = {
    saveAsync: async (id, instant) => {
      const row: SamlRequestRow = {
        id,
        tenantId: tenant.id,
        connectionId: conn.id,
        browserHash,
        purpose,
        issueInstant: instant,
        returnTo,
        testId: start.testId ?? null,
        oauth: start.oauth ?? null,
        createdAt: now.toISOString(),
        expiresAt: new Date(now.getTime() + REQUEST_TTL_MS).toISOString(),
        consumedAt: null,
      };
      await insertRequest(deps.db, row);
      return { value: instant, createdAt: now.getTime() };
    },
    getAsync: async () => null,
    removeAsync: async () => null,
  };
  const saml = samlFor(conn, spUrls(deps.config.publicUrl, tenant.slug, conn), cache);
  return saml.getAuthorizeUrlAsync("", undefined, {});
}
