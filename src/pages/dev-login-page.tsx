/** @jsxImportSource hono/jsx */
import { Layout } from './layout';

/** The development login: a stand-in for the platform's sign-in page, where you pick who you are. */
export function DevLoginPage(props: { returnTo: string; nonce: string }) {
  return (
    <Layout title="Sign in (development)" narrow>
      <div class="card">
        <div class="dev-banner" role="note">
          <strong>Development sign-in.</strong> This page exists only while <code>DEV_LOGIN</code> is on, and only on this machine. In
          production the platform's own sign-in page takes its place.
        </div>
        <h1>Sign in</h1>
        <p class="muted">Choose the user you want to act as.</p>
        <form method="post" action="/i/session/dev-login">
          <label for="user_id">User id</label>
          <input
            type="text"
            id="user_id"
            name="user_id"
            inputmode="numeric"
            pattern="[0-9]{1,19}"
            required
            autocomplete="off"
            placeholder="2244994945"
          />
          <p class="hint">A numeric id of 1–19 digits, as the platform's users have.</p>
          <input type="hidden" name="return_to" value={props.returnTo} />
          <input type="hidden" name="nonce" value={props.nonce} />
          <div class="actions">
            <button type="submit" class="btn primary">
              Continue
            </button>
          </div>
        </form>
      </div>
    </Layout>
  );
}
