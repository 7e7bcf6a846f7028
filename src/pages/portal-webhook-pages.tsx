/** @jsxImportSource hono/jsx */
import type { PortalWebhook } from '../delivery/portal-data';
import { Time } from './layout';
import { Confirm, CsrfField, Head, HealthSummary, MaybeTime, Notice, Pager, ValidBadge } from './parts';
import { PortalLayout, type PortalViewer, StatusNotice } from './portal-pages';

/** One webhook's pages: its overview (health, CRC, actions, replay) and its subscribers (the delivery log: portal-delivery-pages.tsx). */

export type WebhookTab = 'overview' | 'deliveries' | 'subscriptions';

export function WebhookHead(props: { webhook: PortalWebhook; tab: WebhookTab }) {
  const { row } = props.webhook;
  const base = `/portal/webhooks/${row.id}`;
  const tab = (name: WebhookTab, href: string, label: string) =>
    props.tab === name ? <strong>{label}</strong> : <a href={href}>{label}</a>;
  return (
    <div class="page-head">
      <div>
        <p class="eyebrow">
          <a href="/portal">Webhooks</a> / {row.id}
        </p>
        <h1 class="url">{row.url}</h1>
        <p class="muted">
          <ValidBadge valid={row.valid} /> {tab('overview', base, 'Overview')} · {tab('deliveries', `${base}/deliveries`, 'Delivery log')} ·{' '}
          {tab('subscriptions', `${base}/subscriptions`, 'Subscriptions')}
        </p>
      </div>
    </div>
  );
}

const WEBHOOK_NOTICES: Record<string, { tone: 'ok' | 'danger'; text: string }> = {
  validated: { tone: 'ok', text: 'CRC passed: the webhook is valid, and anything held for it is on its way.' },
  'crc-failed': { tone: 'danger', text: 'CRC failed: the webhook is invalid until a CRC passes. Why is under Last CRC.' },
};

export function WebhookPage(props: {
  viewer: PortalViewer;
  webhook: PortalWebhook;
  now: number;
  notice?: string | null;
  replayJob?: string | null;
  replayDefaults: { from: string; to: string };
  graceHours: number;
}) {
  const { row, health } = props.webhook;
  const notice = props.notice ? WEBHOOK_NOTICES[props.notice] : undefined;
  const action = (path: string) => `/portal/webhooks/${row.id}/${path}`;
  return (
    <PortalLayout title={`Webhook ${row.id}`} viewer={props.viewer}>
      <WebhookHead webhook={props.webhook} tab="overview" />
      <StatusNotice app={props.viewer.app} />
      {notice ? <Notice tone={notice.tone}>{notice.text}</Notice> : null}
      {props.replayJob ? (
        <Notice tone="ok">
          Replay job <code>{props.replayJob}</code> started: the events in the window are sent again, then a <code>replay_job_status</code>{' '}
          event says how it went.
        </Notice>
      ) : null}
      <div class="split">
        <section class="card">
          <h2>Health</h2>
          <HealthSummary health={health} now={props.now} />
          <dl class="kv">
            <dt>Last CRC</dt>
            <dd data-testid="last-crc">
              {row.lastCrcAt ? (
                <>
                  {row.lastCrcError ? 'failed' : 'passed'} <Time at={row.lastCrcAt} />
                  {row.lastCrcError ? (
                    <>
                      : <span class="muted">{row.lastCrcError}</span>
                    </>
                  ) : null}
                </>
              ) : (
                '—'
              )}
            </dd>
            <dt>Last success</dt>
            <dd>
              <MaybeTime at={row.lastCrcSuccessAt} />
            </dd>
            <dt>Added</dt>
            <dd>
              <Time at={row.createdAt} />
            </dd>
          </dl>
        </section>
        <section class="card">
          <h2>Actions</h2>
          <div class="tools">
            <form method="post" action={action('test')}>
              <CsrfField csrf={props.viewer.csrf} />
              <button type="submit" class="btn small primary">
                Send a test event
              </button>
            </form>
            <form method="post" action={action('validate')}>
              <CsrfField csrf={props.viewer.csrf} />
              <button type="submit" class="btn small secondary">
                Re-validate (CRC)
              </button>
            </form>
            <Confirm
              label="Rotate signing secret"
              question={`A new signing secret is made and shown once. For ${props.graceHours} hours deliveries are signed with both, so your server can switch over.`}
            >
              <form method="post" action={action('rotate')}>
                <CsrfField csrf={props.viewer.csrf} />
                <button type="submit" class="btn small primary">
                  Yes, rotate it
                </button>
              </form>
            </Confirm>
            <Confirm
              label="Delete webhook"
              danger
              question="Its subscriptions end and anything not yet delivered to it is dropped. This cannot be undone."
            >
              <form method="post" action={action('delete')}>
                <CsrfField csrf={props.viewer.csrf} />
                <button type="submit" class="btn small danger">
                  Yes, delete it
                </button>
              </form>
            </Confirm>
          </div>
          <p class="fine">
            A test event is a signed <code>test_event</code> with no user data; it shows up in the delivery log like any delivery.
          </p>
        </section>
      </div>
      <section class="card">
        <h2>Replay a window</h2>
        <p class="muted">
          Sends again every event this webhook was sent (or held) in the window, oldest first, then a <code>replay_job_status</code> event.
          Times are UTC, within the last 5 days; the window runs to the end of its last minute (or now).
        </p>
        <form method="post" action={action('replay')} class="filters">
          <CsrfField csrf={props.viewer.csrf} />
          <div>
            <label for="from">From (UTC)</label>
            <input type="datetime-local" id="from" name="from" required value={props.replayDefaults.from} />
          </div>
          <div>
            <label for="to">To (UTC)</label>
            <input type="datetime-local" id="to" name="to" required value={props.replayDefaults.to} />
          </div>
          <div class="actions">
            <button type="submit" class="btn secondary">
              Start replay
            </button>
          </div>
        </form>
      </section>
    </PortalLayout>
  );
}

export function SubscriptionsPage(props: {
  viewer: PortalViewer;
  webhook: PortalWebhook;
  subscribers: { userId: string; since: number }[];
  nextHref: string | null;
}) {
  return (
    <PortalLayout title={`Subscriptions of ${props.webhook.row.id}`} viewer={props.viewer}>
      <WebhookHead webhook={props.webhook} tab="subscriptions" />
      <section class="card">
        {props.subscribers.length === 0 ? (
          <p class="muted">No user is subscribed to this webhook. A user subscribes through your app, with their access token.</p>
        ) : (
          <table class="list" data-testid="subscribers">
            <Head columns={['User id', 'Subscribed']} />
            <tbody>
              {props.subscribers.map((s) => (
                <tr>
                  <td data-label="User id">{s.userId}</td>
                  <td data-label="Subscribed">
                    <Time at={s.since} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager href={props.nextHref} label="More" />
      </section>
    </PortalLayout>
  );
}
