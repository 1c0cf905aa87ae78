import { Router } from "express";
import type { Deps } from "../deps.js";

/** Admin API for roles, role mappings and user roles (under /admin/v1/tenants/{slug}). */
export function roleRoutes(_deps: Deps): Router {
  return Router();
}
