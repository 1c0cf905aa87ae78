import type { Response } from "express";
import * as access from "../../access/use-cases.js";
import type { Deps } from "../../deps.js";
import { getMember } from "../../directory/members.js";
import { listRoles } from "../../roles/store.js";
import { explainUserRoles, requireTenantWithRoles } from "../../roles/use-cases.js";
import { StatusBadge } from "../components/badge.js";
import { ConfirmAction } from "../components/confirm.js";
import { Csrf, type FieldErrors, TextArea } from "../components/field.js";
import { SelectField } from "../components/select.js";
import { DataTable } from "../components/table.js";
import { consoleContext, consoleTenant } from "../http.js";
import { renderPage } from "../page.js";
import { toneOf } from "./list.js";

const when = (iso: string | null | undefined) => (iso ? iso.slice(0, 16).replace("T", " ") : "—");

const DONE: Record<string, string> = {
  granted: "Role granted. Effective roles update in a moment.",
  removed: "Role removed. Effective roles update in a moment.",
  revoked: "Session ended.",
  offboarded: "Member offboarded: sessions ended, roles are being removed.",
  invited: "Invitation created. The member can sign in through SSO.",
};

/** One member: attributes, groups, effective roles with reasons, sessions, receipts, offboarding. */
export async function memberPage(
  deps: Deps,
  res: Response,
  userId: string,
  o: { done?: unknown; errors?: FieldErrors; status?: number } = {},
) {
  const tenant = consoleTenant(res);
  const { session } = consoleContext(res);
  const base = `/console/t/${encodeURIComponent(tenant.slug)}/members/${encodeURIComponent(userId)}`;
  // Every read is a use case of the admin API, scoped by the session's tenant (a user id of
  // another tenant is 404 USER_NOT_FOUND in the first one).
  const member = await getMember(deps, tenant.slug, userId);
  const [roles, allRoles, sessions, receipts] = await Promise.all([
    explainUserRoles(deps, tenant.slug, userId),
    requireTenantWithRoles(deps, tenant.slug).then((t) => listRoles(deps.db, t.id)),
    access.listTenantSessions(deps, tenant.slug, { userId, state: "live", limit: "50" }),
    access.listUserRevocations(deps, tenant.slug, userId, { limit: "20" }),
  ]);
  const groupName = new Map(member.groups.map((g) => [g.id, g.displayName]));
  const manual = new Set(roles.filter((r) => r.source === "manual").map((r) => r.key));
  const title = member.displayName ?? member.userName;
  const done = typeof o.done === "string" ? DONE[o.done] : undefined;
  renderPage(
    res,
    {
      title,
      current: `/console/t/${encodeURIComponent(tenant.slug)}/members`,
      flash: done ? { text: done } : undefined,
      status: o.status,
    },
    <>
      <p>
        <a href={`/console/t/${encodeURIComponent(tenant.slug)}/members`}>All members</a>
      </p>
      <dl class="facts">
        <dt>Status</dt>
        <dd>
          <StatusBadge status={member.status} tone={toneOf(member.status)} />
        </dd>
        <dt>Username</dt>
        <dd>{member.userName}</dd>
        <dt>E-mail</dt>
        <dd>{member.email ?? "—"}</dd>
        <dt>External id</dt>
        <dd>{member.externalId ?? "—"}</dd>
        <dt>Provisioned by</dt>
        <dd>
          {member.source === "invite"
            ? "Invitation"
            : member.source === "jit"
              ? "First sign-in (JIT)"
              : "SCIM"}
        </dd>
        <dt>Created</dt>
        <dd>{when(member.createdAt)}</dd>
        <dt>Updated</dt>
        <dd>{when(member.updatedAt)}</dd>
      </dl>
      <details>
        <summary>All attributes (as the identity provider sent them)</summary>
        <pre class="mono attributes">{JSON.stringify(member.attributes, null, 2)}</pre>
      </details>

      <h2>Roles</h2>
      <DataTable
        caption="Effective roles and why"
        columns={[
          { header: "Role", cell: (r) => r.name },
          {
            header: "Reason",
            cell: (r) =>
              r.source === "group"
                ? `Member of group “${groupName.get(r.groupId ?? "") ?? r.groupId}”, mapped to this role`
                : r.source === "manual"
                  ? "Assigned by hand"
                  : "Default role of the workspace",
          },
          {
            header: "Actions",
            cell: (r) =>
              r.source === "manual" ? (
                <form method="post" action={`${base}/roles/remove`} class="inline">
                  <Csrf token={session.csrf} />
                  <input type="hidden" name="role" value={r.key} />
                  <button type="submit" class="secondary" aria-label={`Remove role ${r.name}`}>
                    Remove
                  </button>
                </form>
              ) : null,
          },
        ]}
        rows={roles}
        empty={member.active ? "No role yet (being computed)." : "Deactivated members hold no role."}
      />
      {member.active ? (
        <form method="post" action={`${base}/roles`} class="search">
          <Csrf token={session.csrf} />
          <SelectField
            name="role"
            label="Give a role by hand"
            errors={o.errors}
            options={allRoles.filter((r) => !manual.has(r.key)).map((r) => ({ value: r.key, label: r.name }))}
          />
          <button type="submit">Grant role</button>
        </form>
      ) : null}

      <h2>Groups</h2>
      <DataTable
        caption="Groups"
        columns={[
          { header: "Group", cell: (g) => g.displayName },
          { header: "Membership", cell: (g) => (g.direct ? "Direct" : "Through a nested group") },
        ]}
        rows={member.groups}
        empty="Not in any group."
      />

      <h2>Live sessions</h2>
      <DataTable
        caption="Live sessions"
        columns={[
          { header: "Started", cell: (s) => when(s.createdAt) },
          { header: "Expires", cell: (s) => when(s.expiresAt) },
          {
            header: "Actions",
            cell: (s) => (
              <form
                method="post"
                action={`${base}/sessions/${encodeURIComponent(s.id)}/revoke`}
                class="inline"
              >
                <Csrf token={session.csrf} />
                <button
                  type="submit"
                  class="secondary"
                  aria-label={`End the session started ${when(s.createdAt)}`}
                >
                  End session
                </button>
              </form>
            ),
          },
        ]}
        rows={sessions.sessions}
        empty="No live session."
      />

      <h2>Revocation receipts</h2>
      <DataTable
        caption="Revocation receipts"
        columns={[
          { header: "Requested", cell: (r) => when(r.requestedAt) },
          { header: "Trigger", cell: (r) => r.trigger },
          {
            header: "By",
            cell: (r) =>
              r.actor ? `${r.actor.kind}${r.actor.id ? ` ${String(r.actor.id).slice(0, 8)}` : ""}` : "—",
          },
          { header: "Reason", cell: (r) => r.reason ?? "—" },
          { header: "Sessions ended", cell: (r) => String(r.sessionsRevoked) },
          {
            header: "Status",
            cell: (r) => (
              <StatusBadge
                status={r.status}
                tone={r.status === "complete" ? "ok" : r.status === "incomplete" ? "bad" : "warn"}
              />
            ),
          },
        ]}
        rows={receipts.revocations}
        empty="No revocation yet."
      />

      {member.active ? (
        <>
          <h2>Offboard</h2>
          <ConfirmAction
            id="offboard"
            action={`${base}/offboard`}
            csrf={session.csrf}
            summary={`Offboard ${member.userName}…`}
            button="Offboard now"
            typed={member.userName}
          >
            <p>
              This deactivates the member, ends every session and application token at once, removes their
              roles and tells subscribed systems (webhooks). Their identity provider may re-activate them
              later.
            </p>
            <TextArea name="reason" label="Reason (kept on the receipt)" rows={2} errors={o.errors} />
            {o.errors?.confirm ? (
              <p class="field-error" role="alert">
                {o.errors.confirm}
              </p>
            ) : null}
          </ConfirmAction>
        </>
      ) : null}
    </>,
  );
}
