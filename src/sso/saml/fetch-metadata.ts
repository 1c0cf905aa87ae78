import http from "node:http";
import https from "node:https";
import { describeHttpStatus, describeNetworkError, OutboundError } from "../../http/network-errors.js";
import { ALLOW_PRIVATE_HINT, ipLiteralHost, isPrivateAddress, publicOnlyLookup } from "../../http/network.js";
import { fieldError } from "./certificates.js";

/** Limits for fetching IdP metadata. */
export interface FetchOptions {
  allowPrivateNetwork: boolean;
  timeoutMs?: number;
  maxBytes?: number;
  maxRedirects?: number;
}

/**
 * Fetch IdP metadata: https only (http too when private networks are allowed, for development),
 * a timeout, a size limit, and each redirect re-checked (scheme and address). Every failure is
 * a 400 naming `field`, in words (DNS name not found, connection refused, TLS handshake failed,
 * certificate not trusted, not found (404), timed out, too large, too many redirects).
 */
export async function fetchMetadata(url: string, opts: FetchOptions, field = "metadataUrl"): Promise<string> {
  const maxRedirects = opts.maxRedirects ?? 3;
  let current = url;
  for (let hop = 0; hop <= maxRedirects; hop++) {
    let parsed: URL;
    try {
      parsed = new URL(current);
    } catch {
      throw fieldError(field, "is not a URL");
    }
    if (parsed.protocol !== "https:" && !(opts.allowPrivateNetwork && parsed.protocol === "http:"))
      throw fieldError(field, `must be an https URL (got ${parsed.protocol}//${parsed.host})`);
    const literal = ipLiteralHost(parsed);
    if (!opts.allowPrivateNetwork && literal !== undefined && isPrivateAddress(literal))
      throw fieldError(
        field,
        `${parsed.hostname} is a loopback, private or link-local address: ${ALLOW_PRIVATE_HINT}`,
      );
    let res: { status: number; body: string; redirect?: string };
    try {
      res = await get(parsed, opts);
    } catch (err) {
      throw fieldError(field, `fetching ${parsed.origin} failed: ${describeNetworkError(err, parsed.host)}`);
    }
    if (res.redirect) {
      current = new URL(res.redirect, parsed).toString();
      continue;
    }
    if (res.status !== 200)
      throw fieldError(field, `fetching ${current} failed: ${describeHttpStatus(res.status)}`);
    return res.body;
  }
  throw fieldError(field, `fetching ${url} failed: too many redirects (more than ${maxRedirects})`);
}

function get(url: URL, opts: FetchOptions): Promise<{ status: number; body: string; redirect?: string }> {
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  const timeoutMs = opts.timeoutMs ?? 5000;
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(
      url,
      {
        timeout: timeoutMs,
        headers: { accept: "application/samlmetadata+xml, application/xml, text/xml" },
        ...(opts.allowPrivateNetwork ? {} : { lookup: publicOnlyLookup as never }),
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400 && res.headers.location) {
          res.resume();
          return resolve({ status, body: "", redirect: res.headers.location });
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) req.destroy(new OutboundError(`too large (more than ${bytes(maxBytes)})`));
          else chunks.push(c);
        });
        res.on("end", () => resolve({ status, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    // `timeout` fires after that long without socket activity, the whole fetch is bounded below.
    const fail = () => req.destroy(new OutboundError(`timed out after ${timeoutMs / 1000} s`));
    req.on("timeout", fail);
    const timer = setTimeout(fail, timeoutMs);
    req.on("close", () => clearTimeout(timer));
    req.on("error", reject);
  });
}

const bytes = (n: number) =>
  n % (1024 * 1024) === 0 ? `${n / 1024 / 1024} MB` : n % 1024 === 0 ? `${n / 1024} KB` : `${n} bytes`;
