/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import type { AppRow } from '../db/schema';
import type { LimitUsage, PortalWebhook } from '../delivery/portal-data';
import type { LimitedEndpoint } from '../domain/rate-limits';
import { Layout, Time } from './layout';
import { AppStatusBadge, CsrfField, Head, HealthSummary, Notice, WebhookTitle } from './parts';

/** The signed-in app and its CSRF token: what every portal page needs. */
export interface PortalViewer {
  app: AppRow;
  csrf: string;
}

export type PortalSection = 'overview' | 'limits';

/** Every portal page: the app in the header, its sections as tabs. */
export function PortalLayout(props: { title: string; viewer: PortalViewer; section?: PortalSection; children: Child }) {
  return (
    <Layout
      title={`${props.title} · Developer portal`}
      brand="Developer portal"
      who={{ label: 'App', name: props.viewer.app.name, csrf: props.viewer.csrf, signOutAction: '/portal/sign-out' }}
      nav={[
        { href: '/portal', label: 'Overview', current: props.section === 'overview' },
        { href: '/portal/limits', label: 'Rate limits', current: props.section === 'limits' },
      ]}
      footer={null}
      wide
    >
      {props.children}
    </Layout>
  );
}

/** Until the operator approves it (or after a suspension) the app can look, not act. */
export function StatusNotice(props: { app: AppRow }) {
  if (props.app.status === 'pending') {
    return (
      <Notice tone="warn">
        Your app is waiting for the operator's review. You can look around; webhooks and subscriptions work once it is approved.
      </Notice>
    );
  }
  if (props.app.status === 'suspended') {
    return (
      <Notice tone="danger">
        Your app is suspended{props.app.statusReason ? `: ${props.app.statusReason}` : ''}. Nothing is delivered to it and its tokens do not
        work.
      </Notice>
    );
  }
  return null;
}

const OVERVIEW_NOTICES: Record<string, { tone: 'ok' | 'danger'; text: string }> = {
  deleted: { tone: 'ok', text: 'The webhook was deleted: its subscriptions ended and nothing more is sent to it.' },
};

export function OverviewPage(props: {
  viewer: PortalViewer;
  webhooks: PortalWebhook[];
  subscriptions: { all: number; directMessages: number };
  now: number;
  notice?: string | null;
  add?: { url: string; error: string } | null;
}) {
  const { app } = props.viewer;
  const notice = props.notice ? OVERVIEW_NOTICES[props.notice] : undefined;
  return (
    <PortalLayout title={app.name} viewer={props.viewer} section="overview">
      <div class="page-head">
        <div>
          <p class="eyebrow">Your app</p>
          <h1>
            {app.name} <AppStatusBadge status={app.status} />
          </h1>
          <p class="muted">
            Consumer key <code>{app.consumerKey}</code>
          </p>
        </div>
      </div>
      <StatusNotice app={app} />
      {notice ? <Notice tone={notice.tone}>{notice.text}</Notice> : null}
      <div class="card">
        <ul class="stats">
          <li>
            <strong data-testid="webhook-count">
              {props.webhooks.length} / {app.maxWebhooks}
            </strong>
            <span>Webhooks</span>
          </li>
          <li>
            <strong data-testid="subscriptions-all">{props.subscriptions.all}</strong>
            <span>Subscriptions of {app.provisionedSubscriptions}</span>
          </li>
          <li>
            <strong data-testid="subscriptions-dm">{props.subscriptions.directMessages}</strong>
            <span>Of them with direct messages</span>
          </li>
        </ul>
      </div>
      <h3>Webhooks</h3>
      {props.webhooks.length === 0 ? (
        <div class="card empty">
          <h2>No webhooks yet</h2>
          <p class="muted">Add one below: your server answers a CRC challenge, then events for your subscribed users arrive there.</p>
        </div>
      ) : (
        props.webhooks.map((w) => <WebhookCard webhook={w} csrf={props.viewer.csrf} now={props.now} />)
      )}
      <AddWebhookCard csrf={props.viewer.csrf} add={props.add} full={props.webhooks.length >= app.maxWebhooks} />
    </PortalLayout>
  );
}

function WebhookCard(props: { webhook: PortalWebhook; csrf: string; now: number }) {
  const { row, health } = props.webhook;
  return (
    <article class="card" data-testid={`webhook-${row.id}`}>
      <WebhookTitle url={row.url} valid={row.valid} />
      <p class="fine">
        Webhook <code>{row.id}</code> · added <Time at={row.createdAt} />
      </p>
      <HealthSummary health={health} now={props.now} />
      <div class="tools">
        <a class="btn small primary" href={`/portal/webhooks/${row.id}`}>
          Open
        </a>
        <a class="btn small secondary" href={`/portal/webhooks/${row.id}/deliveries`}>
          Delivery log
        </a>
      </div>
    </article>
  );
}

function AddWebhookCard(props: { csrf: string; add?: { url: string; error: string } | null; full: boolean }) {
  return (
    <section class="card" aria-labelledby="add-webhook">
      <h2 id="add-webhook">Add a webhook</h2>
      {props.full ? (
        <p class="muted">Your app has as many webhooks as it may have. Delete one to add another.</p>
      ) : (
        <form method="post" action="/portal/webhooks">
          <CsrfField csrf={props.csrf} />
          <label for="url">URL</label>
          <input
            type="url"
            id="url"
            name="url"
            required
            maxlength={200}
            placeholder="https://example.com/webhooks/x"
            value={props.add?.url}
          />
          <p class="hint">
            Saving sends a CRC challenge (a GET with <code>crc_token</code>) to this URL; the webhook is added only if it answers correctly.
          </p>
          {props.add ? <Notice tone="danger">{props.add.error}</Notice> : null}
          <div class="actions">
            <button type="submit" class="btn primary">
              Run the CRC and add
            </button>
          </div>
        </form>
      )}
    </section>
  );
}

/**
 * A signing secret, shown this once: after a webhook is added (with its CRC outcome) or its secret
 * rotated (with how long the previous one still signs).
 */
export function SecretPage(props: {
  viewer: PortalViewer;
  heading: string;
  webhook: { id: string; url: string };
  secret: string;
  children: Child;
}) {
  return (
    <PortalLayout title={props.heading} viewer={props.viewer}>
      <div class="card">
        <p class="eyebrow">Webhook {props.webhook.id}</p>
        <h1>{props.heading}</h1>
        <p class="url">{props.webhook.url}</p>
        {props.children}
        <h3>Signing secret</h3>
        <code class="secret" data-testid="signing-secret">
          {props.secret}
        </code>
        <Notice tone="warn">
          Copy it now: it is shown only this once and cannot be shown again. Your server verifies the <code>webhook-signature</code> header
          of every delivery with it (Standard Webhooks).
        </Notice>
        <div class="actions">
          <a class="btn primary" href={`/portal/webhooks/${props.webhook.id}`}>
            I have saved it
          </a>
        </div>
      </div>
    </PortalLayout>
  );
}

const LIMIT_NAMES: Record<string, string> = {
  'webhooks:create': 'Add a webhook',
  'webhooks:list': 'List webhooks',
  'webhooks:validate': 'Re-validate (CRC)',
  'webhooks:delete': 'Delete a webhook',
  'webhooks:rotate-secret': 'Rotate a signing secret',
  'webhooks:test': 'Send a test event',
  'subscriptions:create': 'Subscribe a user',
  'subscriptions:check': 'Check a subscription',
  'subscriptions:list': 'List subscriptions',
  'subscriptions:delete': 'Unsubscribe a user',
  'subscriptions:count': 'Count subscriptions',
  replay: 'Start a replay',
  deliveries: 'Read the delivery log (API)',
  'oauth2:token': 'Get an app token',
  'oauth2:invalidate': 'Invalidate an app token',
  'oauth2:client': 'OAuth 2.0 client settings',
  'portal:pages': 'Portal pages viewed',
  'portal:sign-in-failures': 'Failed portal sign-ins',
};

export function LimitsPage(props: { viewer: PortalViewer; usage: LimitUsage[]; windowMinutes: number }) {
  return (
    <PortalLayout title="Rate limits" viewer={props.viewer} section="limits">
      <div class="page-head">
        <div>
          <h1>Rate limits</h1>
          <p class="muted">
            Requests per {props.windowMinutes}-minute window, counted for your app. The portal's actions count against the same limits as
            the API calls they make.
          </p>
        </div>
      </div>
      <div class="card">
        <table class="list">
          <Head columns={['What', 'Endpoint', 'Used', 'Limit', 'Resets']} />
          <tbody>
            {props.usage.map((u) => (
              <tr data-testid={`limit-${u.endpoint}`}>
                <td data-label="What">{LIMIT_NAMES[u.endpoint as LimitedEndpoint] ?? u.endpoint}</td>
                <td data-label="Endpoint">
                  <code>{u.endpoint}</code>
                </td>
                <td data-label="Used" class="num">
                  {u.used >= u.limit ? <span class="badge danger">{u.used}</span> : u.used}
                </td>
                <td data-label="Limit" class="num">
                  {u.limit}
                </td>
                <td data-label="Resets" class="nowrap">
                  {u.used > 0 ? <Time at={u.resetAt} /> : '—'}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </PortalLayout>
  );
}
