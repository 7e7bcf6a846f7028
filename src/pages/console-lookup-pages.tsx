/** @jsxImportSource hono/jsx */
import type { AccessReport } from '../delivery/access-report';
import type { AuditViolation } from '../delivery/audit-run';
import { ConsoleLayout } from './console-pages';
import { Time } from './layout';
import { AppStatusBadge, Head, MaybeTime, Notice, Pager } from './parts';

/** The operator console's look-ups: one user's access report, and the audit with its violations. */

const isoTime = (iso: string | null) => (iso ? Date.parse(iso) : null);

export function UserPage(props: { csrf: string; userId?: string; report: AccessReport | null }) {
  const report = props.report;
  return (
    <ConsoleLayout title="User lookup" csrf={props.csrf} section="users">
      <div class="page-head">
        <div>
          <h1>User lookup</h1>
          <p class="muted">Every app a user ever authorized, their subscriptions, and what each app received of their data.</p>
        </div>
      </div>
      <section class="card">
        <form method="get" action="/console/users" class="filters" aria-label="Look up a user">
          <div>
            <label for="user_id">User id</label>
            <input type="text" id="user_id" name="user_id" inputmode="numeric" pattern="[0-9]{1,19}" required value={props.userId} />
          </div>
          <div class="actions">
            <button type="submit" class="btn primary">
              Look up
            </button>
          </div>
        </form>
      </section>
      {report && report.apps.length === 0 ? (
        <div class="card empty">
          <h2>No apps</h2>
          <p class="muted">User {report.user_id} never authorized an app.</p>
        </div>
      ) : null}
      {report?.apps.map((a) => (
        <article class="card" data-testid={`access-${a.app_id}`}>
          <div class="row">
            <h2>
              <a href={`/console/apps/${a.app_id}`}>{a.name}</a>
            </h2>
            <AppStatusBadge status={a.status} />
          </div>
          <h3>Authorizations</h3>
          <table class="list">
            <Head columns={['Scopes', 'Granted', 'Ended']} />
            <tbody>
              {a.authorizations.map((g) => (
                <tr>
                  <td data-label="Scopes">
                    <code>{g.scope}</code>
                  </td>
                  <td data-label="Granted" class="nowrap">
                    <MaybeTime at={isoTime(g.granted_at)} />
                  </td>
                  <td data-label="Ended">
                    {g.ended_at ? (
                      <>
                        <Time at={g.ended_at} /> ({g.end_reason ?? 'ended'})
                      </>
                    ) : (
                      <span class="badge ok">current</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <h3>What it received</h3>
          {a.received.length === 0 ? (
            <p class="muted">Nothing of this user's data was sent to it.</p>
          ) : (
            <table class="list" data-testid={`received-${a.app_id}`}>
              <Head columns={['Event', 'Delivered', 'Answered non-2xx', 'Outcome unknown', 'First', 'Last']} />
              <tbody>
                {a.received.map((r) => (
                  <tr>
                    <td data-label="Event">
                      <code>{r.event_type}</code>
                    </td>
                    <td data-label="Delivered" class="num">
                      {r.delivered}
                    </td>
                    <td data-label="Answered non-2xx" class="num">
                      {r.answered_non_2xx}
                    </td>
                    <td data-label="Outcome unknown" class="num">
                      {r.outcome_unknown}
                    </td>
                    <td data-label="First" class="nowrap">
                      <MaybeTime at={isoTime(r.first_at)} />
                    </td>
                    <td data-label="Last" class="nowrap">
                      <MaybeTime at={isoTime(r.last_at)} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
          <p class="fine">
            {a.subscriptions.length} subscription{a.subscriptions.length === 1 ? '' : 's'},{' '}
            {a.subscriptions.filter((s) => !s.ended_at).length} current.
          </p>
        </article>
      ))}
    </ConsoleLayout>
  );
}

export function AuditPage(props: {
  csrf: string;
  form: { from: string; to: string; app_id?: string };
  result: { from: number; to: number; checked: number; violations: AuditViolation[]; nextHref: string | null } | null;
}) {
  const r = props.result;
  return (
    <ConsoleLayout title="Audit" csrf={props.csrf} section="audit">
      <div class="page-head">
        <div>
          <h1>Audit</h1>
          <p class="muted">
            Re-checks every attempt that did or may have reached a receiver in the window against the kept history of authorizations,
            subscriptions and webhooks, independently of the objects that decided to send.
          </p>
        </div>
      </div>
      <section class="card">
        <form method="get" action="/console/audit" class="filters" aria-label="Audit window">
          <input type="hidden" name="run" value="1" />
          <div>
            <label for="from">From (UTC)</label>
            <input type="datetime-local" id="from" name="from" required value={props.form.from} />
          </div>
          <div>
            <label for="to">To (UTC)</label>
            <input type="datetime-local" id="to" name="to" required value={props.form.to} />
          </div>
          <div>
            <label for="app_id">App id (optional)</label>
            <input type="text" id="app_id" name="app_id" inputmode="numeric" pattern="[0-9]{1,19}" value={props.form.app_id} />
          </div>
          <div class="actions">
            <button type="submit" class="btn primary">
              Verify
            </button>
          </div>
        </form>
      </section>
      {r ? (
        <section class="card" data-testid="audit-result">
          {r.violations.length === 0 ? (
            <Notice tone="ok">
              {r.checked} attempt{r.checked === 1 ? '' : 's'} checked from <Time at={r.from} /> to <Time at={r.to} />: no violations.
            </Notice>
          ) : (
            <Notice tone="danger">
              {r.violations.length} violation{r.violations.length === 1 ? '' : 's'} in {r.checked} attempts checked. Each names the app, the
              user and where the data went, enough to notify the user.
            </Notice>
          )}
          {r.violations.length ? (
            <table class="list" data-testid="violations">
              <Head columns={['App', 'User', 'Event', 'Sent to', 'When', 'Why it was wrong']} />
              <tbody>
                {r.violations.map((v) => (
                  <tr>
                    <td data-label="App">
                      <a href={`/console/apps/${v.app_id}`}>{v.app_name}</a>
                    </td>
                    <td data-label="User">{v.for_user_id ?? '—'}</td>
                    <td data-label="Event">
                      <code>{v.event_type}</code> <span class="muted">try {v.attempt}</span>
                    </td>
                    <td data-label="Sent to">
                      <span class="url">{v.destination ?? '—'}</span>
                    </td>
                    <td data-label="When" class="nowrap">
                      <MaybeTime at={isoTime(v.attempted_at)} />
                    </td>
                    <td data-label="Why">{v.reason}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
          <Pager href={r.nextHref} label="Check the rest of the window" />
        </section>
      ) : null}
    </ConsoleLayout>
  );
}
