/** @jsxImportSource hono/jsx */
import { eventTypeLabel, orderedForReading, SCOPE_DESCRIPTIONS } from '../domain/scope-catalog';
import type { ConnectedApp } from '../oauth/connected-apps';
import { CheckIcon, type HeaderUser, initialOf, Layout, Time } from './layout';

function ScopeChips(props: { scopes: string[] }) {
  return (
    <ul class="chips">
      {orderedForReading(props.scopes).map((s) => (
        <li class={SCOPE_DESCRIPTIONS[s].sensitive ? 'chip sensitive' : 'chip'} title={SCOPE_DESCRIPTIONS[s].exposes}>
          {SCOPE_DESCRIPTIONS[s].title}
        </li>
      ))}
    </ul>
  );
}

function Count(props: { n: number; label: string; testId: string; kind?: 'unknown' }) {
  return (
    <td data-label={props.label} data-testid={props.testId} class={props.n === 0 ? 'zero' : props.kind}>
      {props.n}
    </td>
  );
}

function Received(props: { app: ConnectedApp }) {
  const rows = props.app.access.received;
  if (rows.length === 0) return <p class="muted">Nothing of yours has been sent to this app.</p>;
  return (
    <>
      <table class="received">
        <thead>
          <tr>
            <th scope="col">What</th>
            <th scope="col">Delivered</th>
            <th scope="col" title="Its server got the request and answered with an error">
              Error answer
            </th>
            <th scope="col" title="Sent, and no answer came back: the app may have it">
              Maybe received
            </th>
            <th scope="col">Last</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => {
            const label = eventTypeLabel(r.event_type);
            const id = `received-${props.app.access.app_id}-${r.event_type}`;
            return (
              <tr>
                <td>
                  {label.label}
                  {label.directMessages ? <span class="badge danger">Private</span> : null}
                </td>
                <Count n={r.delivered} label="Delivered" testId={`${id}-delivered`} />
                <Count n={r.answered_non_2xx} label="Error answer" testId={`${id}-non2xx`} />
                <Count n={r.outcome_unknown} label="Maybe received" testId={`${id}-unknown`} kind="unknown" />
                <td data-label="Last" class="when">
                  {r.last_at ? <Time at={r.last_at} /> : '—'}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <p class="fine">
        <strong>Delivered</strong>: the app's server confirmed it. <strong>Error answer</strong>: its server got it but answered with an
        error. <strong>Maybe received</strong>: it was sent and no answer came back, so the app may have it.
      </p>
    </>
  );
}

function AppCard(props: { app: ConnectedApp; csrf: string }) {
  const { app } = props;
  const access = app.access;
  return (
    <article class="card" data-testid={`app-${access.app_id}`}>
      <div class="app-title">
        <div class="avatar small" aria-hidden="true">
          {initialOf(access.name)}
        </div>
        <div>
          <h2>
            {access.name}
            {access.status !== 'active' ? (
              <span class="badge neutral">{access.status === 'suspended' ? 'Suspended' : 'Not active'}</span>
            ) : null}
          </h2>
          <div class="since">
            {app.endedAt ? (
              <>
                Access ended <Time at={app.endedAt} />
              </>
            ) : (
              <>
                Connected since <Time at={app.since} />
              </>
            )}
          </div>
        </div>
      </div>
      {app.description ? <p class="muted">{app.description}</p> : null}
      <h3>{app.liveScopes ? 'Can see and do' : 'Could see and do'}</h3>
      <ScopeChips scopes={app.liveScopes ?? app.lastScopes} />
      <h3>What it received</h3>
      <Received app={app} />
      {app.liveScopes ? (
        <details class="revoke">
          <summary class="btn danger-outline">Revoke access</summary>
          <div class="confirm">
            <p>
              <strong>Revoke {access.name}'s access?</strong> It stops receiving your data at once, anything not yet delivered to it is
              discarded, and its sign-ins stop working. Its record stays here.
            </p>
            <form method="post" action={`/i/connected_apps/${access.app_id}/revoke`}>
              <input type="hidden" name="csrf" value={props.csrf} />
              <div class="actions">
                <button type="submit" class="btn danger">
                  Yes, revoke access
                </button>
              </div>
            </form>
          </div>
        </details>
      ) : null}
    </article>
  );
}

export function ConnectedAppsPage(props: { user: HeaderUser; apps: ConnectedApp[]; revokedName?: string | null }) {
  const connected = props.apps.filter((a) => a.liveScopes);
  const previous = props.apps.filter((a) => !a.liveScopes);
  return (
    <Layout title="Connected apps" user={props.user}>
      <div class="page-head">
        <div>
          <h1>Connected apps</h1>
          <p class="muted">Apps you allowed to use your account, what they can see, and what they received.</p>
        </div>
        <a class="btn secondary" href="/i/connected_apps/report.json" download>
          Download access report
        </a>
      </div>
      {props.revokedName ? (
        <div class="alert alert-ok" role="status">
          <CheckIcon />
          <span>
            <strong>{props.revokedName}</strong> no longer has access. Nothing more of yours will be sent to it.
          </span>
        </div>
      ) : null}
      {props.apps.length === 0 ? (
        <div class="card empty">
          <h2>No connected apps</h2>
          <p class="muted">When you authorize an app, it shows up here with what it can see and what it received.</p>
        </div>
      ) : null}
      {connected.length > 0 ? (
        <section>
          <h3>Connected ({connected.length})</h3>
          {connected.map((app) => (
            <AppCard app={app} csrf={props.user.csrf} />
          ))}
        </section>
      ) : null}
      {previous.length > 0 ? (
        <section>
          <h3>Previously connected ({previous.length})</h3>
          {previous.map((app) => (
            <AppCard app={app} csrf={props.user.csrf} />
          ))}
        </section>
      ) : null}
    </Layout>
  );
}
