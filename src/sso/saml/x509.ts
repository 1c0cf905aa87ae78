import {
  createHash,
  generateKeyPair,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  sign,
  X509Certificate,
} from "node:crypto";

/**
 * Self-signed X.509 certificates in pure Node (node:crypto parses certificates but cannot make
 * them): a minimal DER encoder for RFC 5280's TBSCertificate, signed sha256WithRSAEncryption.
 * Used for Roster's per-tenant SP signing and encryption certificates (and by the test IdP).
 */

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, body: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(body.length), body]);
}

const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => tlv(0x31, Buffer.concat(parts));
const nul = () => Buffer.from([0x05, 0x00]);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));
const explicit = (n: number, body: Buffer) => tlv(0xa0 + n, body);

// X.690 §8.3.2: the shortest two's-complement form. A redundant leading zero byte is invalid
// DER, and OpenSSL refuses the whole certificate.
function integer(bytes: Buffer): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0 && !(bytes[start + 1] & 0x80)) start++;
  const trimmed = bytes.subarray(start);
  const body = trimmed[0] & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
  return tlv(0x02, body);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [a * 40 + b];
  for (const n of rest) {
    const chunk: number[] = [n & 0x7f];
    for (let v = n >> 7; v > 0; v >>= 7) chunk.unshift((v & 0x7f) | 0x80);
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

// RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050.
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return d.getUTCFullYear() < 2050
    ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`))
    : tlv(0x18, Buffer.from(`${iso}Z`));
}

const SHA256_WITH_RSA = seq(oid("1.2.840.113549.1.1.11"), nul());
const COMMON_NAME = "2.5.4.3";

/** Options for a self-signed certificate. */
export interface CertificateOptions {
  commonName: string;
  notBefore?: Date;
  notAfter?: Date;
}

/** A self-signed certificate (PEM) for an RSA key pair. */
export function selfSignedCertificate(
  privateKey: KeyObject,
  publicKey: KeyObject,
  opts: CertificateOptions,
): string {
  const notBefore = opts.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = opts.notAfter ?? new Date(notBefore.getTime() + 10 * 365 * 86_400_000);
  const name = seq(set(seq(oid(COMMON_NAME), utf8(opts.commonName))));
  // RFC 5280 §4.1.2.2: a positive serial of at most 20 octets; the top bits fixed so it keeps 16.
  const serial = randomBytes(16);
  serial[0] = (serial[0] & 0x3f) | 0x40;
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(serial),
    SHA256_WITH_RSA,
    name,
    seq(time(notBefore), time(notAfter)),
    name,
    publicKey.export({ type: "spki", format: "der" }),
  );
  const signature = sign("sha256", tbs, privateKey);
  const der = seq(tbs, SHA256_WITH_RSA, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN CERTIFICATE-----\n${b64.trim()}\n-----END CERTIFICATE-----\n`;
}

/** A key pair with its self-signed certificate, all PEM. */
export interface KeyAndCertificate {
  privateKey: string;
  certificate: string;
}

/** Generate an RSA key pair (2048 bits by default) and a self-signed certificate for it. */
export function generateKeyAndCertificate(opts: CertificateOptions & { bits?: number }): KeyAndCertificate {
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: opts.bits ?? 2048 });
  return {
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    certificate: selfSignedCertificate(privateKey, publicKey, opts),
  };
}

/** Like generateKeyAndCertificate, without blocking the event loop while the key is generated. */
export async function generateKeyAndCertificateAsync(
  opts: CertificateOptions & { bits?: number },
): Promise<KeyAndCertificate> {
  const { privateKey, publicKey } = await new Promise<{ privateKey: KeyObject; publicKey: KeyObject }>(
    (ok, fail) =>
      generateKeyPair("rsa", { modulusLength: opts.bits ?? 2048 }, (err, publicKey, privateKey) =>
        err ? fail(err) : ok({ publicKey, privateKey }),
      ),
  );
  return {
    privateKey: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
    certificate: selfSignedCertificate(privateKey, publicKey, opts),
  };
}

/** SHA-256 fingerprint of a certificate, colon-separated upper-case hex (as IdP consoles show it). */
export function fingerprintOf(cert: X509Certificate | string): string {
  const x = typeof cert === "string" ? new X509Certificate(cert) : cert;
  return x.fingerprint256;
}

/** SHA-256 fingerprint of a base64 DER certificate body (the content of ds:X509Certificate). */
export function fingerprintOfBase64(body: string): string {
  const hex = createHash("sha256")
    .update(Buffer.from(body.replace(/\s+/g, ""), "base64"))
    .digest("hex");
  return hex.toUpperCase().replace(/(..)(?!$)/g, "$1:");
}

/** The base64 body of a PEM certificate (no header, footer or whitespace). */
export function pemBody(pem: string): string {
  return pem
    .replace(/-----(BEGIN|END) CERTIFICATE-----/g, "")
    .replace(/\s+/g, "")
    .trim();
}

/** A PEM certificate from a base64 body or a PEM (normalised line breaks). */
export function toPem(certificate: string): string {
  const body = pemBody(certificate);
  return `-----BEGIN CERTIFICATE-----\n${body.replace(/(.{64})/g, "$1\n").trim()}\n-----END CERTIFICATE-----\n`;
}
