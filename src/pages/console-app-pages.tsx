/** @jsxImportSource hono/jsx */
import type { WebhookHealth } from '../app-object/health';
import type { AppRow, AppStatus, WebhookRow } from '../db/schema';
import { AppDecisions, ConsoleLayout, DoneNotice } from './console-pages';
import { Time } from './layout';
import { AppStatusBadge, Head, HealthSummary, MaybeTime, WebhookTitle } from './parts';

/** One app in the operator console: who it is, its decisions and their history, its webhooks' health. */
export function AppPage(props: {
  csrf: string;
  app: AppRow;
  history: { status: AppStatus; at: number; reason: string | null }[];
  webhooks: { row: WebhookRow; health: WebhookHealth | null }[];
  healthAvailable: boolean;
  now: number;
  done?: string | null;
}) {
  const { app } = props;
  return (
    <ConsoleLayout title={app.name} csrf={props.csrf} section="apps">
      <div class="page-head">
        <div>
          <p class="eyebrow">
            <a href="/console/apps">Apps</a> / {app.id}
          </p>
          <h1>
            {app.name} <AppStatusBadge status={app.status} />
          </h1>
          {app.description ? <p class="muted">{app.description}</p> : null}
        </div>
      </div>
      <DoneNotice done={props.done} />
      <div class="split">
        <section class="card">
          <h2>App</h2>
          <dl class="kv">
            <dt>Consumer key</dt>
            <dd>
              <code>{app.consumerKey}</code>
            </dd>
            <dt>Created</dt>
            <dd>
              <Time at={app.createdAt} />
            </dd>
            <dt>Limits</dt>
            <dd>
              {app.maxWebhooks} webhooks, {app.provisionedSubscriptions} subscriptions
            </dd>
            {app.status === 'suspended' ? (
              <>
                <dt>Suspended because</dt>
                <dd data-testid="status-reason">{app.statusReason ?? '—'}</dd>
              </>
            ) : null}
          </dl>
          <AppDecisions app={app} csrf={props.csrf} returnTo="app" />
        </section>
        <section class="card">
          <h2>Status history</h2>
          <table class="list" data-testid="status-history">
            <Head columns={['When', 'Status', 'Reason']} />
            <tbody>
              {props.history.map((h) => (
                <tr>
                  <td data-label="When" class="nowrap">
                    <Time at={h.at} />
                  </td>
                  <td data-label="Status">
                    <AppStatusBadge status={h.status} />
                  </td>
                  <td data-label="Reason">{h.reason ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </div>
      <h3>Webhooks</h3>
      {!props.healthAvailable ? <p class="muted">The app's delivery object did not answer; health is not shown.</p> : null}
      {props.webhooks.length === 0 ? (
        <div class="card empty">
          <p class="muted">No webhooks.</p>
        </div>
      ) : (
        props.webhooks.map(({ row, health }) => (
          <article class="card" data-testid={`webhook-${row.id}`}>
            <WebhookTitle url={row.url} valid={row.valid} />
            <p class="fine">
              Webhook <code>{row.id}</code> · added <Time at={row.createdAt} /> · last CRC <MaybeTime at={row.lastCrcAt} />
              {row.lastCrcError ? ` (failed: ${row.lastCrcError})` : ''}
            </p>
            <HealthSummary health={health} now={props.now} />
          </article>
        ))
      )}
    </ConsoleLayout>
  );
}
