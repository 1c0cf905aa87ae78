import type { ComponentChildren } from "preact";

/** Field errors by field name, as a form's use case reported them. */
export type FieldErrors = Record<string, string>;

interface FieldProps {
  name: string;
  label: string;
  errors?: FieldErrors;
  hint?: ComponentChildren;
  /** The control; it gets id=`f-<name>` and aria-describedby from here. */
  children: (a: { id: string; describedBy: string | undefined; invalid: boolean }) => ComponentChildren;
}

/** A labelled form field with its hint and its error beside it (aria-describedby ties them). */
export function Field(props: FieldProps) {
  const id = `f-${props.name}`;
  const error = props.errors?.[props.name];
  const ids = [props.hint ? `${id}-hint` : "", error ? `${id}-error` : ""].filter(Boolean).join(" ");
  return (
    <div class={error ? "field field-invalid" : "field"}>
      <label for={id}>{props.label}</label>
      {props.hint ? (
        <p class="hint" id={`${id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {props.children({ id, describedBy: ids || undefined, invalid: Boolean(error) })}
      {error ? (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

/** A one-line text input inside a Field. */
export function TextField(
  props: Omit<FieldProps, "children"> & {
    value?: string;
    type?: "text" | "url" | "password" | "number";
    required?: boolean;
    autocomplete?: string;
  },
) {
  return (
    <Field {...props}>
      {(a) => (
        <input
          id={a.id}
          name={props.name}
          type={(props.type ?? "text") as "text"}
          value={props.value ?? ""}
          required={props.required}
          autocomplete={props.autocomplete ?? "off"}
          aria-describedby={a.describedBy}
          aria-invalid={a.invalid ? "true" : undefined}
        />
      )}
    </Field>
  );
}

/** A multi-line input inside a Field. */
export function TextArea(props: Omit<FieldProps, "children"> & { value?: string; rows?: number }) {
  return (
    <Field {...props}>
      {(a) => (
        <textarea
          id={a.id}
          name={props.name}
          rows={props.rows ?? 6}
          class="mono"
          aria-describedby={a.describedBy}
          aria-invalid={a.invalid ? "true" : undefined}
          spellcheck={false}
        >
          {props.value ?? ""}
        </textarea>
      )}
    </Field>
  );
}

/** The CSRF token every state-changing form carries. */
export function Csrf(props: { token: string }) {
  return <input type="hidden" name="_csrf" value={props.token} />;
}
