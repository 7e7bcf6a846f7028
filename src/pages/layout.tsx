/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import { STYLESHEET } from './styles';

/** The signed-in user as the header shows it, with what signing out needs. */
export interface HeaderUser {
  userId: string;
  csrf: string;
}

/** Who is signed in, as any page's header shows it: a label, a name, and where Sign out posts. */
export interface HeaderWho {
  label: string;
  name: string;
  csrf: string;
  signOutAction: string;
}

/** The pages' sections as tabs under the header; `current` is the one shown. */
export interface NavItem {
  href: string;
  label: string;
  current?: boolean;
}

/** A stroked 24×24 icon from its path data (inline SVG: nothing to load, nothing for the CSP to allow). */
export function Icon(props: { paths: string[] }) {
  return (
    <svg
      viewBox="0 0 24 24"
      fill="none"
      stroke="currentColor"
      stroke-width="2"
      stroke-linecap="round"
      stroke-linejoin="round"
      aria-hidden="true"
    >
      {props.paths.map((d) => (
        <path d={d} />
      ))}
    </svg>
  );
}

const ShieldMark = () => <Icon paths={['M12 3l7 3v6c0 4.5-3 7.8-7 9-4-1.2-7-4.5-7-9V6l7-3z', 'M9 12l2 2 4-4']} />;
export const WarningIcon = () => (
  <Icon paths={['M10.3 3.9L1.8 18a2 2 0 001.7 3h17a2 2 0 001.7-3L13.7 3.9a2 2 0 00-3.4 0z', 'M12 9v4M12 17h.01']} />
);
export const CheckIcon = () => <Icon paths={['M20 6L9 17l-5-5']} />;

const USER_FOOTER = 'You decide which apps use your account. You can take access back at any time.';

/**
 * Every page: no script, one inline stylesheet (allowed by hash), readable on a phone. The user pages
 * pass `user`; the portal and the console name their section (`brand`), who is signed in (`who`) and
 * their tabs (`nav`). `wide` gives tables room on a desktop.
 */
export function Layout(props: {
  title: string;
  user?: HeaderUser | null;
  who?: HeaderWho | null;
  brand?: string;
  nav?: NavItem[];
  footer?: string | null;
  narrow?: boolean;
  wide?: boolean;
  children: Child;
}) {
  const who: HeaderWho | null =
    props.who ??
    (props.user ? { label: 'User', name: props.user.userId, csrf: props.user.csrf, signOutAction: '/i/session/logout' } : null);
  const footer = props.footer === undefined ? USER_FOOTER : props.footer;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <title>{props.title}</title>
        <style dangerouslySetInnerHTML={{ __html: STYLESHEET }} />
      </head>
      <body>
        <header class="topbar">
          <div class="brand">
            <ShieldMark />
            <span>{props.brand ?? 'Account access'}</span>
          </div>
          {who ? (
            <div class="who">
              <span>
                <span class="label">{who.label} </span>
                <strong>{who.name}</strong>
              </span>
              <form method="post" action={who.signOutAction}>
                <input type="hidden" name="csrf" value={who.csrf} />
                <button type="submit" class="linkish">
                  Sign out
                </button>
              </form>
            </div>
          ) : null}
        </header>
        {props.nav?.length ? (
          <nav class="tabs" aria-label="Sections">
            {props.nav.map((item) => (
              <a href={item.href} aria-current={item.current ? 'page' : undefined}>
                {item.label}
              </a>
            ))}
          </nav>
        ) : null}
        <main class={props.narrow ? 'narrow' : props.wide ? 'wide' : undefined}>{props.children}</main>
        {footer ? <footer>{footer}</footer> : null}
      </body>
    </html>
  );
}

/** The first letter of an app's name, for its placeholder avatar. */
export const initialOf = (name: string) => (name.trim()[0] ?? '?').toUpperCase();

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
/** A time as a person reads it (UTC, since the page runs no script to localize it). */
export function Time(props: { at: string | number }) {
  const d = new Date(props.at);
  const pad = (n: number) => String(n).padStart(2, '0');
  const text = `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()}, ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
  return <time datetime={d.toISOString()}>{text}</time>;
}

/** A full HTML document from a page element. */
export async function renderDocument(page: Child): Promise<string> {
  return `<!doctype html>${await page?.toString()}`;
}
