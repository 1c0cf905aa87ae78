import type { Response } from "express";
import type { Deps } from "../../deps.js";
import { groupDisplayNames, queryGroups } from "../../directory/groups-store.js";
import * as store from "../../roles/store.js";
import { publicMappings, requireTenantWithRoles } from "../../roles/use-cases.js";
import { ConfirmAction } from "../components/confirm.js";
import { Csrf, type FieldErrors, TextField } from "../components/field.js";
import { SelectField } from "../components/select.js";
import { DataTable } from "../components/table.js";
import { consoleContext, consoleTenant } from "../http.js";
import { renderPage } from "../page.js";

/** How many groups the mapping form offers (by name); the IdP's group id works for any other. */
const GROUP_CHOICES = 500;

const DONE: Record<string, string> = {
  created: "Role created.",
  saved: "Role saved.",
  deleted: "Role deleted: its holders fall back to their other roles or the default.",
  mapped: "Mapping saved: members of the group get the role in a moment.",
  unmapped: "Mapping removed: members lose the role in a moment.",
};

/** Groups and roles: the tenant's roles (create, rename, priority, delete) and group→role mappings. */
export async function rolesPage(
  deps: Deps,
  res: Response,
  o: { done?: unknown; errors?: FieldErrors; values?: Record<string, string>; status?: number } = {},
) {
  const tenant = await requireTenantWithRoles(deps, consoleTenant(res).slug);
  const { session } = consoleContext(res);
  const base = `/console/t/${encodeURIComponent(tenant.slug)}/roles`;
  const roles = await store.listRoles(deps.db, tenant.id);
  const mappings = await publicMappings(deps, tenant.id, await store.listMappings(deps.db, tenant.id));
  const names = await groupDisplayNames(deps.db, tenant.id, [...new Set(mappings.map((m) => m.groupId))]);
  const groups = await queryGroups(deps.db, tenant.id, {
    orderBy: { column: `"groups"."display_name_norm"`, order: "asc" },
    offset: 0,
    limit: GROUP_CHOICES,
  });
  const roleName = new Map(roles.map((r) => [r.key, r.name]));
  const v = o.values ?? {};
  const done = typeof o.done === "string" ? DONE[o.done] : undefined;
  renderPage(
    res,
    { title: "Groups & roles", flash: done ? { text: done } : undefined, status: o.status },
    <>
      <h2>Roles</h2>
      <p class="hint">
        A member holds the roles of every group mapped below, plus roles given by hand; with none, the default
        role (<code>{tenant.settings.defaultRole}</code>). Higher priority comes first.
      </p>
      <DataTable
        caption="Roles"
        columns={[
          {
            header: "Name and priority",
            cell: (r) => (
              <form method="post" action={`${base}/roles/${encodeURIComponent(r.key)}`} class="search">
                <Csrf token={session.csrf} />
                <div class="field">
                  <label for={`name-${r.key}`}>Name of {r.key}</label>
                  <input id={`name-${r.key}`} name="name" type="text" value={r.name} required />
                </div>
                <div class="field">
                  <label for={`priority-${r.key}`}>Priority of {r.key}</label>
                  <input id={`priority-${r.key}`} name="priority" type="number" value={String(r.priority)} />
                </div>
                <button type="submit" class="secondary">
                  Save<span class="sr-only"> role {r.key}</span>
                </button>
              </form>
            ),
          },
          { header: "Key", cell: (r) => <code>{r.key}</code> },
          {
            header: "Delete",
            cell: (r) =>
              r.key === tenant.settings.defaultRole ? (
                <span class="muted">Default role</span>
              ) : (
                <ConfirmAction
                  id={`delete-${r.key}`}
                  action={`${base}/roles/${encodeURIComponent(r.key)}/delete`}
                  csrf={session.csrf}
                  summary={`Delete ${r.key}…`}
                  button="Delete role"
                  typed={r.key}
                >
                  <p>Every holder loses this role now; its mappings go with it.</p>
                </ConfirmAction>
              ),
          },
        ]}
        rows={roles}
      />
      <h3>Create a role</h3>
      {o.errors?._form ? (
        <p class="field-error" role="alert">
          {o.errors._form}
        </p>
      ) : null}
      <form method="post" action={`${base}/roles`} class="search">
        <Csrf token={session.csrf} />
        <TextField
          name="key"
          label="Key"
          value={v.key}
          errors={o.errors}
          required
          hint="As your application checks it, e.g. auditor."
        />
        <TextField name="name" label="Name" value={v.name} errors={o.errors} required />
        <TextField
          name="priority"
          label="Priority"
          type="number"
          value={v.priority ?? "0"}
          errors={o.errors}
        />
        <button type="submit">Create role</button>
      </form>

      <h2>Group → role mappings</h2>
      <DataTable
        caption="Mappings"
        columns={[
          { header: "Group", cell: (mp) => names.get(mp.groupId) ?? mp.groupId },
          { header: "Role", cell: (mp) => roleName.get(mp.role ?? "") ?? mp.role },
          {
            header: "Actions",
            cell: (mp) => (
              <form
                method="post"
                action={`${base}/mappings/${encodeURIComponent(mp.id)}/preview-remove`}
                class="inline"
              >
                <Csrf token={session.csrf} />
                <button
                  type="submit"
                  class="secondary"
                  aria-label={`Remove mapping of ${names.get(mp.groupId) ?? mp.groupId} to ${mp.role} (preview first)`}
                >
                  Remove…
                </button>
              </form>
            ),
          },
        ]}
        rows={mappings}
        empty="No mapping yet: every member holds the default role or roles given by hand."
      />
      <h3>Map a group to a role</h3>
      <p class="hint">You see who gains and who loses a role before anything is saved.</p>
      <form method="post" action={`${base}/mappings/preview`} class="search">
        <Csrf token={session.csrf} />
        <SelectField
          name="groupId"
          label="Group"
          value={v.groupId}
          errors={o.errors}
          options={groups.rows.map((g) => ({ value: g.id, label: g.displayName }))}
        />
        <SelectField
          name="role"
          label="Role"
          value={v.role}
          errors={o.errors}
          options={roles.map((r) => ({ value: r.key, label: r.name }))}
        />
        <button type="submit">Preview</button>
      </form>
    </>,
  );
}
