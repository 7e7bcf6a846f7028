import { expect } from 'vitest';
import { appWithWebhook } from './fixtures';
import { PLATFORM_TOKEN } from './http';
import { type Browser, browser, hiddenField, type PageResponse } from './oauth';

/** Signs a browser in to the developer portal with an app's consumer key and secret; answers the page it lands on. */
export async function portalSignIn(b: Browser, app: { consumerKey: string; consumerSecret: string }): Promise<PageResponse> {
  const form = await b.get('/portal/sign-in');
  if (form.status !== 200) throw new Error(`portal sign-in page: ${form.status} ${form.text.slice(0, 500)}`);
  const res = await b.post('/portal/sign-in', {
    csrf: hiddenField(form.text, 'csrf'),
    consumer_key: app.consumerKey,
    consumer_secret: app.consumerSecret,
  });
  if (res.status !== 303) throw new Error(`portal sign-in: ${res.status} ${res.text.slice(0, 800)}`);
  return b.get(res.location!);
}

/** Signs a browser in to the operator console with the platform token; answers the page it lands on. */
export async function consoleSignIn(b: Browser, token = PLATFORM_TOKEN): Promise<PageResponse> {
  const form = await b.get('/console/sign-in');
  if (form.status !== 200) throw new Error(`console sign-in page: ${form.status} ${form.text.slice(0, 500)}`);
  const res = await b.post('/console/sign-in', { csrf: hiddenField(form.text, 'csrf'), platform_token: token });
  if (res.status !== 303) throw new Error(`console sign-in: ${res.status} ${res.text.slice(0, 800)}`);
  return b.get(res.location!);
}

/** The page's text as a person reads it: tags dropped, entities decoded, whitespace collapsed. */
export const pageText = (html: string) =>
  html
    .replace(/<style[\s\S]*?<\/style>/g, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#39;/g, "'")
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
    .replace(/\s+/g, ' ')
    .trim();

/** A developer signed in to the portal (a fresh browser), with their app's one webhook on a fake receiver. */
export async function signedInDeveloper() {
  const fx = await appWithWebhook({ app: { name: 'Portal Bot' } });
  const b = browser();
  const home = await portalSignIn(b, fx.app);
  expect(home.status).toBe(200);
  return { ...fx, b, home, csrf: hiddenField(home.text, 'csrf') };
}
