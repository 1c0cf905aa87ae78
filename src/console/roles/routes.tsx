import type { Request, Response } from "express";
import type { Deps } from "../../deps.js";
import { groupDisplayNames } from "../../directory/groups-store.js";
import { previewMappings } from "../../roles/preview.js";
import * as roles from "../../roles/use-cases.js";
import type { TenantArea } from "../areas.js";
import { tenantActionRecorder } from "../audit.js";
import { fieldErrorsOf } from "../form-errors.js";
import { areaRouter, ConsoleRefusal, consoleTenant } from "../http.js";
import { rolesPage } from "./page.js";
import { previewPage } from "./preview.js";

const str = (v: unknown) => (typeof v === "string" ? v.trim() : "");
/** A form's number field as the use case's JSON number (an empty field: left out). */
const num = (v: unknown) => (str(v) === "" ? undefined : Number(str(v)));
const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const ID = /^[A-Za-z0-9._~-]{1,64}$/;

/** Groups and roles: roles, group→role mappings, each mapping change previewed before it is saved. */
export const rolesArea: TenantArea = {
  path: "roles",
  label: "Groups & roles",
  group: "Directory",
  scope: "roles",
  router: (deps: Deps) => {
    const r = areaRouter();
    const base = (res: Response) => `/console/t/${encodeURIComponent(consoleTenant(res).slug)}/roles`;
    const audit = tenantActionRecorder(deps);
    const keyOf = (req: Request) => {
      const key = String(req.params.key);
      if (!KEY.test(key)) throw new ConsoleRefusal(404, "There is no such role.");
      return key;
    };
    /** A 400 from a use case as field errors on the roles page; anything else is the error page. */
    const orForm = async (res: Response, values: Record<string, string>, fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (err) {
        const errors = fieldErrorsOf(err);
        if (!errors) throw err;
        await rolesPage(deps, res, { errors, values, status: 400 });
      }
    };

    r.get("/", (req, res) => rolesPage(deps, res, { done: req.query.done }));
    r.post("/roles", async (req, res) => {
      const values = { key: str(req.body.key), name: str(req.body.name), priority: str(req.body.priority) };
      await orForm(res, values, async () => {
        const role = await roles.createRole(deps, consoleTenant(res).slug, {
          key: values.key,
          name: values.name,
          ...(num(values.priority) === undefined ? {} : { priority: num(values.priority) }),
        });
        await audit(req, res, "role.create", role.key);
        res.redirect(303, `${base(res)}?done=created`);
      });
    });
    r.post("/roles/:key", async (req, res) => {
      const key = keyOf(req);
      await orForm(res, {}, async () => {
        await roles.updateRole(deps, consoleTenant(res).slug, key, {
          name: str(req.body.name),
          ...(num(req.body.priority) === undefined ? {} : { priority: num(req.body.priority) }),
        });
        await audit(req, res, "role.update", key);
        res.redirect(303, `${base(res)}?done=saved`);
      });
    });
    r.post("/roles/:key/delete", async (req, res) => {
      const key = keyOf(req);
      // The typed confirmation is checked here too (console.js only disables the button).
      if (str(req.body.confirm) !== key)
        return rolesPage(deps, res, {
          errors: { _form: `Type ${key} exactly to delete the role.` },
          status: 400,
        });
      await roles.deleteRole(deps, consoleTenant(res).slug, key);
      await audit(req, res, "role.delete", key);
      res.redirect(303, `${base(res)}?done=deleted`);
    });

    r.post("/mappings/preview", async (req, res) => {
      const tenant = consoleTenant(res);
      const values = { groupId: str(req.body.groupId), role: str(req.body.role) };
      await orForm(res, values, async () => {
        const preview = await previewMappings(deps, tenant.slug, { add: [values] });
        const group = (await groupDisplayNames(deps.db, tenant.id, [values.groupId])).get(values.groupId);
        previewPage(res, {
          what: `Map the group “${group ?? values.groupId}” to the role ${values.role}.`,
          preview,
          action: `${base(res)}/mappings`,
          hidden: values,
          button: "Save mapping",
        });
      });
    });
    r.post("/mappings", async (req, res) => {
      const values = { groupId: str(req.body.groupId), role: str(req.body.role) };
      await orForm(res, values, async () => {
        const m = await roles.createMapping(deps, consoleTenant(res).slug, values);
        await audit(req, res, "role_mapping.create", m.id);
        res.redirect(303, `${base(res)}?done=mapped`);
      });
    });
    r.post("/mappings/:id/preview-remove", async (req, res) => {
      const tenant = consoleTenant(res);
      const id = String(req.params.id);
      if (!ID.test(id)) throw new ConsoleRefusal(404, "There is no such mapping.");
      const mapping = await roles.requireMapping(deps, tenant.id, id);
      const [shown] = await roles.publicMappings(deps, tenant.id, [mapping]);
      const group = (await groupDisplayNames(deps.db, tenant.id, [mapping.groupId])).get(mapping.groupId);
      previewPage(res, {
        what: `Remove the mapping of the group “${group ?? mapping.groupId}” to the role ${shown?.role}.`,
        preview: await previewMappings(deps, tenant.slug, { remove: [id] }),
        action: `${base(res)}/mappings/${encodeURIComponent(id)}/delete`,
        hidden: {},
        button: "Remove mapping",
      });
    });
    r.post("/mappings/:id/delete", async (req, res) => {
      const id = String(req.params.id);
      if (!ID.test(id)) throw new ConsoleRefusal(404, "There is no such mapping.");
      await roles.deleteMapping(deps, consoleTenant(res).slug, id);
      await audit(req, res, "role_mapping.delete", id);
      res.redirect(303, `${base(res)}?done=unmapped`);
    });
    return r;
  },
};
