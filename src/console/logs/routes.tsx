import type { Deps } from "../../deps.js";
import type { TenantArea } from "../areas.js";
import { areaRouter } from "../http.js";
import { scimRequestPage, scimRequestsPage } from "./scim-requests.js";
import { tracePage, tracesPage } from "./traces.js";

/**
 * Logs (read-only): the SCIM request log and the sign-in traces, through the same use cases as
 * GET /admin/v1/tenants/{slug}/scim-requests and …/sso-traces (no second path to the data). The
 * stored text is already redacted; it is shown as stored, escaped by preact.
 */
export const logsArea: TenantArea = {
  path: "logs",
  label: "Logs",
  group: "Activity",
  scope: "events",
  router: (deps: Deps) => {
    const r = areaRouter();
    r.get("/", (req, res) => scimRequestsPage(deps, res, req.query as Record<string, unknown>));
    r.get("/scim/:id", (req, res) => scimRequestPage(deps, res, String(req.params.id)));
    r.get("/sign-ins", (req, res) => tracesPage(deps, res, req.query as Record<string, unknown>));
    r.get("/sign-ins/:ref", (req, res) => tracePage(deps, res, String(req.params.ref)));
    return r;
  },
};
