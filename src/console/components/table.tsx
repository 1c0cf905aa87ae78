import type { ComponentChildren } from "preact";

/** A column: its header and how a row renders in it. */
export interface Column<T> {
  header: string;
  cell: (row: T) => ComponentChildren;
}

/**
 * A table with server paging: the page shows `rows` (one page, fetched by the route) and links
 * to the previous/next page by query (`?page=`), so 100,000 rows never reach the browser.
 */
export function DataTable<T>(props: {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  empty?: string;
  paging?: { page: number; hasNext: boolean; href: (page: number) => string };
}) {
  // A wide table scrolls inside its wrapper: the wrapper is a named, focusable region so a
  // keyboard can scroll it (WCAG 2.1.1; axe scrollable-region-focusable).
  return (
    <section class="table-wrap" aria-label={props.caption} tabindex={0}>
      <table>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th scope="col">{c.header}</th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 ? (
            <tr>
              <td colSpan={props.columns.length}>{props.empty ?? "Nothing here yet."}</td>
            </tr>
          ) : (
            props.rows.map((row) => (
              <tr>
                {props.columns.map((c) => (
                  <td>{c.cell(row)}</td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
      {props.paging && (props.paging.page > 1 || props.paging.hasNext) ? (
        <nav class="paging" aria-label={`${props.caption} pages`}>
          {props.paging.page > 1 ? <a href={props.paging.href(props.paging.page - 1)}>Previous</a> : null}
          <span>Page {props.paging.page}</span>
          {props.paging.hasNext ? <a href={props.paging.href(props.paging.page + 1)}>Next</a> : null}
        </nav>
      ) : null}
    </section>
  );
}

/** The page number a `?page=` query asks for (1 when absent or nonsense). */
export function pageOf(query: unknown): number {
  const n = Number((query as Record<string, unknown> | undefined)?.page);
  return Number.isInteger(n) && n >= 1 && n <= 100_000 ? n : 1;
}
