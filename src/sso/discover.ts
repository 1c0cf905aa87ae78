import type { Knex } from "knex";
import { normaliseDomain } from "../domains/names.js";
import { oidcUrls } from "./oidc/connections.js";
import { spUrls } from "./saml/sp.js";
import * as store from "./policy-store.js";

/** What discover needs. */
export interface DiscoverDeps {
  db: Knex;
  now: () => Date;
  config: { publicUrl: string };
}

/** The answer of GET /sso/discover. */
export type Discovery =
  | { sso: false }
  | { sso: true; required: boolean; breakGlass?: true; tenant: string; connection: string; loginUrl: string };

const NO_SSO: Discovery = { sso: false };

/** An e-mail's lower-cased form and its normalised domain, or undefined when it is not one. */
export function parseEmail(raw: unknown): { email: string; domain: string } | undefined {
  if (typeof raw !== "string" || raw.length > 320) return undefined;
  const email = raw.trim().toLowerCase();
  const at = email.lastIndexOf("@");
  if (at < 1 || /\s/.test(email)) return undefined;
  const domain = normaliseDomain(email.slice(at + 1));
  return domain ? { email: `${email.slice(0, at)}@${domain}`, domain } : undefined;
}

/**
 * Where an e-mail signs in. A verified domain of a tenant with an enabled connection routes to
 * it (`required` from the tenant's policy); otherwise a tenant requiring SSO whose directory has
 * the address (contractors on other domains; the first by slug if several) routes it, required.
 * Anything else, an unverified claim included, is `{sso: false}`: the same answer as a domain
 * nobody claimed, so claiming a domain reveals and enforces nothing until it is proven. An
 * armed break-glass account gets `required: false, breakGlass: true` until its window closes.
 */
export async function discover(deps: DiscoverDeps, raw: unknown): Promise<Discovery> {
  const { type: _t, ...found } = await discoverRoute(deps, raw);
  return found;
}

/** discover, with the routed connection's protocol (what the OAuth hand-off starts). */
export async function discoverRoute(
  deps: DiscoverDeps,
  raw: unknown,
): Promise<Discovery & { type?: "saml" | "oidc" }> {
  const parsed = parseEmail(raw);
  if (!parsed) return NO_SSO;
  const route =
    (await store.findDomainRoute(deps.db, parsed.domain)) ??
    (await store.findDirectoryRoutes(deps.db, parsed.email, 1))[0];
  if (!route) return NO_SSO;
  const base = {
    sso: true as const,
    tenant: route.slug,
    connection: route.connectionId,
    type: route.type,
    loginUrl:
      route.type === "oidc"
        ? oidcUrls(deps.config.publicUrl, route.slug).loginUrl
        : spUrls(deps.config.publicUrl, route.slug, { id: route.connectionId, isDefault: route.isDefault })
            .loginUrl,
  };
  if (!route.requireSso) return { ...base, required: false };
  const open = await store.findOpenWindow(deps.db, route.tenantId, parsed.email, deps.now().toISOString());
  return open ? { ...base, required: false, breakGlass: true } : { ...base, required: true };
}
