/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import type { WebhookHealth } from '../app-object/health';
import { APP_STATUSES, type AppRow, type AppStatus } from '../db/schema';
import type { AppWithHealth } from '../delivery/console-data';
import { Layout, Time } from './layout';
import { AppStatusBadge, age, Confirm, CsrfField, Head, Notice, Pager } from './parts';

/** The operator console's frame and its list pages: the review queue and the apps with their webhooks' health. */

export type ConsoleSection = 'review' | 'apps' | 'users' | 'audit';

/** Every console page: the operator in the header, the sections as tabs. */
export function ConsoleLayout(props: { title: string; csrf: string; section?: ConsoleSection; children: Child }) {
  return (
    <Layout
      title={`${props.title} · Operator console`}
      brand="Operator console"
      who={{ label: 'Signed in as', name: 'operator', csrf: props.csrf, signOutAction: '/console/sign-out' }}
      nav={[
        { href: '/console', label: 'Review queue', current: props.section === 'review' },
        { href: '/console/apps', label: 'Apps', current: props.section === 'apps' },
        { href: '/console/users', label: 'User lookup', current: props.section === 'users' },
        { href: '/console/audit', label: 'Audit', current: props.section === 'audit' },
      ]}
      footer={null}
      wide
    >
      {props.children}
    </Layout>
  );
}

/** Approve, and suspend with a reason: the operator's two decisions on an app, as forms. */
export function AppDecisions(props: { app: AppRow; csrf: string; returnTo: 'review' | 'app' }) {
  const action = (what: string) => `/console/apps/${props.app.id}/${what}`;
  return (
    <div class="tools">
      {props.app.status !== 'active' ? (
        <form method="post" action={action('approve')}>
          <CsrfField csrf={props.csrf} />
          <input type="hidden" name="return_to" value={props.returnTo} />
          <button type="submit" class="btn small primary">
            Approve
          </button>
        </form>
      ) : null}
      {props.app.status !== 'suspended' ? (
        <Confirm
          label="Suspend"
          danger
          question="Its tokens stop working, nothing more is delivered to it, and what it has not yet been sent is dropped. The developer sees your reason."
        >
          <form method="post" action={action('suspend')}>
            <CsrfField csrf={props.csrf} />
            <input type="hidden" name="return_to" value={props.returnTo} />
            <label for={`reason-${props.app.id}`}>Reason</label>
            <textarea id={`reason-${props.app.id}`} name="reason" required maxlength={1000} />
            <div class="actions">
              <button type="submit" class="btn small danger">
                Suspend {props.app.name}
              </button>
            </div>
          </form>
        </Confirm>
      ) : null}
    </div>
  );
}

const DONE: Record<string, string> = {
  approved: 'The app is approved: its developer can register webhooks and its users can authorize it.',
  suspended: 'The app is suspended: its tokens stopped working and nothing more is delivered to it.',
};

export const DoneNotice = (props: { done?: string | null; name?: string }) =>
  props.done && DONE[props.done] ? (
    <Notice tone="ok">
      {props.name ? <strong>{props.name}: </strong> : null}
      {DONE[props.done]}
    </Notice>
  ) : null;

export function ReviewPage(props: {
  csrf: string;
  pending: AppRow[];
  nextHref: string | null;
  done?: { what: string; name: string } | null;
}) {
  return (
    <ConsoleLayout title="Review queue" csrf={props.csrf} section="review">
      <div class="page-head">
        <div>
          <h1>Review queue</h1>
          <p class="muted">Apps waiting for review, newest first. An app can do nothing until it is approved.</p>
        </div>
      </div>
      <DoneNotice done={props.done?.what} name={props.done?.name} />
      {props.pending.length === 0 ? (
        <div class="card empty">
          <h2>Nothing to review</h2>
          <p class="muted">Every app has been reviewed.</p>
        </div>
      ) : (
        props.pending.map((app) => (
          <article class="card" data-testid={`pending-${app.id}`}>
            <div class="row">
              <h2>{app.name}</h2>
              <AppStatusBadge status={app.status} />
            </div>
            {app.description ? <p>{app.description}</p> : <p class="muted">No description.</p>}
            <p class="fine">
              App <code>{app.id}</code> · created <Time at={app.createdAt} /> · up to {app.maxWebhooks} webhooks and{' '}
              {app.provisionedSubscriptions} subscriptions · <a href={`/console/apps/${app.id}`}>History and webhooks</a>
            </p>
            <AppDecisions app={app} csrf={props.csrf} returnTo="review" />
          </article>
        ))
      )}
      <Pager href={props.nextHref} label="Older" />
    </ConsoleLayout>
  );
}

/** One app's webhooks in a line: how many, how many failing or held, the undelivered backlog and its oldest age. */
export function healthTotals(health: WebhookHealth[]) {
  const undelivered = health.reduce((n, h) => n + h.undelivered, 0);
  const oldest = health.reduce<number | null>(
    (o, h) => (h.oldestUndeliveredAt !== null && (o === null || h.oldestUndeliveredAt < o) ? h.oldestUndeliveredAt : o),
    null,
  );
  return {
    webhooks: health.length,
    failing: health.filter((h) => h.consecutiveFailures > 0).length,
    held: health.filter((h) => !h.valid).reduce((n, h) => n + h.undelivered, 0),
    undelivered,
    capped: health.some((h) => h.undeliveredCapped),
    oldest,
  };
}

export function AppsPage(props: { csrf: string; apps: AppWithHealth[]; status?: AppStatus; nextHref: string | null; now: number }) {
  return (
    <ConsoleLayout title="Apps" csrf={props.csrf} section="apps">
      <div class="page-head">
        <div>
          <h1>Apps</h1>
          <p class="muted">Newest first, with their webhooks' health as each app's own delivery object reports it.</p>
        </div>
      </div>
      <section class="card">
        <form method="get" action="/console/apps" class="filters" aria-label="Filter">
          <div>
            <label for="status">Status</label>
            <select id="status" name="status">
              <option value="">Any</option>
              {APP_STATUSES.map((s) => (
                <option value={s} selected={props.status === s}>
                  {s}
                </option>
              ))}
            </select>
          </div>
          <div class="actions">
            <button type="submit" class="btn secondary">
              Show
            </button>
          </div>
        </form>
      </section>
      <section class="card">
        {props.apps.length === 0 ? (
          <p class="muted">No apps.</p>
        ) : (
          <table class="list" data-testid="apps">
            <Head columns={['App', 'Status', 'Webhooks', 'Failing', 'Held', 'Undelivered', 'Oldest waiting']} />
            <tbody>
              {props.apps.map(({ app, health }) => {
                const t = health ? healthTotals(health) : null;
                return (
                  <tr data-testid={`app-${app.id}`}>
                    <td data-label="App">
                      <a href={`/console/apps/${app.id}`}>{app.name}</a>
                      <div class="fine">
                        <code>{app.id}</code>
                      </div>
                    </td>
                    <td data-label="Status">
                      <AppStatusBadge status={app.status} />
                    </td>
                    {t ? (
                      <>
                        <td data-label="Webhooks" class="num">
                          {t.webhooks}
                        </td>
                        <td data-label="Failing" class="num" data-testid="failing">
                          {t.failing ? <span class="badge warn">{t.failing}</span> : 0}
                        </td>
                        <td data-label="Held" class="num" data-testid="held">
                          {t.held ? <span class="badge danger">{t.held}</span> : 0}
                        </td>
                        <td data-label="Undelivered" class="num" data-testid="undelivered">
                          {t.undelivered}
                          {t.capped ? '+' : ''}
                        </td>
                        <td data-label="Oldest waiting" class="nowrap" data-testid="oldest">
                          {t.oldest !== null ? age(t.oldest, props.now) : '—'}
                        </td>
                      </>
                    ) : (
                      <td colspan={5} class="muted">
                        Health not available right now.
                      </td>
                    )}
                  </tr>
                );
              })}
            </tbody>
          </table>
        )}
        <Pager href={props.nextHref} label="Older apps" />
      </section>
    </ConsoleLayout>
  );
}
