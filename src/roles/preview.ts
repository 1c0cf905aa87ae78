import { z } from "zod";
import { parseInput } from "../http/validate.js";
import { effectiveRoles, roleIdsOf } from "./rules.js";
import * as store from "./store.js";
import { mappingInput, type RoleDeps, requireTenantWithRoles, roleErrors } from "./use-cases.js";

/** Body of POST …/role-mappings/preview: a whole proposed set, or changes to the current one. */
export const previewInput = z
  .object({
    mappings: z.array(mappingInput).max(1000).optional(),
    add: z.array(mappingInput).max(1000).optional(),
    remove: z.array(z.string().min(1)).max(1000).optional(),
  })
  .strict()
  .refine((b) => !(b.mappings && (b.add || b.remove)), {
    message: "give either mappings (the whole proposed set) or add/remove, not both",
    path: ["mappings"],
  });

/** How many users in a preview list at most, per change. */
const SAMPLE = 100;

type Pair = { groupId: string; roleId: string };

/**
 * What a proposed set of mappings would change, computed from current state and saved nowhere:
 * per role, how many (active) users would gain or lose it, and the first 100 of each.
 */
export async function previewMappings(deps: RoleDeps, slug: string, body: unknown) {
  const input = parseInput(previewInput, body);
  const tenant = await requireTenantWithRoles(deps, slug);
  const roles = await store.listRoles(deps.db, tenant.id);
  const current: Pair[] = await store.listMappings(deps.db, tenant.id);
  const resolve = async (list: Array<z.output<typeof mappingInput>>): Promise<Pair[]> => {
    const out: Pair[] = [];
    for (const m of list) {
      const role = roles.find((r) => r.key === m.role);
      if (!role) throw roleErrors.roleNotFound(m.role);
      const groupId = await store.findGroupIdByRef(deps.db, tenant.id, m);
      if (!groupId) throw roleErrors.groupNotFound(m.groupId ?? `with externalId '${m.externalId}'`);
      out.push({ groupId, roleId: role.id });
    }
    return out;
  };
  const removed = new Set(input.remove ?? []);
  const proposed = input.mappings
    ? await resolve(input.mappings)
    : [
        ...(current as Array<Pair & { id: string }>).filter((m) => !removed.has(m.id)),
        ...(await resolve(input.add ?? [])),
      ];
  const groups = [...new Set([...current, ...proposed].map((m) => m.groupId))];
  const under = await store.listUsersUnderGroups(deps.db, tenant.id, groups);
  const groupsOf = new Map<string, Set<string>>();
  for (const { rootId, userId } of under) {
    if (!groupsOf.has(userId)) groupsOf.set(userId, new Set());
    groupsOf.get(userId)!.add(rootId);
  }
  const active = await store.listActiveUsers(deps.db, tenant.id, [...groupsOf.keys()]);
  const manual = new Map<string, string[]>();
  for (const m of await store.listManualRoles(deps.db, tenant.id, [...active.keys()]))
    manual.set(m.userId, [...(manual.get(m.userId) ?? []), m.roleId]);
  const defaultRoleId = roles.find((r) => r.key === tenant.settings.defaultRole)?.id;
  const rolesUnder = (pairs: Pair[], userId: string, manualIds: string[]) =>
    roleIdsOf(
      effectiveRoles({
        userId,
        active: true,
        groupGrants: pairs
          .filter((p) => groupsOf.get(userId)!.has(p.groupId))
          .map((p) => ({ mappingId: `${p.groupId}/${p.roleId}`, groupId: p.groupId, roleId: p.roleId })),
        manualRoleIds: manualIds,
        defaultRoleId,
      }),
    );
  const affected = new Set<string>();
  const gains = new Map<string, string[]>();
  const losses = new Map<string, string[]>();
  const note = (m: Map<string, string[]>, roleId: string, userId: string) => {
    if (!m.has(roleId)) m.set(roleId, []);
    m.get(roleId)!.push(userId);
    affected.add(userId);
  };
  for (const userId of [...active.keys()].sort()) {
    const manualIds = manual.get(userId) ?? [];
    const before = rolesUnder(current, userId, manualIds);
    const after = rolesUnder(proposed, userId, manualIds);
    for (const r of after) if (!before.has(r)) note(gains, r, userId);
    for (const r of before) if (!after.has(r)) note(losses, r, userId);
  }
  const report = (m: Map<string, string[]>) =>
    roles
      .filter((r) => m.has(r.id))
      .map((r) => ({
        role: r.key,
        count: m.get(r.id)!.length,
        users: m
          .get(r.id)!
          .slice(0, SAMPLE)
          .map((id) => ({ id, userName: active.get(id)! })),
      }));
  return { usersAffected: affected.size, gains: report(gains), losses: report(losses) };
}
