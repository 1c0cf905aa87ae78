import type { Request, Response } from "express";
import * as access from "../../access/use-cases.js";
import type { Deps } from "../../deps.js";
import { getMember } from "../../directory/members.js";
import * as roles from "../../roles/use-cases.js";
import { inviteUser } from "../../sso/saml/invitations.js";
import type { TenantArea } from "../areas.js";
import { tenantActionRecorder } from "../audit.js";
import { fieldErrorsOf } from "../form-errors.js";
import { areaRouter, ConsoleRefusal, consoleContext, consoleTenant } from "../http.js";
import { invitePage } from "./invite.js";
import { membersListPage } from "./list.js";
import { memberPage } from "./member.js";

const ID = /^[A-Za-z0-9._~-]{1,64}$/;
const str = (v: unknown) => (typeof v === "string" ? v : "");

/** Members: the list, a member's page and its actions, invitations. */
export const membersArea: TenantArea = {
  path: "members",
  label: "Members",
  group: "Directory",
  scope: "members",
  router: (deps: Deps) => {
    const r = areaRouter();
    const memberUrl = (res: Response, id: string, done: string) =>
      `/console/t/${encodeURIComponent(consoleTenant(res).slug)}/members/${encodeURIComponent(id)}?done=${done}`;
    /** Record the console action in the tenant's log, naming the actor (never a secret). */
    const audit = tenantActionRecorder(deps);
    /** The admin request behind an action, as the access use cases record it on receipts. */
    const origin = (req: Request, res: Response): access.AdminOrigin => ({
      requestId: req.id,
      actor: consoleContext(res).actor,
      arrivedAt: req.arrivedAt.toISOString(),
    });
    const userIdOf = (req: Request) => {
      const id = String(req.params.id);
      if (!ID.test(id)) throw new ConsoleRefusal(404, "There is no such member.");
      return id;
    };

    r.get("/", (req, res) => membersListPage(deps, res, req.query as Record<string, unknown>));
    r.get("/invite", (_req, res) => invitePage(deps, res));
    r.post("/invite", async (req, res) => {
      const tenant = consoleTenant(res);
      const values = Object.fromEntries(
        ["userName", "email", "givenName", "familyName", "role"].map((k) => [k, str(req.body[k]).trim()]),
      );
      try {
        const invited = await inviteUser(deps, tenant.slug, {
          userName: values.userName,
          ...(values.email ? { email: values.email } : {}),
          ...(values.givenName ? { givenName: values.givenName } : {}),
          ...(values.familyName ? { familyName: values.familyName } : {}),
          // The default role needs no grant: the member simply falls under it.
          ...(values.role && values.role !== tenant.settings.defaultRole ? { roles: [values.role] } : {}),
        });
        await audit(req, res, "member.invite", invited.id);
        res.redirect(303, memberUrl(res, invited.id, "invited"));
      } catch (err) {
        const errors = fieldErrorsOf(err, { "roles.0": "role" });
        if (errors) return invitePage(deps, res, { errors, values });
        if (err instanceof Error && "status" in err && (err as { status: number }).status === 409)
          return invitePage(deps, res, { errors: { userName: err.message }, values });
        throw err;
      }
    });
    r.get("/:id", (req, res) => memberPage(deps, res, userIdOf(req), { done: req.query.done }));
    r.post("/:id/roles", async (req, res) => {
      const id = userIdOf(req);
      const key = str(req.body.role);
      await roles.assignManualRole(deps, consoleTenant(res).slug, id, key);
      await audit(req, res, "member.role.grant", `${id}/${key}`);
      res.redirect(303, memberUrl(res, id, "granted"));
    });
    r.post("/:id/roles/remove", async (req, res) => {
      const id = userIdOf(req);
      const key = str(req.body.role);
      await roles.removeManualRole(deps, consoleTenant(res).slug, id, key);
      await audit(req, res, "member.role.remove", `${id}/${key}`);
      res.redirect(303, memberUrl(res, id, "removed"));
    });
    r.post("/:id/sessions/:sessionId/revoke", async (req, res) => {
      const id = userIdOf(req);
      const sessionId = String(req.params.sessionId);
      if (!ID.test(sessionId)) throw new ConsoleRefusal(404, "There is no such session.");
      const tenant = consoleTenant(res);
      // The session must be this member's: the use case checks the tenant, this the person.
      const theirs = await access.listTenantSessions(deps, tenant.slug, {
        userId: id,
        state: "all",
        limit: "500",
      });
      if (!theirs.sessions.some((s) => s.id === sessionId))
        throw new ConsoleRefusal(404, "There is no such session.");
      await access.revokeSessionsByAdmin(deps, tenant.slug, { sessionId }, origin(req, res));
      await audit(req, res, "member.session.revoke", sessionId);
      res.redirect(303, memberUrl(res, id, "revoked"));
    });
    r.post("/:id/offboard", async (req, res) => {
      const id = userIdOf(req);
      const tenant = consoleTenant(res);
      const member = await getMember(deps, tenant.slug, id);
      // The typed confirmation is checked here too (console.js only disables the button).
      if (str(req.body.confirm) !== member.userName)
        return memberPage(deps, res, id, {
          status: 400,
          errors: { confirm: `Type the username ${member.userName} exactly to confirm.` },
        });
      const reason = str(req.body.reason).trim();
      try {
        await access.offboardUser(deps, tenant.slug, id, {}, reason ? { reason } : {}, origin(req, res));
      } catch (err) {
        const errors = fieldErrorsOf(err);
        if (errors) return memberPage(deps, res, id, { status: 400, errors });
        throw err;
      }
      await audit(req, res, "member.offboard", id);
      res.redirect(303, memberUrl(res, id, "offboarded"));
    });
    return r;
  },
};
