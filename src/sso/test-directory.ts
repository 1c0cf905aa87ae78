import type { Db } from "../db/knex.js";
import type { Claims } from "./gate.js";
import { findDirectoryUser } from "./gate.js";
import { rolesOfUser } from "./roles.js";

/**
 * What a configuration test says about the directory match. The test proves the IdP and Roster
 * agree (signature, issuer, audience, claims); whether this person is in the directory yet is
 * information, not a failed configuration: the product order is test → enable → provision
 * (issue 15), and under manual provisioning the testing admin is usually not provisioned yet.
 * Real sign-ins still refuse (src/sso/admit.ts).
 */
export interface DirectoryFinding {
  status: "active" | "inactive" | "ambiguous" | "would_be_created" | "not_found";
  user: { id: string; userName: string; email: string | null; active: boolean; matchedBy: string } | null;
  roles: string[];
  /** Present when a real sign-in of this person would be refused today. */
  warning?: { check: "directory"; code: string; message: string; hint: string };
}

const WARNINGS: Record<string, { code: string; message: string; hint: string }> = {
  not_found: {
    code: "USER_NOT_FOUND",
    message:
      "Not in the directory yet: under manual provisioning this person will be refused until SCIM or an invitation adds them.",
    hint: 'Enable the connection, then provision people (SCIM, an invitation, POST …/users), or turn on just-in-time provisioning ("provisioning": "jit").',
  },
  inactive: {
    code: "USER_INACTIVE",
    message: "The directory deactivated this person: their real sign-ins are refused.",
    hint: "Reactivate the user in the directory if they should sign in.",
  },
  ambiguous: {
    code: "AMBIGUOUS_USER",
    message: "Two directory users match this sign-in: their real sign-ins are refused.",
    hint: "Fix the directory (one user per e-mail) or map the immutable id claim.",
  },
};

/** The matched directory user, the roles they would get, and the warning (if any). */
export async function directoryFinding(
  db: Db,
  tenant: { id: string; settings: { defaultRole: string } },
  claims: Claims,
  settings: Parameters<typeof findDirectoryUser>[3] & { provisioning: string },
): Promise<DirectoryFinding> {
  const found = await findDirectoryUser(db, tenant.id, claims, settings);
  let status: DirectoryFinding["status"];
  let roles: string[] = [];
  if (found.kind === "found") {
    status = found.user.active ? "active" : "inactive";
    roles = await rolesOfUser(db, tenant.id, found.user.id);
  } else if (found.kind === "ambiguous") status = "ambiguous";
  else if (settings.provisioning === "jit") {
    status = "would_be_created";
    roles = [tenant.settings.defaultRole];
  } else status = "not_found";
  const user =
    found.kind === "found"
      ? {
          id: found.user.id,
          userName: found.user.userName,
          email: found.user.primaryEmail,
          active: found.user.active,
          matchedBy: found.matchedBy,
        }
      : null;
  const w = WARNINGS[status];
  return { status, user, roles, ...(w ? { warning: { check: "directory" as const, ...w } } : {}) };
}
