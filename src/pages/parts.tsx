/** @jsxImportSource hono/jsx */
import type { Child } from 'hono/jsx';
import type { WebhookHealth } from '../app-object/health';
import type { AppStatus } from '../db/schema';
import { CheckIcon, Time, WarningIcon } from './layout';

/** Small pieces the developer portal and the operator console share. */

/** The hidden CSRF field every form of a signed-in page carries. */
export const CsrfField = (props: { csrf: string }) => <input type="hidden" name="csrf" value={props.csrf} />;

/** A message at the top of a page: what just happened, or what went wrong. */
export function Notice(props: { tone: 'ok' | 'danger' | 'warn'; children: Child }) {
  return (
    <div class={`alert alert-${props.tone}`} role={props.tone === 'ok' ? 'status' : 'alert'}>
      {props.tone === 'ok' ? <CheckIcon /> : <WarningIcon />}
      <span>{props.children}</span>
    </div>
  );
}

const STATUS_BADGE: Record<AppStatus, { label: string; tone: string }> = {
  pending: { label: 'Pending review', tone: 'warn' },
  active: { label: 'Active', tone: 'ok' },
  suspended: { label: 'Suspended', tone: 'danger' },
};

export const AppStatusBadge = (props: { status: AppStatus }) => (
  <span class={`badge ${STATUS_BADGE[props.status].tone}`} data-testid="app-status">
    {STATUS_BADGE[props.status].label}
  </span>
);

/** How long ago, as a person says it: "40 s", "12 min", "3 h", "2 days". */
export function age(since: number, now: number): string {
  const s = Math.max(0, Math.round((now - since) / 1000));
  if (s < 90) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 90) return `${min} min`;
  const h = Math.round(min / 60);
  if (h < 36) return `${h} h`;
  return `${Math.round(h / 24)} days`;
}

/** Milliseconds as a person reads them. */
export const ms = (value: number | null) => (value === null ? '—' : value < 1000 ? `${value} ms` : `${(value / 1000).toFixed(1)} s`);

/** A webhook's health in one or two sentences: is it delivering, what is waiting, since when. */
export function HealthSummary(props: { health: WebhookHealth | null; now: number }) {
  const h = props.health;
  if (!h) return <p class="health muted">Health not available.</p>;
  const backlog = h.undelivered === 0 ? null : `${h.undelivered}${h.undeliveredCapped ? '+' : ''} undelivered`;
  return (
    <p class="health" data-testid="webhook-health">
      {!h.valid ? (
        <span class="badge danger">Held</span>
      ) : h.consecutiveFailures > 0 ? (
        <span class="badge warn">Failing</span>
      ) : (
        <span class="badge ok">Healthy</span>
      )}{' '}
      {h.consecutiveFailures > 0 ? (
        <>
          {h.consecutiveFailures} failed attempt{h.consecutiveFailures === 1 ? '' : 's'} in a row since <Time at={h.failingSince!} />
          {h.lastError ? (
            <>
              , last error <code>{h.lastError}</code>
            </>
          ) : null}
          .{' '}
        </>
      ) : null}
      {!h.valid ? 'Deliveries wait until a CRC passes. ' : null}
      {backlog ? (
        <>
          {backlog}, the oldest waiting {h.oldestUndeliveredAt ? age(h.oldestUndeliveredAt, props.now) : '—'}.
        </>
      ) : (
        'Nothing waiting.'
      )}
      {h.path === 'slow' ? ' On the slow path (slow or unreachable lately).' : null}
    </p>
  );
}

/**
 * A button that asks first: the question and the confirming form open below it, no script needed.
 * `children` is the form (with its CSRF field).
 */
export function Confirm(props: { label: string; question: Child; children: Child; danger?: boolean }) {
  return (
    <details class="confirm-box">
      <summary class={`btn small ${props.danger ? 'danger-outline' : 'secondary'}`}>{props.label}</summary>
      <div class={props.danger ? 'confirm' : 'card'}>
        <p>{props.question}</p>
        {props.children}
      </div>
    </details>
  );
}

/** A time, or a dash. */
export const MaybeTime = (props: { at: number | null | undefined }) => (props.at ? <Time at={props.at} /> : <>—</>);

/** A table's column headings. */
export const Head = (props: { columns: string[] }) => (
  <thead>
    <tr>
      {props.columns.map((c) => (
        <th scope="col">{c}</th>
      ))}
    </tr>
  </thead>
);

/** The link to the next page of a list, if there is one. */
export const Pager = (props: { href: string | null; label: string }) =>
  props.href ? (
    <div class="pager">
      <a class="btn small secondary" href={props.href}>
        {props.label}
      </a>
    </div>
  ) : null;

/** Whether a webhook's last CRC passed (deliveries flow) or not (they are held). */
export const ValidBadge = (props: { valid: boolean }) =>
  props.valid ? <span class="badge ok">Valid</span> : <span class="badge danger">Invalid</span>;

/** A webhook card's heading: its URL and whether it is valid. */
export const WebhookTitle = (props: { url: string; valid: boolean }) => (
  <div class="row">
    <h2 class="url">{props.url}</h2>
    <ValidBadge valid={props.valid} />
  </div>
);
