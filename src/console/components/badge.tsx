/** A status badge: the word is always there (colour is never the only signal, WCAG 1.4.1). */
export function StatusBadge(props: { status: string; tone?: "ok" | "warn" | "bad" | "neutral" }) {
  const tone = props.tone ?? toneOf(props.status);
  return <span class={`badge badge-${tone}`}>{props.status}</span>;
}

function toneOf(status: string): "ok" | "warn" | "bad" | "neutral" {
  if (["enabled", "active", "succeeded", "tested", "ok", "passed", "live"].includes(status)) return "ok";
  if (["draft", "pending", "expiring", "degraded", "waiting"].includes(status)) return "warn";
  if (["failed", "disabled", "expired", "revoked", "down", "dead"].includes(status)) return "bad";
  return "neutral";
}
