/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import { LEDGER_OUTCOMES } from '../app-object/storage/ledger-store';
import type { LedgerEntry } from '../app-object/storage/ledger-views';
import type { PortalWebhook } from '../delivery/portal-data';
import { attemptHeaders, nextStep } from '../http/ledger-view';
import { Time } from './layout';
import { Head, MaybeTime, ms, Notice, Pager } from './parts';
import type { PortalViewer } from './portal-pages';
import { PortalLayout } from './portal-pages';
import { WebhookHead } from './portal-webhook-pages';

/** A webhook's delivery log in the developer portal: the attempts with filters, and one attempt's detail. */
const OUTCOME_TONE: Record<string, string> = {
  delivered: 'ok',
  retrying: 'warn',
  failed: 'danger',
  gone: 'danger',
  dropped: 'neutral',
  unknown: 'warn',
  not_sent: 'neutral',
};
const Outcome = (props: { outcome: string }) => (
  <span class={`badge ${OUTCOME_TONE[props.outcome] ?? 'neutral'}`}>{props.outcome.replace('_', ' ')}</span>
);

/** What happens next to an attempt's delivery, in words. */
function Next(props: { entry: LedgerEntry }) {
  const next = nextStep(props.entry);
  const label = next.state.replace(/_/g, ' ');
  return (
    <span>
      {label}
      {next.at ? (
        <>
          {' '}
          <Time at={next.at} />
        </>
      ) : null}
      {next.hint ? <span class="muted"> ({next.hint})</span> : null}
    </span>
  );
}

export interface LogFilters {
  status?: string;
  user_id?: string;
  since?: string;
  until?: string;
}

export function DeliveriesPage(props: {
  viewer: PortalViewer;
  webhook: PortalWebhook;
  entries: LedgerEntry[];
  filters: LogFilters;
  olderHref: string | null;
  testQueued?: boolean;
}) {
  const id = props.webhook.row.id;
  return (
    <PortalLayout title={`Delivery log of ${id}`} viewer={props.viewer}>
      <WebhookHead webhook={props.webhook} tab="deliveries" />
      {props.testQueued ? <Notice tone="ok">Test event queued. It is listed here once it has been handed out for sending.</Notice> : null}
      <section class="card">
        <form method="get" action={`/portal/webhooks/${id}/deliveries`} class="filters" aria-label="Filters">
          <div>
            <label for="status">Outcome</label>
            <select id="status" name="status">
              <option value="">Any</option>
              {LEDGER_OUTCOMES.map((o) => (
                <option value={o} selected={props.filters.status === o}>
                  {o.replace('_', ' ')}
                </option>
              ))}
            </select>
          </div>
          <div>
            <label for="user_id">User id</label>
            <input type="text" id="user_id" name="user_id" inputmode="numeric" pattern="[0-9]{1,19}" value={props.filters.user_id} />
          </div>
          <div>
            <label for="since">Since (UTC)</label>
            <input type="datetime-local" id="since" name="since" value={props.filters.since} />
          </div>
          <div>
            <label for="until">Until (UTC)</label>
            <input type="datetime-local" id="until" name="until" value={props.filters.until} />
          </div>
          <div class="actions">
            <button type="submit" class="btn secondary">
              Filter
            </button>
          </div>
        </form>
      </section>
      <section class="card">
        {props.entries.length === 0 ? (
          <p class="muted">No attempts match.</p>
        ) : (
          <table class="list" data-testid="delivery-log">
            <Head columns={['When', 'Event', 'User', 'Try', 'Outcome', 'Next', 'Detail']} />
            <tbody>
              {props.entries.map((e) => (
                <tr data-testid={`attempt-${e.id}`} data-kind={e.kind}>
                  <td data-label="When" class="nowrap">
                    <Time at={e.at} />
                  </td>
                  <td data-label="Event">
                    <code>{e.event_type}</code>
                    {e.kind !== 'event' ? <span class="badge new">{e.kind.replace('_', ' ')}</span> : null}
                  </td>
                  <td data-label="User">{e.for_user_id || '—'}</td>
                  <td data-label="Try" class="num">
                    {e.attempt}
                  </td>
                  <td data-label="Outcome">
                    <Outcome outcome={e.outcome} /> {e.status_code ?? ''}{' '}
                    {e.latency_ms !== null ? <span class="muted">{ms(e.latency_ms)}</span> : null}
                  </td>
                  <td data-label="Next">
                    <Next entry={e} />
                  </td>
                  <td data-label="Detail">
                    <a href={`/portal/webhooks/${id}/deliveries/${e.id}`}>Details</a>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <Pager href={props.olderHref} label="Older attempts" />
      </section>
    </PortalLayout>
  );
}

const Row = (props: { term: string; children: Child }) => (
  <>
    <dt>{props.term}</dt>
    <dd>{props.children}</dd>
  </>
);

export function AttemptPage(props: { viewer: PortalViewer; webhook: PortalWebhook; entry: LedgerEntry }) {
  const e = props.entry;
  const headers = attemptHeaders(e);
  return (
    <PortalLayout title={`Attempt ${e.id}`} viewer={props.viewer}>
      <WebhookHead webhook={props.webhook} tab="deliveries" />
      <section class="card">
        <h2>
          Attempt {e.attempt} of <code>{e.event_type}</code>
        </h2>
        <dl class="kv" data-testid="attempt-detail">
          <Row term="Outcome">
            <Outcome outcome={e.outcome} />
          </Row>
          <Row term="Status">{e.status_code ?? '—'}</Row>
          <Row term="Latency">{ms(e.latency_ms)}</Row>
          <Row term="Error">{e.error ?? '—'}</Row>
          <Row term="What next">
            <Next entry={e} />
          </Row>
          <Row term="Handed out">
            <Time at={e.at} />
          </Row>
          <Row term="Started">
            <MaybeTime at={e.started_at} />
          </Row>
          <Row term="Sent to">{e.url ? <span class="url">{e.url}</span> : 'not sent'}</Row>
          <Row term="Kind">{e.kind.replace('_', ' ')}</Row>
          <Row term="For user">{e.for_user_id || '—'}</Row>
          <Row term="Event id">
            <code>{e.event_id}</code>
          </Row>
        </dl>
      </section>
      <section class="card">
        <h2>Request headers</h2>
        {headers.length === 0 ? (
          <p class="muted">No request was made: the delivery was dropped before it could be sent.</p>
        ) : (
          <>
            <table class="list" data-testid="attempt-headers">
              <Head columns={['Header', 'Value', 'Note']} />
              <tbody>
                {headers.map((h) => (
                  <tr>
                    <td data-label="Header">
                      <code>{h.name}</code>
                    </td>
                    <td data-label="Value" class="url">
                      {h.value ?? <span class="muted">(not shown)</span>}
                    </td>
                    <td data-label="Note" class="muted">
                      {h.note ?? ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <p class="fine">Signature values are not kept, so they cannot be shown; your server verifies them with your secrets.</p>
          </>
        )}
      </section>
    </PortalLayout>
  );
}
