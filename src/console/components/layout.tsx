import type { ComponentChildren } from "preact";
import { Flash } from "./flash.js";

/** A link in the navigation. */
export interface NavLink {
  href: string;
  label: string;
  group?: string;
}

/** What every page's frame shows. */
export interface LayoutProps {
  title: string;
  /** The tenant the page is about (name and slug), when it is about one. */
  tenant?: { slug: string; name: string };
  /** Tenant areas this session may use, then operator pages (operators only). */
  tenantNav?: NavLink[];
  operatorNav?: NavLink[];
  /** The path of the current page (its nav link gets aria-current). */
  current?: string;
  /** Who is signed in, in words ("Operator (admin key 3f…)"), and the CSRF token for sign-out. */
  who?: string;
  csrf?: string;
  /** Where the embedding app wants its admin to go back to (a setup link's returnUrl). */
  returnUrl?: string | null;
  flash?: { tone?: "ok" | "warn" | "bad"; text: string };
  children: ComponentChildren;
}

function NavList(props: { label: string; links: NavLink[]; current?: string }) {
  let group: string | undefined;
  return (
    <nav aria-label={props.label}>
      <ul>
        {props.links.map((l) => {
          const heading = l.group && l.group !== group ? l.group : undefined;
          group = l.group;
          const current = props.current?.startsWith(l.href);
          return (
            <li>
              {heading ? <span class="nav-group">{heading}</span> : null}
              <a href={l.href} aria-current={current ? "page" : undefined}>
                {l.label}
              </a>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

/** The one page frame: skip link, header, navigation, main content. */
export function Layout(props: LayoutProps) {
  const hasNav = Boolean(props.tenantNav?.length || props.operatorNav?.length);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{`${props.title} · Roster console`}</title>
        <link rel="stylesheet" href="/console/static/console.css" />
        <script src="/console/static/console.js" defer />
      </head>
      <body>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <span class="brand">Roster console</span>
          {props.tenant ? (
            <span class="tenant-name">
              {props.tenant.name} <span class="muted">({props.tenant.slug})</span>
            </span>
          ) : null}
          <span class="spacer" />
          {props.returnUrl ? (
            <a class="back" href={props.returnUrl}>
              Back to the application
            </a>
          ) : null}
          {props.who ? <span class="who">{props.who}</span> : null}
          {props.csrf ? (
            <form method="post" action="/console/sign-out" class="inline">
              <input type="hidden" name="_csrf" value={props.csrf} />
              <button type="submit" class="link-button">
                Sign out
              </button>
            </form>
          ) : null}
        </header>
        <div class={hasNav ? "frame" : "frame frame-single"}>
          {hasNav ? (
            <aside class="side">
              {props.operatorNav?.length ? (
                <NavList label="Operator" links={props.operatorNav} current={props.current} />
              ) : null}
              {props.tenantNav?.length ? (
                <NavList label="Tenant" links={props.tenantNav} current={props.current} />
              ) : null}
            </aside>
          ) : null}
          <main id="main" tabIndex={-1}>
            <h1>{props.title}</h1>
            {props.flash ? <Flash tone={props.flash.tone}>{props.flash.text}</Flash> : null}
            {props.children}
          </main>
        </div>
      </body>
    </html>
  );
}
