/** @jsxImportSource hono/jsx */
import { Layout } from './layout';
import { Notice } from './parts';

interface CredentialField {
  name: string;
  label: string;
  hint: string;
  secret?: boolean;
}

const SURFACES = {
  portal: {
    brand: 'Developer portal',
    title: 'Sign in to the developer portal',
    intro: "Use your app's consumer key and secret, the pair you were given when your app was created.",
    action: '/portal/sign-in',
    mismatch: 'That consumer key and secret do not match an app. Check both and try again.',
    fields: [
      { name: 'consumer_key', label: 'Consumer key', hint: 'The 25 characters that name your app.' },
      { name: 'consumer_secret', label: 'Consumer secret', hint: 'Begins with aae_cs_. It is not stored in your browser.', secret: true },
    ],
  },
  console: {
    brand: 'Operator console',
    title: 'Sign in to the operator console',
    intro: "For the platform's operator: use the platform token (PLATFORM_TOKEN).",
    action: '/console/sign-in',
    mismatch: 'That is not the platform token. Check it and try again.',
    fields: [
      { name: 'platform_token', label: 'Platform token', hint: 'Begins with aae_pt_. It is not stored in your browser.', secret: true },
    ],
  },
} satisfies Record<string, { brand: string; title: string; intro: string; action: string; mismatch: string; fields: CredentialField[] }>;

/** Why a sign-in was refused, in words: the credentials, or too many failed attempts lately. */
export function refusalMessage(surface: keyof typeof SURFACES, retryAfterSeconds: number | null): string {
  if (retryAfterSeconds === null) return SURFACES[surface].mismatch;
  const minutes = Math.ceil(retryAfterSeconds / 60);
  return `Too many failed sign-ins. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`;
}

/** The portal's or the console's sign-in form, with why the last attempt failed if it did. */
export function SignInPage(props: {
  surface: keyof typeof SURFACES;
  csrf: string;
  error?: string | null;
  values?: Record<string, string>;
}) {
  const s = SURFACES[props.surface];
  return (
    <Layout title={s.title} brand={s.brand} footer={null} narrow>
      <div class="card">
        <h1>Sign in</h1>
        <p class="muted">{s.intro}</p>
        {props.error ? <Notice tone="danger">{props.error}</Notice> : null}
        <form method="post" action={s.action}>
          <input type="hidden" name="csrf" value={props.csrf} />
          {(s.fields as CredentialField[]).map((f) => (
            <>
              <label for={f.name}>{f.label}</label>
              <input
                type={f.secret ? 'password' : 'text'}
                id={f.name}
                name={f.name}
                required
                autocomplete={f.secret ? 'current-password' : 'username'}
                spellcheck={false}
                value={f.secret ? undefined : props.values?.[f.name]}
              />
              <p class="hint">{f.hint}</p>
            </>
          ))}
          <div class="actions">
            <button type="submit" class="btn primary">
              Sign in
            </button>
          </div>
        </form>
      </div>
    </Layout>
  );
}
