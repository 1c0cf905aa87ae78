/** A console browser over supertest: keeps cookies, reads CSRF tokens from pages. */
import type { TestContext } from "../helpers/context.js";

/** Cookies and the last page's CSRF token. */
export class ConsoleClient {
  readonly cookies = new Map<string, string>();
  csrf = "";
  constructor(private readonly ctx: TestContext) {}

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  }

  keep(setCookie: string[] | string | undefined): void {
    for (const c of Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : []) {
      const [pair] = c.split(";");
      const i = pair.indexOf("=");
      const name = pair.slice(0, i);
      if (/Max-Age=0/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, pair.slice(i + 1));
    }
  }

  private remember(text: string) {
    const m = /name="_csrf" value="([^"]+)"/.exec(text);
    if (m) this.csrf = m[1];
  }

  async get(url: string) {
    const res = await this.ctx.http.get(url).set("Cookie", this.cookieHeader());
    this.keep(res.headers["set-cookie"]);
    if (res.type === "text/html") this.remember(res.text);
    return res;
  }

  /** POST a form; `_csrf` is the last page's token unless the form says otherwise. */
  async post(url: string, form: Record<string, string> = {}, withCsrf = true) {
    const body = withCsrf && !("_csrf" in form) ? { _csrf: this.csrf, ...form } : form;
    const res = await this.ctx.http.post(url).set("Cookie", this.cookieHeader()).type("form").send(body);
    this.keep(res.headers["set-cookie"]);
    if (res.type === "text/html") this.remember(res.text);
    return res;
  }

  /** Open a sign-in link page and press Continue. */
  async exchange(url: string) {
    const u = new URL(url);
    const page = await this.get(`${u.pathname}${u.search}`);
    const token = /name="token" value="([^"]*)"/.exec(page.text)?.[1] ?? "";
    return this.post(u.pathname, { token: token.replace(/&amp;/g, "&") });
  }
}
