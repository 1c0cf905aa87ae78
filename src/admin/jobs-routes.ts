import { Router } from "express";
import type { Deps } from "../deps.js";

/** Admin API for jobs: dead letters and retries (under /admin/v1/jobs). */
export function jobRoutes(_deps: Deps): Router {
  return Router();
}
