import { Router } from "express";
import type { Deps } from "../deps.js";

/** Public SSO endpoints: /sso/{slug}/…, /oauth/…, /.well-known/openid-configuration. */
export function ssoRoutes(_deps: Deps): Router {
  return Router();
}
