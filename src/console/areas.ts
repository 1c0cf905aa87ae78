import type { Router } from "express";
import type { Deps } from "../deps.js";
import type { NavLink } from "./components/layout.js";
import { domainsArea } from "./domains/routes.js";
import { eventsArea } from "./events/routes.js";
import { logsArea } from "./logs/routes.js";
import { membersArea } from "./members/routes.js";
import { rolesArea } from "./roles/routes.js";
import { ssoArea } from "./sso/routes.js";
import { scimArea } from "./scim/routes.js";
import type { Scope } from "./store.js";

/**
 * A tenant area of the console: its nav entry, the scope a session needs, and a router factory.
 * The console mounts `router(deps)` at /console/t/:slug/<path> behind the session, tenant, scope
 * and CSRF checks, so a handler only renders (see README "Console" → adding a page).
 *
 * To add an area: write `src/console/<area>/routes.ts` exporting a TenantArea, and put it in
 * TENANT_AREAS below (one line). Inside, `consoleTenant(res)` is the tenant, `consoleContext(res)`
 * the session and actor, and `renderPage(res, {...}, <Content/>)` renders in the layout.
 */
export interface TenantArea {
  /** URL segment under /console/t/:slug/. */
  path: string;
  label: string;
  /** Nav heading it sits under ("Security", "Directory", ...). */
  group: string;
  scope: Scope;
  /** Routes relative to the area's path; created with Router({ mergeParams: true }). */
  router: (deps: Deps) => Router;
}

/** The tenant areas, in nav order. */
export const TENANT_AREAS: TenantArea[] = [
  ssoArea,
  domainsArea,
  scimArea,
  membersArea,
  rolesArea,
  eventsArea,
  logsArea,
];

/** The nav links of a tenant for a session with these scopes (operators: all). */
export function tenantNav(slug: string, scopes: Scope[] | "all"): NavLink[] {
  return TENANT_AREAS.filter((a) => scopes === "all" || scopes.includes(a.scope)).map((a) => ({
    href: `/console/t/${encodeURIComponent(slug)}/${a.path}`,
    label: a.label,
    group: a.group,
  }));
}

/** Operator pages, in nav order. */
export const OPERATOR_NAV: NavLink[] = [
  { href: "/console/operator/tenants", label: "Tenants" },
  { href: "/console/operator/admin-keys", label: "Admin keys" },
  { href: "/console/operator/jobs", label: "Jobs & dead letters" },
  { href: "/console/operator/health", label: "System health" },
  { href: "/console/operator/audit-log", label: "Audit log" },
];
