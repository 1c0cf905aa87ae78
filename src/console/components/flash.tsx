import type { ComponentChildren } from "preact";

/** A message at the top of a page: a live region so screen readers announce it. */
export function Flash(props: { tone?: "ok" | "warn" | "bad"; children: ComponentChildren }) {
  const tone = props.tone ?? "ok";
  return (
    <div class={`flash flash-${tone}`} role={tone === "bad" ? "alert" : "status"}>
      {props.children}
    </div>
  );
}
