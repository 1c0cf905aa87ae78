import type { Response } from "express";
import type { Deps } from "../../deps.js";
import * as domains from "../../domains/use-cases.js";
import { AppError } from "../../http/errors.js";
import * as policy from "../../sso/policy.js";
import type { TenantArea } from "../areas.js";
import { tenantActionRecorder } from "../audit.js";
import { fieldErrorsOf } from "../form-errors.js";
import { areaRouter, consoleContext, consoleTenant } from "../http.js";
import { domainsPage } from "./page.js";

const str = (v: unknown) => (typeof v === "string" ? v.trim() : "");

/** Errors of adding a domain, said beside the field (the admin API's codes, in words). */
const DOMAIN_ERRORS: Record<string, string> = {
  CONSUMER_DOMAIN: "This is a public e-mail provider's domain: use your organisation's own domain.",
  DOMAIN_TAKEN: "Another organisation has verified this domain; it must delete it there first.",
  DOMAIN_EXISTS: "You have added this domain already.",
  DOMAIN_LIMIT: "You have reached the limit of domains.",
};

/**
 * Security → Domains & policy (issue 16): verified domains, Require SSO with its checklist,
 * break-glass. Every action runs the admin API's use case (no second code path) and records a
 * `console.action` naming the actor; the console router checks session, tenant, scope and CSRF.
 */
export const domainsArea: TenantArea = {
  path: "domains",
  label: "Domains & policy",
  group: "Security",
  scope: "sso",
  router: (deps: Deps) => {
    const r = areaRouter();
    const base = (res: Response) => `/console/t/${encodeURIComponent(consoleTenant(res).slug)}/domains`;
    const audit = tenantActionRecorder(deps);
    const slug = (res: Response) => consoleTenant(res).slug;
    /** Who changed the policy, on its `sso.policy_changed` event (an id, never a secret). */
    const actorName = (res: Response) => {
      const { actor } = consoleContext(res);
      return `console:${actor.kind}:${actor.id}`;
    };
    /** A use case's refusal on this page: field errors beside the field, a 409 in words. */
    const refused = (res: Response, err: unknown, values: Record<string, string>, field?: string) => {
      if (err instanceof AppError && field && DOMAIN_ERRORS[err.code])
        return domainsPage(deps, res, { errors: { [field]: DOMAIN_ERRORS[err.code] }, values });
      const errors = fieldErrorsOf(err, { "breakGlass.0": "breakGlass" });
      if (errors && field && errors._form)
        return domainsPage(deps, res, { errors: { [field]: errors._form }, values });
      if (errors) return domainsPage(deps, res, { errors, values });
      if (err instanceof AppError && (err.status === 409 || err.status === 404))
        return domainsPage(deps, res, { status: err.status, problem: err.message, values });
      throw err;
    };

    r.get("/", (req, res) => domainsPage(deps, res, { done: req.query.done }));
    r.post("/", async (req, res) => {
      const values = { domain: str(req.body.domain) };
      try {
        const d = await domains.addDomain(deps, slug(res), { domain: values.domain });
        await audit(req, res, "domain.add", d.domain);
        res.redirect(303, `${base(res)}?done=added`);
      } catch (err) {
        await refused(res, err, values, "domain");
      }
    });
    r.post("/verify", async (req, res) => {
      try {
        const d = await domains.verifyDomain(deps, slug(res), str(req.body.domain));
        await audit(req, res, "domain.verify", d.domain);
        res.redirect(303, `${base(res)}?done=${d.status === "verified" ? "verified" : "checked"}`);
      } catch (err) {
        await refused(res, err, {});
      }
    });
    r.post("/delete", async (req, res) => {
      const domain = str(req.body.domain);
      // The typed confirmation is checked here too (console.js only disables the button).
      if (str(req.body.confirm) !== domain)
        return domainsPage(deps, res, { problem: `Type the domain ${domain} exactly to delete it.` });
      try {
        await domains.deleteDomain(deps, slug(res), domain);
        await audit(req, res, "domain.delete", domain);
        res.redirect(303, `${base(res)}?done=deleted`);
      } catch (err) {
        await refused(res, err, {});
      }
    });
    r.post("/policy", async (req, res) => {
      const on = str(req.body.requireSso) === "on";
      try {
        await policy.putPolicy(deps, slug(res), { requireSso: on }, actorName(res));
        await audit(req, res, on ? "sso_policy.require_on" : "sso_policy.require_off", slug(res));
        res.redirect(303, `${base(res)}?done=${on ? "on" : "off"}`);
      } catch (err) {
        await refused(res, err, {});
      }
    });
    r.post("/break-glass", async (req, res) => {
      const raw = typeof req.body.breakGlass === "string" ? req.body.breakGlass.slice(0, 10_000) : "";
      const values = { breakGlass: raw };
      try {
        const current = await policy.getPolicy(deps, slug(res));
        const list = raw.split(/[\s,]+/).filter(Boolean);
        await policy.putPolicy(
          deps,
          slug(res),
          { requireSso: current.requireSso, breakGlass: list },
          actorName(res),
        );
        await audit(req, res, "sso_policy.break_glass", slug(res));
        res.redirect(303, `${base(res)}?done=saved`);
      } catch (err) {
        await refused(res, err, values, "breakGlass");
      }
    });
    r.post("/arm", async (req, res) => {
      const values = {
        email: str(req.body.email),
        minutes: str(req.body.minutes),
        reason: str(req.body.reason),
      };
      try {
        const minutes = /^\d{1,4}$/.test(values.minutes) ? Number(values.minutes) : Number.NaN;
        await policy.armBreakGlass(deps, slug(res), { email: values.email, minutes, reason: values.reason });
        await audit(req, res, "break_glass.arm", values.email);
        res.redirect(303, `${base(res)}?done=armed`);
      } catch (err) {
        await refused(res, err, values);
      }
    });
    r.post("/disarm", async (req, res) => {
      const email = str(req.body.email);
      try {
        await policy.disarmBreakGlass(deps, slug(res), { email });
        await audit(req, res, "break_glass.disarm", email);
        res.redirect(303, `${base(res)}?done=disarmed`);
      } catch (err) {
        await refused(res, err, {});
      }
    });
    return r;
  },
};
