import http from "node:http";
import https from "node:https";
import { describeNetworkError, OutboundError } from "../../http/network-errors.js";
import { ALLOW_PRIVATE_HINT, ipLiteralHost, isPrivateAddress, publicOnlyLookup } from "../../http/network.js";

/**
 * Outbound requests to an OpenID Provider (discovery, JWKS, token endpoint): the SSRF rules of
 * IdP metadata URLs (saml/fetch-metadata.ts): https only (http too when private networks are
 * allowed, for development and tests), loopback/private/link-local addresses refused at connect
 * time (DNS rebinding included), no redirects followed, 5 s for the whole exchange, 1 MB at most.
 * It is openid-client's `customFetch`, so every request the library makes passes here.
 */
export interface OutboundOptions {
  allowPrivateNetwork: boolean;
  timeoutMs?: number;
  maxBytes?: number;
}

/** Why an outbound request was refused or failed, in words. */
export class OutboundRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "OutboundRefused";
  }
}

/** A fetch-compatible function (openid-client's CustomFetch) bound to the rules above. */
export function guardedFetch(opts: OutboundOptions) {
  return async (
    url: string,
    init: { method?: string; headers?: Record<string, string> | Headers; body?: unknown } = {},
  ): Promise<Response> => {
    const u = new URL(url);
    if (u.protocol !== "https:" && !(opts.allowPrivateNetwork && u.protocol === "http:"))
      throw new OutboundRefused(`${u.origin} is not an https URL`);
    const literal = ipLiteralHost(u);
    if (!opts.allowPrivateNetwork && literal !== undefined && isPrivateAddress(literal))
      throw new OutboundRefused(
        `${u.hostname} is a loopback, private or link-local address: ${ALLOW_PRIVATE_HINT}`,
      );
    const headers: Record<string, string> = {};
    if (init.headers instanceof Headers)
      init.headers.forEach((v, k) => {
        headers[k] = v;
      });
    else Object.assign(headers, init.headers ?? {});
    const body = init.body === undefined || init.body === null ? undefined : String(init.body);
    try {
      return await send(u, init.method ?? "GET", headers, body, opts);
    } catch (err) {
      throw new OutboundRefused(
        `${init.method ?? "GET"} ${u.origin}${u.pathname} failed: ${describeNetworkError(err, u.host)}`,
      );
    }
  };
}

function send(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | undefined,
  opts: OutboundOptions,
): Promise<Response> {
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.request(
      url,
      {
        method,
        headers:
          body === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(body)) },
        timeout: timeoutMs,
        ...(opts.allowPrivateNetwork ? {} : { lookup: publicOnlyLookup as never }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) req.destroy(new OutboundError(`too large (more than ${maxBytes} bytes)`));
          else chunks.push(c);
        });
        res.on("end", () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers))
            if (typeof v === "string") h.set(k, v);
            else if (Array.isArray(v)) for (const x of v) h.append(k, x);
          const status = res.statusCode ?? 502;
          const nullBody = status === 204 || status === 304 || method === "HEAD";
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), { status, headers: h }));
        });
        res.on("error", reject);
      },
    );
    const fail = () => req.destroy(new OutboundError(`timed out after ${timeoutMs / 1000} s`));
    req.on("timeout", fail);
    const timer = setTimeout(fail, timeoutMs);
    req.on("close", () => clearTimeout(timer));
    req.on("error", reject);
    req.end(body);
  });
}
