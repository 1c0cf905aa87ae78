import type { ComponentChildren } from "preact";
import { Csrf } from "./field.js";

/**
 * A destructive action behind a confirmation: a <details> disclosure (works without JavaScript
 * and with the keyboard) holding a form that says what will happen and, with `typed`, asks the
 * admin to type a word (the tenant's slug) before the button does anything; the server checks
 * the typed word too.
 */
export function ConfirmAction(props: {
  id: string;
  action: string;
  csrf: string;
  summary: string;
  button: string;
  typed?: string;
  hidden?: Record<string, string>;
  children?: ComponentChildren;
}) {
  return (
    <details class="confirm">
      <summary class="danger-summary">{props.summary}</summary>
      <form method="post" action={props.action} class="confirm-body">
        <Csrf token={props.csrf} />
        {Object.entries(props.hidden ?? {}).map(([k, v]) => (
          <input type="hidden" name={k} value={v} />
        ))}
        {props.children}
        {props.typed ? (
          <div class="field">
            <label for={`${props.id}-typed`}>
              Type <code>{props.typed}</code> to confirm
            </label>
            <input
              id={`${props.id}-typed`}
              name="confirm"
              type="text"
              autocomplete="off"
              required
              data-confirm-word={props.typed}
              data-confirm-button={`${props.id}-go`}
            />
          </div>
        ) : null}
        <button id={`${props.id}-go`} type="submit" class="danger">
          {props.button}
        </button>
      </form>
    </details>
  );
}
