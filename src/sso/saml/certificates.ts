import { X509Certificate } from "node:crypto";
import { AppError } from "../../http/errors.js";
import { pemBody, toPem } from "./x509.js";

/** What the admin API shows about an IdP certificate. */
export interface CertificateInfo {
  subject: string;
  fingerprintSha256: string;
  notBefore: string;
  notAfter: string;
  keyType: string;
  keyBits: number | null;
  daysUntilExpiry: number;
}

const DAY = 86_400_000;

/** A field-named validation error (400 VALIDATION_FAILED with details, like parseInput). */
export function fieldError(field: string, message: string): AppError {
  return new AppError(400, "VALIDATION_FAILED", `Invalid body: ${field}: ${message}`, [{ field, message }]);
}

// Parsing X.509 costs ~0.3 ms; the ACS checks each configured certificate's expiry per login.
const parsed = new Map<string, Omit<CertificateInfo, "daysUntilExpiry">>();

/** Describe a certificate: subject, SHA-256 fingerprint, validity, key type and size. */
export function describeCertificate(pem: string, now: Date): CertificateInfo {
  let info = parsed.get(pem);
  if (!info) {
    const x = new X509Certificate(pem);
    info = {
      subject: x.subject.replace(/\n/g, ", "),
      fingerprintSha256: x.fingerprint256,
      notBefore: new Date(x.validFrom).toISOString(),
      notAfter: new Date(x.validTo).toISOString(),
      keyType: x.publicKey.asymmetricKeyType ?? "unknown",
      keyBits: x.publicKey.asymmetricKeyDetails?.modulusLength ?? null,
    };
    if (parsed.size >= 1000) parsed.clear();
    parsed.set(pem, info);
  }
  return { ...info, daysUntilExpiry: Math.floor((new Date(info.notAfter).getTime() - now.getTime()) / DAY) };
}

/**
 * Validate IdP signing certificates at save: each parses as X.509, holds an RSA key of at least
 * 2048 bits or an EC key, and is not expired (refused with its date). Returns normalised PEMs.
 */
export function validateCertificates(certs: string[], now: Date, field = "certificates"): string[] {
  if (certs.length === 0) throw fieldError(field, "at least one X.509 signing certificate is required");
  return certs.map((raw, i) => {
    const name = `${field}.${i}`;
    if (typeof raw !== "string" || pemBody(raw) === "") throw fieldError(name, "must be a PEM certificate");
    const pem = toPem(raw);
    let x: X509Certificate;
    try {
      x = new X509Certificate(pem);
    } catch {
      throw fieldError(name, "is not a parseable PEM X.509 certificate");
    }
    const type = x.publicKey.asymmetricKeyType;
    const bits = x.publicKey.asymmetricKeyDetails?.modulusLength ?? 0;
    if (type === "rsa" && bits < 2048)
      throw fieldError(name, `RSA key of ${bits} bits; at least 2048 are required`);
    if (type !== "rsa" && type !== "ec")
      throw fieldError(name, `key type ${type} is not supported (RSA or EC)`);
    const notAfter = new Date(x.validTo);
    if (notAfter <= now) throw fieldError(name, `certificate expired on ${notAfter.toISOString()}`);
    return pem;
  });
}
