/**
 * `roster/client`: a typed client for Roster's admin API, the webhook signature check, an
 * event-feed consumer and sign-in helpers for the OAuth hand-off. Node.js 20+, no dependency
 * beyond the global `fetch` and node's own modules; it imports nothing from the server.
 *
 *   import { Roster, verifyWebhook } from "roster/client";
 *   const roster = new Roster({ baseUrl: "https://roster.example.com", adminToken: process.env.ROSTER_ADMIN_TOKEN! });
 *   await roster.tenants.create({ slug: "acme", name: "Acme Inc" });
 */
import { type EventsOptions, readEvents } from "./feed.js";
import { call, type HttpOptions, type Query, seg } from "./http.js";
import type * as T from "./types.js";

export * from "./errors.js";
export type { EventsOptions } from "./feed.js";
export type { HttpOptions as RosterOptions } from "./http.js";
export * from "./login.js";
export type * from "./types.js";
export { type VerifyWebhookOptions, verifyWebhook } from "./webhooks.js";

export class Roster {
  constructor(private readonly http: HttpOptions) {}

  /** Any admin route (`path` after `/admin/v1`), for what the typed methods do not cover. */
  request<R>(method: string, path: string, init?: { body?: unknown; query?: Query }): Promise<R> {
    return call<R>(this.http, method, path, init);
  }

  private t(slug: string, rest = "") {
    return `/tenants/${seg(slug)}${rest}`;
  }

  readonly tenants = {
    create: (body: { slug: string; name: string; settings?: T.TenantSettings }) =>
      this.request<T.Tenant>("POST", "/tenants", { body }),
    list: async () => (await this.request<{ tenants: T.Tenant[] }>("GET", "/tenants")).tenants,
    get: (slug: string) => this.request<T.Tenant>("GET", this.t(slug)),
    update: (slug: string, body: { name?: string; settings?: T.TenantSettings }) =>
      this.request<T.Tenant>("PATCH", this.t(slug), { body }),
    delete: (slug: string) => this.request<void>("DELETE", this.t(slug)),
  };

  readonly scimTokens = {
    /** The answer's `token` is shown only here: hand it to the IdP. */
    create: (slug: string, body: { name: string; expiresAt?: string }) =>
      this.request<T.CreatedScimToken>("POST", this.t(slug, "/scim-tokens"), { body }),
    list: async (slug: string) =>
      (await this.request<{ scimTokens: T.ScimToken[] }>("GET", this.t(slug, "/scim-tokens"))).scimTokens,
    revoke: (slug: string, id: string) =>
      this.request<void>("DELETE", this.t(slug, `/scim-tokens/${seg(id)}`)),
  };

  readonly roles = {
    list: async (slug: string) =>
      (await this.request<{ roles: T.Role[] }>("GET", this.t(slug, "/roles"))).roles,
    get: (slug: string, key: string) => this.request<T.Role>("GET", this.t(slug, `/roles/${seg(key)}`)),
    create: (slug: string, body: { key: string; name: string; priority?: number }) =>
      this.request<T.Role>("POST", this.t(slug, "/roles"), { body }),
    update: (slug: string, key: string, body: { name?: string; priority?: number }) =>
      this.request<T.Role>("PATCH", this.t(slug, `/roles/${seg(key)}`), { body }),
    delete: (slug: string, key: string) => this.request<void>("DELETE", this.t(slug, `/roles/${seg(key)}`)),
    /** 202: every user's roles are recomputed in the background. */
    recompute: (slug: string) => this.request<unknown>("POST", this.t(slug, "/roles/recompute")),
  };

  readonly roleMappings = {
    list: async (slug: string) =>
      (await this.request<{ roleMappings: T.RoleMapping[] }>("GET", this.t(slug, "/role-mappings")))
        .roleMappings,
    get: (slug: string, id: string) =>
      this.request<T.RoleMapping>("GET", this.t(slug, `/role-mappings/${seg(id)}`)),
    create: (slug: string, body: T.MappingInput) =>
      this.request<T.RoleMapping>("POST", this.t(slug, "/role-mappings"), { body }),
    delete: (slug: string, id: string) =>
      this.request<void>("DELETE", this.t(slug, `/role-mappings/${seg(id)}`)),
    /** Who would gain or lose which role; nothing is saved. The whole proposed set, or a change. */
    preview: (
      slug: string,
      body: { mappings: T.MappingInput[] } | { add?: T.MappingInput[]; remove?: string[] },
    ) => this.request<T.MappingPreview>("POST", this.t(slug, "/role-mappings/preview"), { body }),
  };

  /** A user's roles (SCIM user id), one entry per reason; manual grants kept apart from computed ones. */
  readonly userRoles = {
    list: async (slug: string, userId: string) =>
      (await this.request<{ roles: T.UserRole[] }>("GET", this.t(slug, `/users/${seg(userId)}/roles`))).roles,
    grant: (slug: string, userId: string, roleKey: string) =>
      this.request<void>("PUT", this.t(slug, `/users/${seg(userId)}/roles/${seg(roleKey)}`)),
    revoke: (slug: string, userId: string, roleKey: string) =>
      this.request<void>("DELETE", this.t(slug, `/users/${seg(userId)}/roles/${seg(roleKey)}`)),
  };

  /** One page of the event feed (`next` is the cursor for the following page). */
  eventsPage(slug: string, query: { after?: string; limit?: number } = {}): Promise<T.EventPage> {
    return this.request<T.EventPage>("GET", this.t(slug, "/events"), { query });
  }

  /**
   * The event feed as an endless async iterable (see `EventsOptions`):
   * `for await (const event of roster.events("acme", { after: storedCursor })) { apply(event); store(event.id); }`.
   * At least once: apply events idempotently (deduplicate on `event.id`).
   */
  events(slug: string, options: EventsOptions = {}): AsyncGenerator<T.RosterEvent, void, undefined> {
    return readEvents(this.http, slug, options);
  }

  readonly webhooks = {
    /** The answer's `secret` is shown only here. */
    create: (slug: string, body: { url: string; events: string[]; active?: boolean }) =>
      this.request<T.WebhookWithSecret>("POST", this.t(slug, "/webhooks"), { body }),
    list: async (slug: string) =>
      (await this.request<{ webhooks: T.Webhook[] }>("GET", this.t(slug, "/webhooks"))).webhooks,
    get: (slug: string, id: string) => this.request<T.Webhook>("GET", this.t(slug, `/webhooks/${seg(id)}`)),
    update: (slug: string, id: string, body: { url?: string; events?: string[]; active?: boolean }) =>
      this.request<T.Webhook>("PATCH", this.t(slug, `/webhooks/${seg(id)}`), { body }),
    delete: (slug: string, id: string) => this.request<void>("DELETE", this.t(slug, `/webhooks/${seg(id)}`)),
    /** A new secret; the previous one keeps signing until `previousSecretExpiresAt` (verify with both). */
    rotateSecret: (slug: string, id: string, body: { graceSeconds?: number } = {}) =>
      this.request<T.WebhookWithSecret>("POST", this.t(slug, `/webhooks/${seg(id)}/rotate-secret`), { body }),
    deliveries: (
      slug: string,
      id: string,
      query: { state?: "pending" | "delivered" | "failed"; limit?: number; before?: string } = {},
    ) =>
      this.request<{ deliveries: T.WebhookDelivery[]; next: string | null }>(
        "GET",
        this.t(slug, `/webhooks/${seg(id)}/deliveries`),
        { query },
      ),
    redeliver: (slug: string, id: string, deliveryId: string) =>
      this.request<T.WebhookDelivery>(
        "POST",
        this.t(slug, `/webhooks/${seg(id)}/deliveries/${seg(deliveryId)}/redeliver`),
      ),
  };

  readonly users = {
    /** Invite a user (manual provisioning), with pre-assigned role keys. */
    invite: (slug: string, body: T.InviteInput) =>
      this.request<Record<string, unknown>>("POST", this.t(slug, "/users"), { body }),
    /** End a person's access now (idempotent). `by` says what `ref` is (default: the SCIM id). */
    offboard: (
      slug: string,
      ref: string,
      body: { reason?: string; requestedBy?: string } = {},
      by?: "id" | "userName" | "externalId",
    ) =>
      this.request<T.OffboardResult>("POST", this.t(slug, `/users/${seg(ref)}/offboard`), {
        body,
        query: { by },
      }),
    revocations: async (slug: string, userId: string, query: { limit?: number } = {}) =>
      (
        await this.request<{ revocations: T.RevocationReceipt[] }>(
          "GET",
          this.t(slug, `/users/${seg(userId)}/revocations`),
          { query },
        )
      ).revocations,
  };

  readonly sessions = {
    list: (
      slug: string,
      query: { userId?: string; state?: "live" | "all"; limit?: number; cursor?: string } = {},
    ) =>
      this.request<{ sessions: T.Session[]; next: string | null }>("GET", this.t(slug, "/sessions"), {
        query,
      }),
    revoke: (slug: string, id: string) =>
      this.request<T.RevokedCount>("DELETE", this.t(slug, `/sessions/${seg(id)}`)),
    /** Every session and OAuth token of one person. */
    revokeAllOfUser: (slug: string, userId: string) =>
      this.request<T.RevokedCount>("DELETE", this.t(slug, "/sessions"), { query: { userId } }),
  };

  readonly saml = {
    presets: () => this.request<unknown>("GET", "/saml/presets"),
    get: (slug: string) => this.request<T.SamlConnection>("GET", this.t(slug, "/saml")),
    put: (slug: string, body: T.SamlConnectionInput) =>
      this.request<T.SamlConnection>("PUT", this.t(slug, "/saml"), { body }),
    delete: (slug: string) => this.request<void>("DELETE", this.t(slug, "/saml")),
    /** Start a test login: open `loginUrl` in a browser; it logs no one in and stores a report. */
    test: (slug: string) => this.request<T.SamlTest>("POST", this.t(slug, "/saml/test")),
    getTest: (slug: string, id: string) =>
      this.request<T.SamlTest>("GET", this.t(slug, `/saml/test/${seg(id)}`)),
    /** 409 `SAML_NOT_TESTED` unless a test succeeded against the current configuration. */
    enable: (slug: string) => this.request<T.SamlConnection>("POST", this.t(slug, "/saml/enable")),
    disable: (slug: string) => this.request<T.SamlConnection>("POST", this.t(slug, "/saml/disable")),
    rotateSpKeys: (slug: string) =>
      this.request<T.SamlConnection>("POST", this.t(slug, "/saml/sp-keys/rotate")),
  };

  readonly oauthClients = {
    /** The answer's `clientSecret` is shown only here. */
    create: (slug: string, body: { name: string; redirectUris: string[] }) =>
      this.request<T.CreatedOAuthClient>("POST", this.t(slug, "/oauth-clients"), { body }),
    list: async (slug: string) =>
      (await this.request<{ clients: T.OAuthClient[] }>("GET", this.t(slug, "/oauth-clients"))).clients,
    /** Revokes the client and every access token issued to it. */
    delete: (slug: string, id: string) =>
      this.request<void>("DELETE", this.t(slug, `/oauth-clients/${seg(id)}`)),
  };

  readonly ssoTraces = {
    list: async (slug: string, query: { verified?: boolean; limit?: number } = {}) =>
      (await this.request<{ traces: T.SsoTrace[] }>("GET", this.t(slug, "/sso-traces"), { query })).traces,
    get: (slug: string, ref: string) =>
      this.request<T.SsoTrace>("GET", this.t(slug, `/sso-traces/${seg(ref)}`)),
  };

  readonly jobs = {
    list: async (query: { state?: string; tenant?: string; limit?: number; before?: number } = {}) =>
      (await this.request<{ jobs: T.Job[] }>("GET", "/jobs", { query })).jobs,
    retry: (id: number | string) => this.request<T.Job>("POST", `/jobs/${seg(id)}/retry`),
  };
}
