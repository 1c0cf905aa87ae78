import { randomUUID } from "node:crypto";
import type { Knex } from "knex";
import { z } from "zod";
import { AppError, notFound } from "../http/errors.js";
import { redirectTargetUrl } from "../http/redirect-target.js";
import { parseInput } from "../http/validate.js";
import { generateSecret, hashSecret, sameHash } from "../tenants/secrets.js";
import { requireTenant } from "../tenants/use-cases.js";
import { type ConsoleLink, SCOPES, type Scope } from "./store.js";
import * as store from "./store.js";

/** Link secrets are recognisable at a glance. */
export const LINK_PREFIX = "rst_link_";
/** `console:link` URLs live 10 minutes (issue 15). */
export const OPERATOR_LINK_TTL_MS = 10 * 60_000;

/** What the link use cases need. */
export interface LinkDeps {
  db: Knex;
  now: () => Date;
  config: { publicUrl: string };
}

/** Body of POST /admin/v1/tenants/{slug}/setup-links. */
export const createSetupLinkInput = z
  .object({
    scopes: z.array(z.enum(SCOPES)).min(1).max(SCOPES.length),
    // Default 3 days (Ory Polis' default); at most 30 days: a link is a credential in a mailbox.
    expiresInMinutes: z.number().int().min(1).max(43_200).default(4320),
    returnUrl: redirectTargetUrl.optional(),
  })
  .strict();

/** A setup link as the admin API lists it (no secret, no URL). */
export function viewSetupLink(l: ConsoleLink) {
  return {
    id: l.id,
    scopes: l.scopes,
    returnUrl: l.returnUrl,
    createdAt: l.createdAt,
    expiresAt: l.expiresAt,
    usedAt: l.usedAt,
    revokedAt: l.revokedAt,
  };
}

/** The console URL that carries a link secret (in the query: request logs drop the query). */
function linkUrl(publicUrl: string, kind: ConsoleLink["kind"], secret: string): string {
  return `${publicUrl}/console/${kind === "setup" ? "setup" : "link"}?token=${encodeURIComponent(secret)}`;
}

/** `npm run cli -- console:link`: a single-use operator sign-in URL, valid 10 minutes. */
export async function createOperatorLink(deps: LinkDeps, createdBy = "cli") {
  const now = deps.now();
  const secret = generateSecret(LINK_PREFIX);
  const link: ConsoleLink = {
    id: randomUUID(),
    kind: "operator",
    tenantId: null,
    scopes: [...SCOPES],
    returnUrl: null,
    createdBy,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + OPERATOR_LINK_TTL_MS).toISOString(),
    usedAt: null,
    revokedAt: null,
  };
  await store.insertLink(deps.db, link, hashSecret(secret));
  return { id: link.id, url: linkUrl(deps.config.publicUrl, "operator", secret), expiresAt: link.expiresAt };
}

/** POST …/setup-links: 201 {id, url, scopes, expiresAt}; the URL is shown once. */
export async function createSetupLink(deps: LinkDeps, slug: string, body: unknown, createdBy: string) {
  const input = parseInput(createSetupLinkInput, body);
  const tenant = await requireTenant(deps, slug);
  const now = deps.now();
  const secret = generateSecret(LINK_PREFIX);
  const link: ConsoleLink = {
    id: randomUUID(),
    kind: "setup",
    tenantId: tenant.id,
    scopes: [...new Set(input.scopes)] as Scope[],
    returnUrl: input.returnUrl ?? null,
    createdBy,
    createdAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + input.expiresInMinutes * 60_000).toISOString(),
    usedAt: null,
    revokedAt: null,
  };
  await store.insertLink(deps.db, link, hashSecret(secret));
  return {
    id: link.id,
    url: linkUrl(deps.config.publicUrl, "setup", secret),
    scopes: link.scopes,
    expiresAt: link.expiresAt,
    ...(link.returnUrl ? { returnUrl: link.returnUrl } : {}),
  };
}

/** GET …/setup-links. */
export async function listSetupLinks(deps: LinkDeps, slug: string) {
  const tenant = await requireTenant(deps, slug);
  return (await store.listSetupLinks(deps.db, tenant.id)).map(viewSetupLink);
}

/** DELETE …/setup-links/{id}: revoke the link and every console session made from it. */
export async function revokeSetupLink(deps: LinkDeps, slug: string, id: string): Promise<void> {
  const tenant = await requireTenant(deps, slug);
  if (!z.uuid().safeParse(id).success) throw notFound("Setup link");
  const link = await store.findSetupLink(deps.db, tenant.id, id);
  if (!link) throw notFound("Setup link");
  const at = deps.now().toISOString();
  await deps.db.transaction(async (trx) => {
    await store.revokeLinkRow(trx, tenant.id, id, at);
    await store.revokeSessionsOfLink(trx, tenant.id, id, at);
  });
}

/** Why a link cannot be exchanged (the same answer for unknown, used, expired and revoked). */
export const LINK_REFUSED = new AppError(
  410,
  "LINK_NOT_VALID",
  "This sign-in link is not valid: it was already used, has expired or was revoked. Ask for a new one.",
);

/**
 * Spend a link secret of the given kind: the link, or LINK_REFUSED. Single exchange: the UPDATE
 * that marks it used is conditional, so only one of two concurrent exchanges wins.
 */
export async function exchangeLink(
  deps: Pick<LinkDeps, "db" | "now">,
  kind: ConsoleLink["kind"],
  secret: unknown,
): Promise<ConsoleLink> {
  if (typeof secret !== "string" || !secret.startsWith(LINK_PREFIX) || secret.length > 100)
    throw LINK_REFUSED;
  const hash = hashSecret(secret);
  const link = await store.findLinkByHash(deps.db, hash);
  if (!link || link.kind !== kind || !sameHash(link.tokenHash, hash)) throw LINK_REFUSED;
  if (!(await store.spendLink(deps.db, link.id, deps.now().toISOString()))) throw LINK_REFUSED;
  const { tokenHash: _h, ...rest } = link;
  return rest;
}
