import { Router } from "express";
import type { Deps } from "../deps.js";
import { scimAuth } from "../http/auth.js";
import { jsonBody } from "../http/body.js";

/** The SCIM 2.0 endpoint, base /scim/v2; the bearer token names the tenant. */
export function scimRoutes(deps: Deps): Router {
  const r = Router();
  r.use(scimAuth(deps), jsonBody(deps.config.bodyLimitBytes));
  r.get("/ServiceProviderConfig", (_req, res) => {
    res.type("application/scim+json").send(
      JSON.stringify({
        schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        patch: { supported: false },
        bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
        filter: { supported: false, maxResults: 0 },
        changePassword: { supported: false },
        sort: { supported: false },
        etag: { supported: false },
        authenticationSchemes: [
          {
            type: "oauthbearertoken",
            name: "OAuth Bearer Token",
            description: "Authentication with a per-tenant SCIM bearer token issued by the Roster admin API",
            primary: true,
          },
        ],
        meta: {
          resourceType: "ServiceProviderConfig",
          location: `${deps.config.publicUrl}/scim/v2/ServiceProviderConfig`,
        },
      }),
    );
  });
  return r;
}
