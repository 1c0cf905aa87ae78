import { domainToASCII, domainToUnicode } from "node:url";
import { AppError } from "../http/errors.js";

/**
 * Consumer mail domains: anyone can get an address there, so no tenant may claim one (400
 * CONSUMER_DOMAIN). Routing every gmail.com address to one customer's IdP would hand that
 * customer the sign-in of strangers. Subdomains of these are refused too (only the provider
 * could publish their records). The list is the large free providers; extend it as needed.
 */
export const CONSUMER_DOMAINS: ReadonlySet<string> = new Set([
  // Google, Microsoft, Yahoo, Apple, AOL
  "gmail.com",
  "googlemail.com",
  "outlook.com",
  "hotmail.com",
  "hotmail.co.uk",
  "hotmail.fr",
  "live.com",
  "msn.com",
  "passport.com",
  "yahoo.com",
  "yahoo.co.uk",
  "yahoo.co.jp",
  "yahoo.fr",
  "ymail.com",
  "rocketmail.com",
  "icloud.com",
  "me.com",
  "mac.com",
  "aol.com",
  // Privacy-focused and independent providers
  "proton.me",
  "protonmail.com",
  "protonmail.ch",
  "pm.me",
  "tutanota.com",
  "tuta.io",
  "fastmail.com",
  "hey.com",
  "zoho.com",
  "zohomail.com",
  "mail.com",
  "gmx.com",
  "gmx.net",
  "gmx.de",
  "web.de",
  // Regional providers with large free user bases
  "yandex.com",
  "yandex.ru",
  "mail.ru",
  "qq.com",
  "163.com",
  "126.com",
  "naver.com",
  "daum.net",
  "rediffmail.com",
  "libero.it",
  "orange.fr",
  "free.fr",
  "laposte.net",
  "t-online.de",
  "comcast.net",
]);

/** Whether a normalised domain is (or is under) a consumer mail domain. */
export function isConsumerDomain(ascii: string): boolean {
  const labels = ascii.split(".");
  for (let i = 0; i < labels.length - 1; i++)
    if (CONSUMER_DOMAINS.has(labels.slice(i).join("."))) return true;
  return false;
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * A domain name as Roster stores it, or undefined when it is not a host name a mail address
 * can have: IDNA to ASCII (UTS #46 via WHATWG's domainToASCII: "Bücher.example" →
 * "xn--bcher-kva.example"), lower case, one trailing dot dropped; at least two labels of 1–63
 * letters, digits and hyphens (RFC 1035 §2.3.1, RFC 5890 A-labels), 253 characters in all
 * (RFC 1035 §2.3.4), a top-level label that is not all digits (no IP addresses).
 */
export function normaliseDomain(input: string): string | undefined {
  if (input.length > 1024) return undefined;
  const trimmed = input.trim().replace(/\.$/, "");
  // domainToASCII accepts forms that are not host names of a mail domain; the checks below decide.
  if (trimmed === "" || /[\s/@:%?#[\]\\]/.test(trimmed)) return undefined;
  const ascii = domainToASCII(trimmed).toLowerCase();
  if (ascii === "" || ascii.length > 253) return undefined;
  const labels = ascii.split(".");
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return undefined;
  if (/^\d+$/.test(labels[labels.length - 1])) return undefined;
  return ascii;
}

/** The domain as people read it (U-labels), for display next to the stored ASCII form. */
export function displayDomain(ascii: string): string {
  return domainToUnicode(ascii) || ascii;
}

/** Normalise a domain an admin gave, or 400 INVALID_DOMAIN / CONSUMER_DOMAIN. */
export function requireClaimableDomain(input: unknown, field = "domain"): string {
  if (typeof input !== "string")
    throw new AppError(400, "VALIDATION_FAILED", `Invalid body: ${field}: must be a string`, [
      { field, message: "must be a string" },
    ]);
  const ascii = normaliseDomain(input);
  if (!ascii)
    throw new AppError(400, "INVALID_DOMAIN", `'${input.slice(0, 300)}' is not a valid domain name`, [
      { field, message: "must be a domain name such as acme.com" },
    ]);
  if (isConsumerDomain(ascii))
    throw new AppError(
      400,
      "CONSUMER_DOMAIN",
      `${ascii} is a consumer mail domain: anyone can have an address there, so no tenant can claim it`,
      [{ field, message: "is a consumer mail domain" }],
    );
  return ascii;
}
