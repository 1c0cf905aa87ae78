/**
 * A value to copy into another system: a read-only monospace field (selects fully on focus) and a
 * Copy button that console.js wires up (no inline script: the CSP allows none). Without
 * JavaScript the field still selects for a manual copy.
 */
export function CopyValue(props: { id: string; label: string; value: string; secret?: boolean }) {
  return (
    <div class="copy">
      <label for={props.id}>{props.label}</label>
      <div class="copy-row">
        <input
          id={props.id}
          class="mono"
          type="text"
          readOnly
          value={props.value}
          data-select-on-focus
          autocomplete="off"
          spellcheck={false}
        />
        <button type="button" class="secondary" data-copy={props.id} aria-label={`Copy ${props.label}`}>
          Copy
        </button>
        <span class="copy-status" data-copy-status={props.id} role="status" aria-live="polite" />
      </div>
    </div>
  );
}
