import { lookup } from "node:dns/promises";
import { AppError } from "../http/errors.js";
import { ALLOW_PRIVATE_HINT, ipLiteralHost, isPrivateAddress } from "../http/network.js";

const invalid = (message: string) =>
  new AppError(400, "INVALID_WEBHOOK_URL", message, [{ field: "url", message }]);

/**
 * Refuse webhook URLs that are not http(s) or whose host resolves (every address, so a
 * round-robin name cannot slip one through) to an internal address, unless the operator
 * allows private networks (ROSTER_WEBHOOK_ALLOW_PRIVATE, for development and tests).
 */
export async function assertWebhookUrl(raw: string, allowPrivateNetwork: boolean): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalid("must be an absolute URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw invalid("must be an http(s) URL");
  if (url.username || url.password) throw invalid("must not carry credentials");
  if (allowPrivateNetwork) return url;
  const literal = ipLiteralHost(url);
  const host = literal ?? url.hostname;
  let addresses: string[];
  try {
    addresses = literal
      ? [literal]
      : (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);
  } catch {
    throw invalid(`host '${host}' does not resolve (DNS name not found)`);
  }
  const bad = addresses.find(isPrivateAddress);
  if (addresses.length === 0 || bad)
    throw invalid(
      literal
        ? `${host} is a loopback, private or link-local address: ${ALLOW_PRIVATE_HINT}`
        : `host '${host}' resolves to a loopback, private or link-local address (${bad ?? "none"}): ${ALLOW_PRIVATE_HINT}`,
    );
  return url;
}
