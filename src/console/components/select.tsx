import type { FieldErrors } from "./field.js";

/** A labelled <select> with its hint and its error beside it (the pattern of Field). */
export function SelectField(props: {
  name: string;
  label: string;
  options: Array<{ value: string; label: string }>;
  value?: string;
  errors?: FieldErrors;
  hint?: string;
  id?: string;
}) {
  const id = props.id ?? `f-${props.name}`;
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
      <select
        id={id}
        name={props.name}
        aria-describedby={ids || undefined}
        aria-invalid={error ? "true" : undefined}
      >
        {props.options.map((o) => (
          <option value={o.value} selected={o.value === props.value}>
            {o.label}
          </option>
        ))}
      </select>
      {error ? (
        <p class="field-error" id={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}
