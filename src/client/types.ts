/** Shapes of Roster's admin API (README "API overview"); timestamps are ISO 8601 strings. */

export interface TenantSettings {
  defaultRole?: string;
  deprovisionPolicy?: "suspend" | "delete";
  deleteGraceDays?: number;
  restoreManualRolesOnReactivation?: boolean;
  [key: string]: unknown;
}
export interface Tenant {
  id: string;
  slug: string;
  name: string;
  settings: TenantSettings;
  createdAt: string;
  updatedAt: string;
}
export interface ScimToken {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt?: string | null;
  lastUsedAt?: string | null;
}
/** Only the creation answer carries `token`. */
export interface CreatedScimToken extends ScimToken {
  token: string;
}
export interface Role {
  id: string;
  key: string;
  name: string;
  priority: number;
  createdAt: string;
  updatedAt: string;
}
export interface RoleMapping {
  id: string;
  groupId: string;
  role: string;
  createdAt: string;
}
/** A group given by its Roster id or its IdP `externalId` (never the renameable displayName). */
export type MappingInput = ({ groupId: string } | { externalId: string }) & { role: string };
export interface MappingPreviewChange {
  role: string;
  count: number;
  users: Array<{ id: string; userName: string }>;
}
export interface MappingPreview {
  usersAffected: number;
  gains: MappingPreviewChange[];
  losses: MappingPreviewChange[];
}
export interface UserRole {
  key: string;
  name: string;
  source: "group" | "manual" | "default";
  groupId?: string;
  mappingId?: string;
}
/** The envelope of the feed and of every webhook body. `id` is a per-tenant sequence (a string). */
export interface RosterEvent<D = Record<string, unknown>> {
  id: string;
  type: string;
  tenant: string;
  createdAt: string;
  data: D;
}
export interface EventPage {
  events: RosterEvent[];
  next: string;
}
export interface Webhook {
  id: string;
  url: string;
  events: string[];
  active: boolean;
  [key: string]: unknown;
}
export interface WebhookWithSecret extends Webhook {
  secret: string;
  previousSecretExpiresAt?: string | null;
}
export interface WebhookDelivery {
  id: string;
  eventId: string;
  eventType: string;
  state: "pending" | "delivered" | "failed";
  attempts: number;
  nextAttemptAt: string | null;
  lastStatus: number | null;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
  attemptLog?: Array<{ at: string; status: number | null; error: string | null; durationMs: number }>;
}
export interface RevocationReceipt {
  id: string;
  userId: string;
  userName: string;
  trigger: "scim.patch" | "scim.put" | "scim.delete" | "offboard" | "policy.delete";
  status: "in_progress" | "complete" | "incomplete";
  requestedAt: string;
  [key: string]: unknown;
}
export interface OffboardResult {
  status: "offboarded" | "already_offboarded";
  userId: string;
  userName: string;
  revocation: RevocationReceipt;
}
export interface Session {
  id: string;
  userId: string;
  createdAt: string;
  expiresAt: string;
  revokedAt: string | null;
  revokedReason: string | null;
  live: boolean;
}
export interface RevokedCount {
  revoked: { sessions: number; tokens: number };
}
/** `PUT …/saml`: one IdP source (metadataXml, metadataUrl or the fields) plus settings. */
export interface SamlConnectionInput {
  preset?: string;
  metadataXml?: string;
  metadataUrl?: string;
  idpEntityId?: string;
  ssoUrl?: string;
  certificates?: string[];
  [setting: string]: unknown;
}
export interface SamlConnection {
  state: "draft" | "tested" | "enabled" | "disabled";
  configVersion: number;
  sp: { entityId: string; acsUrl: string; metadataUrl?: string; [key: string]: unknown };
  [key: string]: unknown;
}
export interface SamlTest {
  id: string;
  status: "pending" | "succeeded" | "failed";
  loginUrl?: string;
  configVersion?: number;
  report?: Record<string, unknown> | null;
  createdAt?: string;
  completedAt?: string | null;
}
export interface InviteInput {
  userName: string;
  email?: string;
  givenName?: string;
  familyName?: string;
  displayName?: string;
  externalId?: string;
  roles?: string[];
}
export interface OAuthClient {
  id: string;
  clientId: string;
  name: string;
  redirectUris: string[];
  [key: string]: unknown;
}
export interface CreatedOAuthClient extends OAuthClient {
  clientSecret: string;
}
export interface SsoTrace {
  ref: string;
  [key: string]: unknown;
}
export interface Job {
  id: number | string;
  name: string;
  state: string;
  [key: string]: unknown;
}
