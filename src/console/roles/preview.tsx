import type { Response } from "express";
import type { previewMappings } from "../../roles/preview.js";
import { Csrf } from "../components/field.js";
import { consoleContext, consoleTenant } from "../http.js";
import { renderPage } from "../page.js";

type Preview = Awaited<ReturnType<typeof previewMappings>>;

/** Names shown per change; the count says how many more. */
const SHOWN = 10;

function Changes(props: { title: string; verb: string; list: Preview["gains"] }) {
  return (
    <section aria-label={props.title}>
      <h2>{props.title}</h2>
      {props.list.length === 0 ? (
        <p>Nobody.</p>
      ) : (
        <ul>
          {props.list.map((c) => (
            <li>
              <strong>
                {c.count} {c.count === 1 ? "member" : "members"}
              </strong>{" "}
              {props.verb} <code>{c.role}</code>:{" "}
              {c.users
                .map((u) => u.userName)
                .sort()
                .slice(0, SHOWN)
                .join(", ")}
              {c.count > SHOWN ? ` and ${c.count - SHOWN} more` : ""}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/**
 * What a mapping change would do, before it is saved (the preview use case computes it from
 * current state and saves nothing): who gains and who loses which role, counts and first names,
 * and the form that applies it.
 */
export function previewPage(
  res: Response,
  o: { what: string; preview: Preview; action: string; hidden: Record<string, string>; button: string },
) {
  const tenant = consoleTenant(res);
  const { session } = consoleContext(res);
  const base = `/console/t/${encodeURIComponent(tenant.slug)}/roles`;
  renderPage(
    res,
    { title: "Preview the change", current: base },
    <>
      <p>{o.what}</p>
      <p>
        <strong>{o.preview.usersAffected}</strong>{" "}
        {o.preview.usersAffected === 1 ? "member is" : "members are"} affected.
      </p>
      <Changes title="Who gains a role" verb="gain" list={o.preview.gains} />
      <Changes title="Who loses a role" verb="lose" list={o.preview.losses} />
      <form method="post" action={o.action} class="search">
        <Csrf token={session.csrf} />
        {Object.entries(o.hidden).map(([k, v]) => (
          <input type="hidden" name={k} value={v} />
        ))}
        <button type="submit">{o.button}</button>
        <a href={base}>Cancel</a>
      </form>
    </>,
  );
}
