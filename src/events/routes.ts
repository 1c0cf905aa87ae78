import { Router } from "express";
import type { Deps } from "../deps.js";

/** Admin API for the event feed and webhooks (under /admin/v1/tenants/{slug}). */
export function eventRoutes(_deps: Deps): Router {
  return Router();
}
