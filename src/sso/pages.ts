import type { Response } from "express";

/** HTML-escape text for element content and attribute values. */
export function escapeHtml(s: string): string {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

/** A page for a person: a title, the reason they can act on, an optional link. Never raw SAML. */
export interface Page {
  status: number;
  title: string;
  reason: string;
  link?: { href: string; text: string };
  reference?: string;
}

/**
 * Render a plain HTML page. Everything is escaped, nothing is scripted (CSP forbids it), and the
 * page is never cached or framed.
 */
export function sendPage(res: Response, page: Page): void {
  const link = page.link
    ? `<p><a href="${escapeHtml(page.link.href)}">${escapeHtml(page.link.text)}</a></p>`
    : "";
  const ref = page.reference ? `<p><small>Reference: ${escapeHtml(page.reference)}</small></p>` : "";
  res
    .status(page.status)
    .set({
      "Content-Type": "text/html; charset=utf-8",
      "Cache-Control": "no-store",
      "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      "X-Content-Type-Options": "nosniff",
      "Referrer-Policy": "no-referrer",
    })
    .send(
      `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(page.title)}</title>` +
        `<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem}</style></head>` +
        `<body><h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.reason)}</p>${link}${ref}</body></html>`,
    );
}
