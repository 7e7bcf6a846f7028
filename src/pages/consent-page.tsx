/** @jsxImportSource hono/jsx */
import { orderedForReading, SCOPE_DESCRIPTIONS } from '../domain/scope-catalog';
import { type HeaderUser, initialOf, Layout, Time, WarningIcon } from './layout';

export interface ConsentPageProps {
  user: HeaderUser;
  app: { name: string; description: string | null };
  /** Scopes the app asks for. */
  requested: string[];
  /** What the user's live grant already holds, and since when (incremental consent). */
  granted: { scopes: string[]; since: number } | null;
  /** Where the browser goes after the decision. */
  redirectUri: string;
  /** The signed request the form posts back (binds the decision to this session and request). */
  consent: string;
}

function ScopeItem(props: { scope: string; isNew?: boolean }) {
  const d = SCOPE_DESCRIPTIONS[props.scope as keyof typeof SCOPE_DESCRIPTIONS];
  return (
    <li class={d.sensitive ? 'scope sensitive' : 'scope'}>
      <span class="dot" aria-hidden="true" />
      <div class="what">
        <strong>
          {d.title}
          {d.sensitive ? <span class="badge danger">Private messages</span> : null}
          {props.isNew ? <span class="badge new">New</span> : null}
        </strong>
        <p>{d.exposes}</p>
      </div>
    </li>
  );
}

/** Where the decision sends the browser, as a person should check it: the host first. */
function destinationOf(uri: string): { host: string; rest: string } {
  const url = new URL(uri);
  if (url.protocol === 'http:' || url.protocol === 'https:') return { host: url.host, rest: uri };
  return { host: url.protocol.slice(0, -1), rest: uri };
}

export function ConsentPage(props: ConsentPageProps) {
  const held = new Set(props.granted?.scopes ?? []);
  const requested = orderedForReading(props.requested);
  const fresh = requested.filter((s) => !held.has(s));
  const alreadyHeld = orderedForReading([...held]);
  const asksForMessages = fresh.some((s) => SCOPE_DESCRIPTIONS[s].sensitive);
  const destination = destinationOf(props.redirectUri);
  return (
    <Layout title={`Authorize ${props.app.name}`} user={props.user}>
      <div class="card">
        <div class="app-head">
          <div class="avatar" aria-hidden="true">
            {initialOf(props.app.name)}
          </div>
          <div>
            <p class="eyebrow">Authorize access</p>
            <h1>
              <span data-testid="app-name">{props.app.name}</span> wants to access your account
            </h1>
            {props.app.description ? <p class="muted">{props.app.description}</p> : null}
          </div>
        </div>

        {asksForMessages ? (
          <div class="alert alert-danger" role="note">
            <WarningIcon />
            <span>
              <strong>This app asks for your direct messages.</strong> It would receive the private messages you send and receive, as they
              happen, until you revoke access.
            </span>
          </div>
        ) : null}

        {fresh.length > 0 ? (
          <>
            <h2>{props.granted ? 'It asks for more than you allowed before' : 'It will be able to'}</h2>
            <ul class="scopes" data-testid="requested-scopes">
              {fresh.map((scope) => (
                <ScopeItem scope={scope} isNew={props.granted !== null} />
              ))}
            </ul>
          </>
        ) : (
          <p class="alert alert-ok" role="note">
            You already allowed everything this app asks for. Authorizing again gives it a new sign-in, nothing more.
          </p>
        )}

        {props.granted ? (
          <>
            <h2>
              Already allowed since <Time at={props.granted.since} />
            </h2>
            <ul class="scopes" data-testid="granted-scopes">
              {alreadyHeld.map((scope) => (
                <ScopeItem scope={scope} />
              ))}
            </ul>
          </>
        ) : null}

        <p class="destination">
          After you decide, you will be sent to <strong>{destination.host}</strong>
          <br />
          <code>{destination.rest}</code>
        </p>

        <form method="post" action="/i/oauth2/authorize">
          <input type="hidden" name="consent" value={props.consent} />
          <input type="hidden" name="csrf" value={props.user.csrf} />
          <div class="actions">
            <button type="submit" name="decision" value="cancel" class="btn secondary">
              Cancel
            </button>
            <button type="submit" name="decision" value="authorize" class="btn primary">
              Authorize app
            </button>
          </div>
        </form>
        <p class="fine">
          The app gets only what is listed above. You can see what it received and revoke its access at any time in{' '}
          <a href="/i/connected_apps">Connected apps</a>.
        </p>
      </div>
    </Layout>
  );
}
