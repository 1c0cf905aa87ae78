import type { Response } from "express";
import type { Deps } from "../../deps.js";
import { listRoles } from "../../roles/store.js";
import { requireTenantWithRoles } from "../../roles/use-cases.js";
import { Csrf, type FieldErrors, TextField } from "../components/field.js";
import { SelectField } from "../components/select.js";
import { consoleContext, consoleTenant } from "../http.js";
import { renderPage } from "../page.js";

/** Invite a member (manual provisioning): who, and the role they hold from their first sign-in. */
export async function invitePage(
  deps: Deps,
  res: Response,
  o: { errors?: FieldErrors; values?: Record<string, string> } = {},
) {
  const tenant = consoleTenant(res);
  const { session } = consoleContext(res);
  const roles = await listRoles(deps.db, (await requireTenantWithRoles(deps, tenant.slug)).id);
  const v = o.values ?? {};
  const base = `/console/t/${encodeURIComponent(tenant.slug)}/members`;
  renderPage(
    res,
    { title: "Invite a member", current: base, status: o.errors ? 400 : 200 },
    <>
      <p>
        The member can sign in through your SSO as soon as the invitation exists; their identity provider
        account is matched by username or e-mail.
      </p>
      {o.errors?._form ? (
        <p class="field-error" role="alert">
          {o.errors._form}
        </p>
      ) : null}
      <form method="post" action={`${base}/invite`}>
        <Csrf token={session.csrf} />
        <TextField
          name="userName"
          label="Username"
          value={v.userName}
          errors={o.errors}
          required
          hint="Usually the e-mail address they sign in with."
        />
        <TextField name="email" label="E-mail" value={v.email} errors={o.errors} />
        <TextField name="givenName" label="First name" value={v.givenName} errors={o.errors} />
        <TextField name="familyName" label="Last name" value={v.familyName} errors={o.errors} />
        <SelectField
          name="role"
          label="Role"
          value={v.role ?? tenant.settings.defaultRole}
          errors={o.errors}
          hint="Another role than the default is kept as a role assigned by hand."
          options={roles.map((r) => ({
            value: r.key,
            label: r.key === tenant.settings.defaultRole ? `${r.name} (default)` : r.name,
          }))}
        />
        <button type="submit">Invite</button>
      </form>
    </>,
  );
}
