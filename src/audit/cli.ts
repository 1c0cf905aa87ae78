import { userInfo } from "node:os";
import type { Knex } from "knex";
import { summariseChanges } from "./changes.js";
import { recordAudit } from "./record.js";

/** What a CLI command did, for the audit log. */
export interface CliAction {
  action: string;
  tenant?: { id: string; slug: string };
  targetType: string;
  targetId: string;
  /** The fields it set (secrets are named, never shown). */
  fields?: Record<string, unknown>;
}

/** The operating-system user running the CLI, as the actor's name (`cli` is the actor kind). */
function osUser(): string | null {
  try {
    return userInfo().username.slice(0, 200);
  } catch {
    return null;
  }
}

/** Record a CLI action: actor `cli` (named by the OS user), no source address, no request id. */
export async function auditCli(deps: { db: Knex; now: () => Date }, a: CliAction): Promise<void> {
  await recordAudit(deps, {
    tenantId: a.tenant?.id ?? null,
    tenantSlug: a.tenant?.slug ?? null,
    at: deps.now().toISOString(),
    actor: { kind: "cli", id: null, name: osUser() },
    action: a.action,
    targetType: a.targetType,
    targetId: a.targetId,
    changes: summariseChanges(undefined, a.fields),
    sourceIp: null,
    requestId: null,
  });
}
