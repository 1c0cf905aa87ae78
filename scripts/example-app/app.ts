/**
 * A small application that embeds Roster through `roster/client`:
 *  - signs people in through Roster's OAuth hand-off (RosterLogin: PKCE, state, nonce);
 *  - keeps each user's roles in step from the tenant's event feed (role.assigned / role.revoked,
 *    at least once: applied idempotently, deduplicated by event id);
 *  - shows the signed-in user and their roles.
 * State lives in memory to keep the example short; a real application stores sessions, roles and
 * the feed cursor in its own database (the cursor in the same transaction as the roles it applied).
 */
import { randomBytes } from "node:crypto";
import express, { type Request } from "express";
// In your application: import { … } from "roster/client";
import {
  CursorExpiredError,
  type PendingLogin,
  Roster,
  type RosterEvent,
  RosterLogin,
} from "../../src/client/index.js";

export interface ExampleOptions {
  /** Where this app reaches Roster. */
  rosterUrl: string;
  /** Roster's PUBLIC_URL, when browsers reach it elsewhere. */
  rosterPublicUrl?: string;
  adminToken: string;
  tenant: string;
  clientId: string;
  clientSecret: string;
  /** This app's callback, registered on the OAuth client (e.g. http://localhost:4000/callback). */
  redirectUri: string;
  /** Feed poll interval once caught up, ms. */
  pollIntervalMs?: number;
}

interface Session {
  pending?: PendingLogin;
  user?: { id: string; name: string };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function createExampleApp(opts: ExampleOptions) {
  const roster = new Roster({ baseUrl: opts.rosterUrl, adminToken: opts.adminToken });
  const login = new RosterLogin({
    baseUrl: opts.rosterUrl,
    publicUrl: opts.rosterPublicUrl,
    clientId: opts.clientId,
    clientSecret: opts.clientSecret,
    redirectUri: opts.redirectUri,
  });
  const sessions = new Map<string, Session>();
  /** userId → role keys, kept from the feed (and seeded by the id_token at sign-in). */
  const roles = new Map<string, Set<string>>();
  /** The feed cursor: the id of the last event applied. */
  let cursor = "0";

  function apply(event: RosterEvent): void {
    // At least once: an event at or before the cursor was applied already.
    if (BigInt(event.id) <= BigInt(cursor)) return;
    const data = event.data as { userId?: string; role?: string };
    if (data.userId && data.role) {
      const set = roles.get(data.userId) ?? new Set<string>();
      if (event.type === "role.assigned") set.add(data.role);
      if (event.type === "role.revoked") set.delete(data.role);
      roles.set(data.userId, set);
    }
    if (event.type === "user.deleted" && data.userId) roles.delete(data.userId);
    cursor = event.id;
  }

  const abort = new AbortController();
  async function syncRoles(): Promise<void> {
    while (!abort.signal.aborted) {
      try {
        for await (const event of roster.events(opts.tenant, {
          after: cursor,
          pollIntervalMs: opts.pollIntervalMs ?? 2000,
          signal: abort.signal,
          onError: (err, wait) => console.warn(`roster feed: ${String(err)}; retrying in ${wait} ms`),
        }))
          apply(event);
      } catch (err) {
        if (!(err instanceof CursorExpiredError)) throw err;
        // Reconcile: forget what the feed told us and replay what it still holds. (With a
        // database: re-read each known user's roles through roster.userRoles.list first.)
        roles.clear();
        cursor = "0";
      }
    }
  }

  const app = express();
  const session = (req: Request, res: express.Response): Session => {
    const id = /(?:^|;\s*)example_sid=([\w-]+)/.exec(req.headers.cookie ?? "")?.[1];
    if (id && sessions.has(id)) return sessions.get(id)!;
    const fresh = randomBytes(24).toString("base64url");
    sessions.set(fresh, {});
    res.cookie("example_sid", fresh, { httpOnly: true, sameSite: "lax" });
    return sessions.get(fresh)!;
  };

  app.get("/", (req, res) => {
    const s = session(req, res);
    if (!s.user)
      return res.type("html").send('<p>Not signed in. <a href="/login">Sign in with Roster</a></p>');
    const mine = [...(roles.get(s.user.id) ?? [])].sort();
    res
      .type("html")
      .send(
        `<p>Signed in as <b id="user">${esc(s.user.name)}</b></p><p>Roles: <span id="roles">${mine.map(esc).join(", ") || "none"}</span></p>`,
      );
  });
  app.get("/login", (req, res) => {
    const { url, pending } = login.start();
    session(req, res).pending = pending;
    res.redirect(url);
  });
  app.get("/callback", async (req, res) => {
    const s = session(req, res);
    try {
      const { claims } = await login.finish(req.query as Record<string, string>, s.pending!);
      s.pending = undefined;
      s.user = { id: claims.sub, name: claims.preferred_username };
      // The id_token's roles (the `roles` scope) are current at sign-in; the feed keeps them so after.
      if (claims.roles && !roles.has(claims.sub)) roles.set(claims.sub, new Set(claims.roles));
      res.redirect("/");
    } catch (err) {
      res
        .status(400)
        .type("text")
        .send(`Sign-in failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
  app.post("/logout", (req, res) => {
    session(req, res).user = undefined;
    res.redirect("/");
  });

  return {
    app,
    /** Start following the feed (resolves when stopped). */
    syncRoles,
    stop: () => abort.abort(),
    cursor: () => cursor,
  };
}
