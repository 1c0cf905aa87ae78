/** Shared set-up for the SSO suites: a tenant with a connection to the test IdP, and a browser. */
import { inflateRawSync } from "node:zlib";
import { markTested } from "../../src/sso/saml/connection-store.js";
import { admin, createTenantWithToken, scimClient, type TestContext, userBody } from "../helpers/context.js";
import { type ResponseOptions, TestIdp } from "../helpers/test-idp.js";

/** A configured tenant. */
export interface SsoTenant {
  slug: string;
  tenantId: string;
  idp: TestIdp;
  acsUrl: string;
  entityId: string;
  scim: ReturnType<typeof scimClient>;
  /** Response options for this tenant (ACS, audience, the app's clock) plus the given ones. */
  opts(extra: Partial<ResponseOptions> & { nameId: string }): ResponseOptions;
}

/** Create a tenant, connect the test IdP (fields), mark it tested and enable it. */
export async function setupSso(
  ctx: TestContext,
  slug: string,
  settings: Record<string, unknown> = {},
  idp = new TestIdp(),
): Promise<SsoTenant> {
  const { tenantId, token } = await createTenantWithToken(ctx, slug);
  const a = admin(ctx);
  const put = await a.put(`/admin/v1/tenants/${slug}/saml`, {
    idpEntityId: idp.entityId,
    ssoUrl: idp.ssoUrl,
    certificates: [idp.keys.certificate],
    ...settings,
  });
  if (put.status !== 200) throw new Error(`PUT saml: ${put.status} ${JSON.stringify(put.body)}`);
  await markTested(ctx.deps.db, tenantId, put.body.id, put.body.configVersion, ctx.clock.now().toISOString());
  await a.post(`/admin/v1/tenants/${slug}/saml/enable`).expect(200);
  const acsUrl = `https://roster.test/sso/${slug}/acs`;
  const entityId = `https://roster.test/sso/${slug}`;
  return {
    slug,
    tenantId,
    idp,
    acsUrl,
    entityId,
    scim: scimClient(ctx, token),
    // The IdP signs by the app's clock (tests move it forward by days): the ACS checks the
    // validity window against that clock.
    opts: (extra) => ({ acsUrl, audience: entityId, now: ctx.clock.now(), ...extra }),
  };
}

/** Create a directory user through SCIM. */
export async function addUser(
  t: SsoTenant,
  userName: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const res = await t.scim.post("/Users", userBody(userName, extra));
  if (res.status !== 201) throw new Error(`SCIM create: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id;
}

/** The AuthnRequest a redirect URL carries (HTTP-Redirect binding: deflate + base64). */
export function authnRequestOf(location: string): { id: string; xml: string; url: URL } {
  const url = new URL(location);
  const xml = inflateRawSync(Buffer.from(url.searchParams.get("SAMLRequest") ?? "", "base64")).toString(
    "utf8",
  );
  const id = /\sID="([^"]+)"/.exec(xml)?.[1];
  if (!id) throw new Error(`no request id in ${xml}`);
  return { id, xml, url };
}

/** A browser: keeps its cookies between requests. */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly ctx: TestContext) {}

  private header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  /** Remember Set-Cookie values (Max-Age=0 deletes). */
  keep(setCookie: string[] | string | undefined): void {
    for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = c.split(";");
      const i = pair.indexOf("=");
      const name = pair.slice(0, i);
      if (/Max-Age=0/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(i + 1));
    }
  }

  /** GET with this browser's cookies (and, if given, the status it must answer). */
  async get(url: string, status?: number) {
    const res = await this.ctx.http.get(url).set("Cookie", this.header());
    this.keep(res.headers["set-cookie"]);
    if (status !== undefined && res.status !== status)
      throw new Error(`GET ${url}: ${res.status} ${res.text.slice(0, 300)}`);
    return res;
  }

  /** Start an SP-initiated login; returns the AuthnRequest id. */
  async startLogin(slug: string, query = ""): Promise<string> {
    const res = await this.get(`/sso/${slug}/login${query}`);
    if (res.status !== 302) throw new Error(`login: ${res.status} ${res.text}`);
    return authnRequestOf(res.headers.location).id;
  }

  /** POST a SAMLResponse to the ACS. */
  async acs(slug: string, samlResponse: string, relayState?: string) {
    const form: Record<string, string> = { SAMLResponse: samlResponse };
    if (relayState !== undefined) form.RelayState = relayState;
    const res = await this.ctx.http
      .post(`/sso/${slug}/acs`)
      .set("Cookie", this.header())
      .type("form")
      .send(form);
    this.keep(res.headers["set-cookie"]);
    return res;
  }

  /** POST a form with this browser's cookies. */
  async postForm(url: string, form: Record<string, string> = {}) {
    const res = await this.ctx.http.post(url).set("Cookie", this.header()).type("form").send(form);
    this.keep(res.headers["set-cookie"]);
    return res;
  }
}

/** Events of a type recorded for a tenant, oldest first. */
export async function eventsOf(
  ctx: TestContext,
  tenantId: string,
  type: string,
): Promise<Array<Record<string, any>>> {
  const rows = await ctx.deps.db("events").where({ tenant_id: tenantId, type }).orderBy("seq");
  return rows.map((r: any) => JSON.parse(r.data));
}
