import { z } from "zod";

/** Tenant settings: one schema, defaults filled in, unknown keys refused. Later capabilities add keys here. */
export const tenantSettingsSchema = z
  .object({
    defaultRole: z.string().min(1).max(64).default("member"),
    deprovisionPolicy: z.enum(["suspend", "delete"]).default("suspend"),
    deleteGraceDays: z.number().int().min(0).max(3650).default(30),
    restoreManualRolesOnReactivation: z.boolean().default(false),
    // Roles whose holders, signed in through the tenant's own SSO, may use its console.
    consoleRoles: z.array(z.string().trim().min(1).max(64)).max(20).default(["admin"]),
  })
  .strict();

/** A tenant's settings with every default applied. */
export type TenantSettings = z.output<typeof tenantSettingsSchema>;

/** Settings as stored, merged over the defaults (keys from older versions are ignored). */
export function readSettings(stored: unknown): TenantSettings {
  const obj = (stored && typeof stored === "object" ? stored : {}) as Record<string, unknown>;
  const known = Object.fromEntries(Object.entries(obj).filter(([k]) => k in tenantSettingsSchema.shape));
  const parsed = tenantSettingsSchema.safeParse(known);
  return parsed.success ? parsed.data : tenantSettingsSchema.parse({});
}

/**
 * A PATCH of the settings: the given keys only. `tenantSettingsSchema.partial()` still fills
 * absent keys with their defaults (zod applies a default under optional), so a PATCH of one
 * setting silently reset the others (e.g. defaultRole back to `member`).
 */
export const tenantSettingsPatchSchema = z
  .object(
    Object.fromEntries(
      Object.entries(tenantSettingsSchema.shape).map(([key, field]) => [
        key,
        (field instanceof z.ZodDefault ? field.unwrap() : field).optional(),
      ]),
    ),
  )
  .strict() as unknown as z.ZodType<Partial<TenantSettings>>;
