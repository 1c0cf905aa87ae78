/** Seed a tenant's directory straight into the tables (setup for the members benches, not measured). */
import { randomUUID } from "node:crypto";
import type { Deps } from "../../src/deps.js";

const GIVEN = ["Ann", "Bob", "Carla", "Dev", "Eve", "Farid", "Grace", "Hugo", "Ines", "Jon", "Kemal", "Lena"];
const FAMILY = ["Lee", "Stone", "Okafor", "Nguyen", "Schmidt", "Rossi", "Kim", "Silva", "Novak", "Haddad"];

/**
 * `n` users in the tenant: display names from a small list (so a name prefix matches many),
 * one work e-mail each (and a personal one for every tenth), 2% deactivated, every 500th
 * invited (source "invite"); five groups of 1,000 members. Returns the user ids in insert order.
 */
export async function seedMembers(deps: Deps, tenantId: string, n: number): Promise<string[]> {
  const at = new Date().toISOString();
  const ids: string[] = [];
  for (let i = 0; i < n; i += 500) {
    const users: Array<Record<string, unknown>> = [];
    const emails: Array<Record<string, unknown>> = [];
    for (let j = i; j < Math.min(n, i + 500); j++) {
      const id = randomUUID();
      ids.push(id);
      const given = GIVEN[j % GIVEN.length]!;
      const family = FAMILY[Math.floor(j / GIVEN.length) % FAMILY.length]!;
      const userName = `${given}.${family}${j}@bench.example.com`;
      const email = userName.toLowerCase();
      const active = j % 50 !== 7;
      users.push({
        id,
        tenant_id: tenantId,
        user_name: userName,
        user_name_norm: userName.toLowerCase(),
        active,
        display_name: `${given} ${family} ${j}`,
        display_name_norm: `${given} ${family} ${j}`.toLowerCase(),
        given_name: given,
        family_name: family,
        primary_email: email,
        source: j % 500 === 3 ? "invite" : "scim",
        resource: JSON.stringify({
          userName,
          active,
          displayName: `${given} ${family} ${j}`,
          name: { givenName: given, familyName: family },
          emails: [{ value: email, type: "work", primary: true }],
        }),
        created_at: at,
        updated_at: at,
      });
      emails.push({ tenant_id: tenantId, user_id: id, value_norm: email, type: "work", primary: true });
      if (j % 10 === 0)
        emails.push({
          tenant_id: tenantId,
          user_id: id,
          value_norm: `p${j}@home.example`,
          type: "home",
          primary: false,
        });
    }
    await deps.db.transaction(async (trx) => {
      await trx("users").insert(users);
      for (let k = 0; k < emails.length; k += 250) await trx("user_emails").insert(emails.slice(k, k + 250));
    });
  }
  for (let g = 0; g < 5; g++) {
    const groupId = randomUUID();
    const name = `Bench group ${g}`;
    await deps.db("groups").insert({
      id: groupId,
      tenant_id: tenantId,
      display_name: name,
      display_name_norm: name.toLowerCase(),
      resource: "{}",
      created_at: at,
      updated_at: at,
    });
    const members = ids.slice(g * 1000, (g + 1) * 1000);
    for (let i = 0; i < members.length; i += 500)
      await deps
        .db("group_members")
        .insert(
          members
            .slice(i, i + 500)
            .map((m) => ({ tenant_id: tenantId, group_id: groupId, member_id: m, member_type: "User" })),
        );
  }
  // Fresh statistics for the planner, as a running database would have.
  await deps.db.raw("analyze");
  return ids;
}
