import { Router } from "express";
import type { Deps } from "../deps.js";

/** Admin API for a tenant's SAML connection and its tests (under /admin/v1/tenants/{slug}/saml). */
export function samlAdminRoutes(_deps: Deps): Router {
  return Router();
}
