/**
 * OpenID Providers on loopback for the OpenID Connect suites (issue 17: a real provider, not a mock).
 *
 * - TestOp: oidc-provider 9 on 127.0.0.1, configured per test with accounts (their claims: hd,
 *   tid, email_verified, groups…), its signing key and algorithm. Discovery, JWKS, the
 *   authorization and token endpoints and the signatures are oidc-provider's own. `login()` walks
 *   its login form like a browser and returns the redirect back to Roster.
 * - ForgeOp: a tiny real provider for the attack cases oidc-provider will not produce (it signs
 *   only valid tokens): discovery, JWKS, an authorization endpoint that redirects straight back,
 *   and a token endpoint that answers with whatever id_token the test mints with jose (wrong iss
 *   or aud, expired, no nonce, alg none, HS256 keyed with the public key, an unknown kid…). Real
 *   HTTP, real signatures.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, SignJWT } from "jose";
import Provider, { type Configuration } from "oidc-provider";

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A signing key pair as JWKs (private with kid/alg/use). */
export async function signingKey(
  alg: "RS256" | "PS256" | "ES256" = "RS256",
  kid = randomBytes(6).toString("hex"),
) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const priv = { ...(await exportJWK(privateKey)), kid, alg, use: "sig" } as JWK;
  const pub = { ...(await exportJWK(publicKey)), kid, alg, use: "sig" } as JWK;
  return { privateKey, publicKey, priv, pub, kid, alg };
}

/** A tiny cookie jar for walking a server's pages with fetch (one host: paths and attributes ignored). */
export class Jar {
  private readonly cookies = new Map<string, string>();
  keep(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair.indexOf("=");
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }
}

/** The client Roster is at a test provider. */
export interface OpClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

/** oidc-provider on loopback. */
export class TestOp {
  private constructor(
    readonly issuer: string,
    readonly server: http.Server,
    readonly provider: Provider,
    /** Accounts by id with their claims (read at each login). */
    readonly accounts: Map<string, Record<string, unknown>>,
  ) {}

  /** Start a provider with these clients, signing id_tokens with `alg`. */
  static async start(clients: OpClient[], opts: { alg?: "RS256" | "PS256" | "ES256" } = {}): Promise<TestOp> {
    const server = http.createServer();
    const issuer = await listen(server);
    const alg = opts.alg ?? "RS256";
    const key = await signingKey(alg);
    const accounts = new Map<string, Record<string, unknown>>();
    const conf: Configuration = {
      clients: clients.map((c) => ({
        client_id: c.clientId,
        client_secret: c.clientSecret,
        redirect_uris: c.redirectUris,
        response_types: ["code"],
        grant_types: ["authorization_code"],
        token_endpoint_auth_method: "client_secret_basic",
        id_token_signed_response_alg: alg,
      })),
      jwks: { keys: [key.priv as any] },
      cookies: { keys: [randomBytes(16).toString("hex")] },
      // Scope claims in the id_token itself, as Google and Entra send them (not only at userinfo).
      conformIdTokenClaims: false,
      claims: {
        openid: ["sub"],
        email: ["email", "email_verified"],
        profile: ["name", "given_name", "family_name", "preferred_username", "hd", "tid", "oid"],
        groups: ["groups"],
      },
      scopes: ["openid", "email", "profile", "groups", "offline_access"],
      pkce: { required: () => true },
      features: { devInteractions: { enabled: true } },
      findAccount: async (_ctx, id) => {
        const claims = accounts.get(id);
        if (!claims) return undefined;
        return { accountId: id, claims: async () => ({ sub: id, ...claims }) };
      },
      // No consent page: the grant covers what was asked (the test logs in, it does not consent).
      loadExistingGrant: async (ctx) => {
        const oidc = ctx.oidc;
        const grantId = oidc.result?.consent?.grantId || oidc.session!.grantIdFor(oidc.client!.clientId);
        if (grantId) return oidc.provider.Grant.find(grantId);
        const grant = new oidc.provider.Grant({
          clientId: oidc.client!.clientId,
          accountId: oidc.session!.accountId!,
        });
        grant.addOIDCScope("openid email profile groups");
        await grant.save();
        return grant;
      },
    };
    const provider = new Provider(issuer, conf);
    server.on("request", provider.callback());
    return new TestOp(issuer, server, provider, accounts);
  }

  /** Add (or replace) an account with its claims. */
  account(id: string, claims: Record<string, unknown>): this {
    this.accounts.set(id, claims);
    return this;
  }

  /**
   * Walk the provider like a browser: the authorization URL Roster redirected to, the login form
   * for `accountId`, and back. Returns the redirect to Roster's callback (code, state, iss).
   */
  async login(authorizationUrl: string, accountId: string): Promise<URL> {
    const jar = new Jar();
    let url = authorizationUrl;
    for (let hop = 0; hop < 10; hop++) {
      const res = await fetch(url, { redirect: "manual", headers: { cookie: jar.header() } });
      jar.keep(res);
      const location = res.headers.get("location");
      if (res.status >= 300 && res.status < 400 && location) {
        const next = new URL(location, url);
        if (!next.href.startsWith(this.issuer)) return next;
        url = next.href;
        continue;
      }
      const html = await res.text();
      if (res.status !== 200 || !/name="prompt" value="login"/.test(html))
        throw new Error(`unexpected page at ${url}: ${res.status} ${html.slice(0, 300)}`);
      const post = await fetch(url, {
        method: "POST",
        redirect: "manual",
        headers: { cookie: jar.header(), "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ prompt: "login", login: accountId, password: "x" }),
      });
      jar.keep(post);
      url = new URL(post.headers.get("location") ?? "", url).href;
    }
    throw new Error("too many redirects at the test provider");
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/** What the forge's token endpoint is asked to sign, per authorization. */
export interface ForgeRequest {
  clientId: string;
  nonce: string | undefined;
  code: string;
}

/** A provider whose token endpoint answers with id_tokens the test mints (see above). */
export class ForgeOp {
  /** The key its JWKS publishes. */
  key!: Awaited<ReturnType<typeof signingKey>>;
  /** How the next token response's id_token is made (default: a valid one). */
  mint: (r: ForgeRequest, op: ForgeOp) => Promise<string> = (r, op) => op.valid(r);
  /** Claims every valid id_token carries besides the standard ones. */
  claims: Record<string, unknown> = {};
  /** Extra parameters of the redirect back (RFC 9207's iss by default). */
  redirectParams: (issuer: string) => Record<string, string> = (issuer) => ({ iss: issuer });
  private readonly codes = new Map<string, ForgeRequest>();
  readonly tokenRequests: string[] = [];
  private constructor(
    readonly issuer: string,
    readonly server: http.Server,
  ) {}

  static async start(alg: "RS256" | "PS256" | "ES256" = "RS256"): Promise<ForgeOp> {
    const server = http.createServer();
    const issuer = await listen(server);
    const op = new ForgeOp(issuer, server);
    op.key = await signingKey(alg);
    server.on("request", (req, res) => op.handle(req, res).catch((e) => res.writeHead(500).end(String(e))));
    return op;
  }

  /** A valid id_token for this authorization (the test changes what it needs). */
  async valid(
    r: ForgeRequest,
    overrides: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({
      iss: this.issuer,
      aud: r.clientId,
      sub: "forge-user",
      iat: now,
      exp: now + 300,
      ...(r.nonce ? { nonce: r.nonce } : {}),
      ...this.claims,
      ...overrides,
    })
      .setProtectedHeader({ alg: this.key.alg, kid: this.key.kid, ...header })
      .sign(this.key.privateKey);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", this.issuer);
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    };
    if (url.pathname === "/.well-known/openid-configuration")
      return json(200, {
        issuer: this.issuer,
        authorization_endpoint: `${this.issuer}/auth`,
        token_endpoint: `${this.issuer}/token`,
        jwks_uri: `${this.issuer}/jwks`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256", "PS256", "ES256", "HS256", "none"],
        token_endpoint_auth_methods_supported: ["client_secret_basic"],
        code_challenge_methods_supported: ["S256"],
        authorization_response_iss_parameter_supported: true,
      });
    if (url.pathname === "/jwks") return json(200, { keys: [this.key.pub] });
    if (url.pathname === "/auth") {
      const code = randomBytes(16).toString("hex");
      this.codes.set(code, {
        clientId: url.searchParams.get("client_id") ?? "",
        nonce: url.searchParams.get("nonce") ?? undefined,
        code,
      });
      const back = new URL(url.searchParams.get("redirect_uri") ?? "");
      back.searchParams.set("code", code);
      back.searchParams.set("state", url.searchParams.get("state") ?? "");
      for (const [k, v] of Object.entries(this.redirectParams(this.issuer))) back.searchParams.set(k, v);
      res.writeHead(302, { location: back.href }).end();
      return;
    }
    if (url.pathname === "/token" && req.method === "POST") {
      let body = "";
      for await (const c of req) body += c;
      const form = new URLSearchParams(body);
      const code = form.get("code") ?? "";
      this.tokenRequests.push(code);
      const r = this.codes.get(code);
      if (!r) return json(400, { error: "invalid_grant", error_description: "unknown code" });
      return json(200, {
        access_token: randomBytes(16).toString("hex"),
        token_type: "Bearer",
        expires_in: 300,
        id_token: await this.mint(r, this),
      });
    }
    res.writeHead(404).end();
  }

  /** Follow the authorization URL: the redirect back to Roster. */
  async login(authorizationUrl: string): Promise<URL> {
    const res = await fetch(authorizationUrl, { redirect: "manual" });
    return new URL(res.headers.get("location") ?? "");
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }
}

/** An unsigned JWT (alg none) with these claims. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  return `${b64({ alg: "none", typ: "JWT" })}.${b64(claims)}.`;
}

/** HS256 over a JWT keyed with `secret` bytes (the "public key as HMAC secret" confusion). */
export function hmacJwt(claims: Record<string, unknown>, secret: Buffer, kid?: string): string {
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const input = `${b64({ alg: "HS256", typ: "JWT", ...(kid ? { kid } : {}) })}.${b64(claims)}`;
  return `${input}.${createHmac("sha256", secret).update(input).digest("base64url")}`;
}

/** sha256 hex (for asserting the code is never stored in clear). */
export const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");
