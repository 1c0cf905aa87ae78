import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import { isPrivateAddress, publicOnlyLookup } from "../http/network.js";
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
 * a timeout, a size limit, and each redirect re-checked (scheme and address).
 */
export async function fetchMetadata(url: string, opts: FetchOptions, field = "metadataUrl"): Promise<string> {
  let current = url;
  for (let hop = 0; hop <= (opts.maxRedirects ?? 3); hop++) {
    let parsed: URL;
    try {
      parsed = new URL(current);
    } catch {
      throw fieldError(field, "is not a URL");
    }
    if (parsed.protocol !== "https:" && !(opts.allowPrivateNetwork && parsed.protocol === "http:"))
      throw fieldError(field, `must be an https URL (got ${parsed.protocol}//${parsed.host})`);
    if (
      !opts.allowPrivateNetwork &&
      isIP(parsed.hostname.replace(/^\[|\]$/g, "")) &&
      isPrivateAddress(parsed.hostname.replace(/^\[|\]$/g, ""))
    )
      throw fieldError(field, `${parsed.hostname} is a private or loopback address`);
    const res = await get(parsed, opts);
    if (res.redirect) {
      current = new URL(res.redirect, parsed).toString();
      continue;
    }
    if (res.status !== 200) throw fieldError(field, `fetching ${current} answered HTTP ${res.status}`);
    return res.body;
  }
  throw fieldError(field, "too many redirects");
}

function get(url: URL, opts: FetchOptions): Promise<{ status: number; body: string; redirect?: string }> {
  const maxBytes = opts.maxBytes ?? 1024 * 1024;
  const client = url.protocol === "https:" ? https : http;
  return new Promise((resolve, reject) => {
    const req = client.get(
      url,
      {
        timeout: opts.timeoutMs ?? 5000,
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
          if (size > maxBytes) {
            req.destroy();
            reject(fieldError("metadataUrl", `metadata is larger than ${maxBytes} bytes`));
            return;
          }
          chunks.push(c);
        });
        res.on("end", () => resolve({ status, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", (e) => reject(fieldError("metadataUrl", `fetch failed: ${e.message}`)));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`timed out after ${opts.timeoutMs ?? 5000} ms`)));
    req.on("error", (e) => reject(fieldError("metadataUrl", `fetch failed: ${e.message}`)));
  });
}
