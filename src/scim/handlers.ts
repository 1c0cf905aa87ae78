import { dialectOf } from "../db/knex.js";
import type { Trail } from "../db/trail.js";
import type { Deps } from "../deps.js";
import type { ChangeOrigin } from "../directory/changes.js";
import { groupsOfMember, listMembers, queryGroups } from "../directory/groups-store.js";
import * as groups from "../directory/groups.js";
import { findGroupById, groupDisplayNames, type MemberRow } from "../directory/groups-store.js";
import { findUserById, queryUsers, type UserRow, userDisplayNames } from "../directory/users-store.js";
import * as users from "../directory/users.js";
import { directoryErrors } from "../directory/errors.js";
import { ScimError } from "../http/errors.js";
import { filterToSql, sortColumn } from "./filter/sql.js";
import { groupFromBody, userDocFromBody } from "./input.js";
import { type ListParams, listResponse } from "./list.js";
import { applyPatch, parsePatchBody, splitMemberOps } from "./patch.js";
import { type Projection, parseProjection, project, wantsAttribute } from "./projection.js";
import { etagOf, parseEtagHeader, renderGroup, renderUser } from "./render.js";
import { GROUP_KIND, USER_KIND } from "./schema-info.js";

/** Who a SCIM operation acts for. */
export interface ScimContext {
  /** With the request log on, `trail` collects the events the use cases commit. */
  deps: Deps & { trail?: Trail };
  tenantId: string;
  /** Base URL of the SCIM endpoint, e.g. https://roster.example.com/scim/v2. */
  base: string;
  /** The request behind the operation (id, token, arrival), for revocation receipts. */
  origin: Omit<ChangeOrigin, "trigger">;
}

/** A protocol-level answer, rendered by the route (or collected by /Bulk). */
export interface ScimResult {
  status: number;
  body?: unknown;
  location?: string;
  etag?: string;
}

/** An incoming request, reduced to what the handlers read. */
export interface ScimInput {
  id?: string;
  body?: unknown;
  query: Record<string, unknown>;
  ifMatch?: string;
  ifNoneMatch?: string;
}

/** The versions If-Match accepts (undefined: no precondition, or "*"). */
function ifMatchVersions(header: string | undefined): number[] | undefined {
  const tags = parseEtagHeader(header);
  if (!tags || tags.includes("*")) return undefined;
  return tags as number[];
}

const projectionOf = (q: Record<string, unknown>) => parseProjection(q.attributes, q.excludedAttributes);

/** Answer a written resource: 200/201 with it, or 204 when attributes select nothing beyond id. */
function written(
  status: number,
  body: Record<string, unknown>,
  p: Projection,
  kind: typeof USER_KIND,
  version: number,
): ScimResult {
  const meta = body.meta as { location: string };
  return {
    status,
    body: project(kind, body, p),
    location: status === 201 ? meta.location : undefined,
    etag: etagOf(version),
  };
}

// ---------------------------------------------------------------- Users

async function renderUserById(ctx: ScimContext, id: string, p: Projection) {
  const user = await findUserById(ctx.deps.db, ctx.tenantId, id);
  if (!user) throw directoryErrors.userNotFound(id);
  return { user, body: await renderWithGroups(ctx, user, p) };
}

/** Render a user, loading its groups only when the projection wants them. */
async function renderWithGroups(ctx: ScimContext, user: UserRow, p: Projection) {
  const gs = wantsAttribute(USER_KIND, p, "groups")
    ? (await groupsOfMember(ctx.deps.db, ctx.tenantId, [user.id])).get(user.id)
    : undefined;
  return renderUser(user, gs, ctx.base);
}

/** POST /Users. */
export async function createUser(ctx: ScimContext, input: ScimInput): Promise<ScimResult> {
  const doc = userDocFromBody(input.body);
  const user = await users.createUser(ctx.deps, ctx.tenantId, doc);
  return written(201, renderUser(user, [], ctx.base), projectionOf(input.query), USER_KIND, user.version);
}

/** GET /Users/{id}; If-None-Match with the current version → 304. */
export async function getUser(ctx: ScimContext, input: ScimInput): Promise<ScimResult> {
  const p = projectionOf(input.query);
  const { user, body } = await renderUserById(ctx, input.id!, p);
  const none = parseEtagHeader(input.ifNoneMatch);
  if (none && (none.includes("*") || none.includes(user.version)))
    return { status: 304, etag: etagOf(user.version) };
  return { status: 200, body: project(USER_KIND, body, p), etag: etagOf(user.version) };
}

/** PUT /Users/{id}: full replacement of the writable attributes. */
export async function replaceUser(ctx: ScimContext, input: ScimInput): Promise<ScimResult> {
  const doc = userDocFromBody(input.body, input.id);
  const user = await users.updateUser(
    ctx.deps,
    ctx.tenantId,
    input.id!,
    () => doc,
    ifMatchVersions(input.ifMatch),
    { ...ctx.origin, trigger: "scim.put" },
  );
  const p = projectionOf(input.query);
  return written(200, await renderWithGroups(ctx, user, p), p, USER_KIND, user.version);
}

/** PATCH /Users/{id}: all operations in one transaction, all or nothing. */
export async function patchUser(ctx: ScimContext, input: ScimInput): Promise<ScimResult> {
  const ops = parsePatchBody(input.body);
  const user = await users.updateUser(
    ctx.deps,
    ctx.tenantId,
    input.id!,
    (doc) => {
      const next = applyPatch(USER_KIND, doc, ops);
      if (typeof next.userName !== "string" || next.userName.trim() === "") {
        throw ScimError.of("invalidValue", "userName is required and cannot be removed");
      }
      return next;
    },
    ifMatchVersions(input.ifMatch),
    { ...ctx.origin, trigger: "scim.patch" },
  );
  const p = projectionOf(input.query);
  return written(200, await renderWithGroups(ctx, user, p), p, USER_KIND, user.version);
}

/** DELETE /Users/{id}. */
export async function deleteUser(ctx: ScimContext, input: ScimInput): Promise<ScimResult> {
  await users.deleteUser(ctx.deps, ctx.tenantId, input.id!, ifMatchVersions(input.ifMatch), {
    ...ctx.origin,
    trigger: "scim.delete",
  });
  return { status: 204 };
}

/** GET /Users and POST /Users/.search. */
export async function listUsers(ctx: ScimContext, params: ListParams): Promise<ScimResult> {
  const page = await queryUsers(ctx.deps.db, ctx.tenantId, {
    where: params.filter
      ? filterToSql(dialectOf(ctx.deps.db), USER_KIND, params.filter, ctx.tenantId)
      : undefined,
    orderBy: {
      column: params.sortBy ? sortColumn(USER_KIND, params.sortBy) : "users.created_at",
      order: params.sortOrder,
    },
    offset: params.startIndex - 1,
    limit: params.count,
  });
  const ids = page.rows.map((u) => u.id);
  const gs =
    wantsAttribute(USER_KIND, params.projection, "groups") && ids.length
      ? await groupsOfMember(ctx.deps.db, ctx.tenantId, ids)
      : undefined;
  const resources = page.rows.map((u) =>
    project(USER_KIND, renderUser(u, gs?.get(u.id), ctx.base), params.projection),
  );
  return { status: 200, body: listResponse(page.total, params.startIndex, resources) };
}

// ---------------------------------------------------------------- Groups

async function membersWithDisplay(ctx: ScimContext, members: MemberRow[]) {
  const userIds = members.filter((m) => m.memberType === "User").map((m) => m.memberId);
  const groupIds = members.filter((m) => m.memberType === "Group").map((m) => m.memberId);
  const names = new Map<string, string | null>([
    ...(await userDisplayNames(ctx.deps.db, ctx.tenantId, userIds)),
    ...(await groupDisplayNames(ctx.deps.db, ctx.tenantId, groupIds)),
  ]);
  return members.map((m) => ({ ...m, display: names.get(m.memberId) ?? null }));
}

async function renderGroupById(ctx: ScimContext, id: string, p: Projection) {
  const group = await findGroupById(ctx.deps.db, ctx.tenantId, id);
  if (!group) throw directoryErrors.groupNotFound(id);
  // excludedAttributes=members (Entra) never loads the member list.
  const members = wantsAttribute(GROUP_KIND, p, "members")
    ? await membersWithDisplay(ctx, await listMembers(ctx.deps.db, ctx.tenantId, id))
    : undefined;
  return { group, body: renderGroup(group, members, ctx.base) };
}

/** POST /Groups (members in the body are honoured). */
export async function createGroup(ctx: ScimContext, input: ScimInput): Promise<ScimResult> {
  const { doc, members } = groupFromBody(input.body);
  const group = await groups.createGroup(ctx.deps, ctx.tenantId, doc, members);
  const p = projectionOf(input.query);
  const { body } = await renderGroupById(ctx, group.id, p);
  return written(201, body, p, GROUP_KIND, group.version);
}

/** GET /Groups/{id}. */
export async function getGroup(ctx: ScimContext, input: ScimInput): Promise<ScimResult> {
  const p = projectionOf(input.query);
  const { group, body } = await renderGroupById(ctx, input.id!, p);
  const none = parseEtagHeader(input.ifNoneMatch);
  if (none && (none.includes("*") || none.includes(group.version)))
    return { status: 304, etag: etagOf(group.version) };
  return { status: 200, body: project(GROUP_KIND, body, p), etag: etagOf(group.version) };
}

/** PUT /Groups/{id}: attributes and the member set replaced. */
export async function replaceGroup(ctx: ScimContext, input: ScimInput): Promise<ScimResult> {
  const { doc, members } = groupFromBody(input.body, input.id);
  const group = await groups.updateGroup(
    ctx.deps,
    ctx.tenantId,
    input.id!,
    { mutate: () => doc, delta: { replace: members } },
    ifMatchVersions(input.ifMatch),
  );
  const p = projectionOf(input.query);
  const { body } = await renderGroupById(ctx, group.id, p);
  return written(200, body, p, GROUP_KIND, group.version);
}

/** PATCH /Groups/{id}: member operations become row inserts/deletes; the rest edits attributes. */
export async function patchGroup(ctx: ScimContext, input: ScimInput): Promise<ScimResult> {
  const ops = parsePatchBody(input.body);
  const split = splitMemberOps(ops);
  const group = await groups.updateGroup(
    ctx.deps,
    ctx.tenantId,
    input.id!,
    {
      mutate: split.rest.length
        ? (doc) => {
            const next = applyPatch(GROUP_KIND, doc, split.rest) as groups.GroupDoc;
            if (typeof next.displayName !== "string" || next.displayName.trim() === "") {
              throw ScimError.of("invalidValue", "displayName is required and cannot be removed");
            }
            return next;
          }
        : undefined,
      delta: { add: split.add, remove: split.remove, removeAll: split.removeAll, replace: split.replace },
    },
    ifMatchVersions(input.ifMatch),
  );
  // RFC 7644 §3.5.2 allows 204; Entra and Okta expect it for group PATCH. Echoing 100,000
  // members to a one-member change would undo the point of deltas, so the resource comes back
  // only when the client asks with attributes/excludedAttributes.
  const p = projectionOf(input.query);
  if (!p.attributes && !p.excluded) return { status: 204, etag: etagOf(group.version) };
  const { body } = await renderGroupById(ctx, group.id, p);
  return written(200, body, p, GROUP_KIND, group.version);
}

/** DELETE /Groups/{id}. */
export async function deleteGroup(ctx: ScimContext, input: ScimInput): Promise<ScimResult> {
  await groups.deleteGroup(ctx.deps, ctx.tenantId, input.id!, ifMatchVersions(input.ifMatch));
  return { status: 204 };
}

/** GET /Groups and POST /Groups/.search. */
export async function listGroups(ctx: ScimContext, params: ListParams): Promise<ScimResult> {
  const page = await queryGroups(ctx.deps.db, ctx.tenantId, {
    where: params.filter
      ? filterToSql(dialectOf(ctx.deps.db), GROUP_KIND, params.filter, ctx.tenantId)
      : undefined,
    orderBy: {
      column: params.sortBy ? sortColumn(GROUP_KIND, params.sortBy) : "groups.created_at",
      order: params.sortOrder,
    },
    offset: params.startIndex - 1,
    limit: params.count,
  });
  const wantMembers = wantsAttribute(GROUP_KIND, params.projection, "members");
  const resources = [];
  for (const g of page.rows) {
    const members = wantMembers
      ? await membersWithDisplay(ctx, await listMembers(ctx.deps.db, ctx.tenantId, g.id))
      : undefined;
    resources.push(project(GROUP_KIND, renderGroup(g, members, ctx.base), params.projection));
  }
  return { status: 200, body: listResponse(page.total, params.startIndex, resources) };
}

/**
 * POST /.search at the root (RFC 7644 §3.4.3): Users then Groups, paged as one list. A filter
 * naming attributes that one resource type lacks matches none of that type.
 */
export async function searchAll(ctx: ScimContext, params: ListParams): Promise<ScimResult> {
  const run = async (fn: typeof listUsers, p: ListParams) => {
    try {
      return (await fn(ctx, p)).body as ReturnType<typeof listResponse>;
    } catch (err) {
      if (err instanceof ScimError && err.scimType === "invalidFilter") return err;
      throw err;
    }
  };
  const probe = { ...params, startIndex: 1, count: 0 };
  const [u, g] = [await run(listUsers, probe), await run(listGroups, probe)];
  if (u instanceof ScimError && g instanceof ScimError) throw u;
  const userTotal = u instanceof ScimError ? 0 : u.totalResults;
  const groupTotal = g instanceof ScimError ? 0 : g.totalResults;
  const offset = params.startIndex - 1;
  const resources: unknown[] = [];
  if (offset < userTotal && params.count > 0 && !(u instanceof ScimError)) {
    const page = (await run(listUsers, params)) as ReturnType<typeof listResponse>;
    resources.push(...page.Resources);
  }
  const remaining = params.count - resources.length;
  if (remaining > 0 && !(g instanceof ScimError)) {
    const startIndex = Math.max(1, offset - userTotal + 1);
    const page = (await run(listGroups, { ...params, startIndex, count: remaining })) as ReturnType<
      typeof listResponse
    >;
    resources.push(...page.Resources);
  }
  return { status: 200, body: listResponse(userTotal + groupTotal, params.startIndex, resources) };
}
