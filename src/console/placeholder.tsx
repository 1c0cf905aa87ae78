import type { TenantArea } from "./areas.js";
import { areaRouter } from "./http.js";
import { renderPage } from "./page.js";

/** An area whose pages are not built yet: its nav entry and a page that says so. */
export function placeholderArea(a: Omit<TenantArea, "router">): TenantArea {
  return {
    ...a,
    router: () => {
      const r = areaRouter();
      r.get("/", (_req, res) => {
        renderPage(res, { title: a.label }, <p>This page is not available yet.</p>);
      });
      return r;
    },
  };
}
