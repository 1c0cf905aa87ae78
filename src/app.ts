import express, { type Express } from "express";
import type { Deps } from "./deps.js";
import { adminAuth } from "./http/auth.js";
import { jsonBody } from "./http/body.js";
import { errorHandler, notFoundHandler } from "./http/error-handler.js";
import { healthRoutes, metricsRoute } from "./http/health.js";
import { urlGuard } from "./http/input-guard.js";
import { signInRateLimits } from "./http/rate-limit.js";
import { requestContext } from "./http/request-context.js";
import { accessRoutes } from "./access/routes.js";
import { setupLinkRoutes } from "./console/admin-routes.js";
import { consoleRoutes } from "./console/router.js";
import { jobRoutes } from "./admin/jobs-routes.js";
import { domainRoutes } from "./domains/routes.js";
import { eventRoutes } from "./events/routes.js";
import { roleRoutes } from "./roles/routes.js";
import { samlAdminRoutes } from "./sso/saml/admin-routes.js";
import { oidcAdminRoutes } from "./sso/oidc/admin-routes.js";
import { oidcRoutes } from "./sso/oidc/routes.js";
import { ssoRoutes } from "./sso/saml/routes.js";
import { ssoPolicyRoutes, ssoRoutingRoutes } from "./sso/routes.js";
import { scimRoutes } from "./scim/routes.js";
import { tenantRoutes } from "./tenants/routes.js";

/** Build the HTTP app: each capability's routes and one error handler. Never listens. */
export function createApp(deps: Deps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("query parser", "simple");
  // ROSTER_TRUST_PROXY: off by default, never `true` (see config.ts).
  app.set("trust proxy", deps.config.trustProxy);
  app.use(requestContext(deps.logger, deps.metrics, deps.now));
  app.use(urlGuard());
  // SCIM first: most requests are SCIM, and every router a request passes costs it. Its failed
  // authentications are limited in scimAuth (successful ones never are).
  app.use("/scim/v2", scimRoutes(deps));
  app.use(healthRoutes(deps));
  // With METRICS_PORT, /metrics lives on that listener only (server.ts, worker.ts).
  if (!deps.config.metricsPort) app.use(metricsRoute(deps, { open: false }));
  // Before the per-slug limits: /sso/discover and /sso/login name no tenant.
  app.use(ssoRoutingRoutes(deps));
  app.use(signInRateLimits(deps));
  app.use(ssoRoutes(deps));
  app.use(oidcRoutes(deps));
  // The web console: server-rendered pages with their own sessions, CSRF tokens and CSP.
  app.use("/console", consoleRoutes(deps));
  app.use(
    "/admin/v1",
    adminAuth(deps),
    jsonBody(deps.config.bodyLimitBytes),
    tenantRoutes(deps),
    roleRoutes(deps),
    accessRoutes(deps),
    eventRoutes(deps),
    samlAdminRoutes(deps),
    oidcAdminRoutes(deps),
    domainRoutes(deps),
    ssoPolicyRoutes(deps),
    jobRoutes(deps),
    setupLinkRoutes(deps),
  );
  app.use(notFoundHandler);
  app.use(errorHandler(deps.logger));
  return app;
}
