/** @jsxImportSource hono/jsx */
import { type HeaderUser, Layout, WarningIcon } from './layout';

/** A page that only tells the user something: an error they can act on, or that they signed out. */
export function MessagePage(props: {
  title: string;
  message: string;
  tone?: 'error' | 'info';
  user?: HeaderUser | null;
  action?: { href: string; label: string };
  /** The portal's and console's pages name themselves; the user pages keep theirs. */
  surface?: { brand: string; eyebrow: string };
}) {
  return (
    <Layout title={props.title} user={props.user} brand={props.surface?.brand} footer={props.surface ? null : undefined} narrow>
      <div class="card" role={props.tone === 'error' ? 'alert' : undefined}>
        <div class="message-head">
          {props.tone === 'error' ? <WarningIcon /> : null}
          <div>
            <p class="eyebrow">{props.tone === 'error' ? 'Something went wrong' : (props.surface?.eyebrow ?? 'Account access')}</p>
            <h1>{props.title}</h1>
          </div>
        </div>
        <p class="muted" data-testid="message">
          {props.message}
        </p>
        {props.action ? (
          <div class="actions">
            <a class="btn primary" href={props.action.href}>
              {props.action.label}
            </a>
          </div>
        ) : null}
      </div>
    </Layout>
  );
}
