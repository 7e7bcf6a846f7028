import { beforeEach } from 'vitest';
import { activeApp, type RegisteredWebhook, registerWebhook, subscribe, type TestApp } from './apps';
import { installReceivers, type Receivers, receiverUrl } from './receivers';

export interface WebhookFixture {
  receivers: Receivers;
  app: TestApp;
  /** The app's one webhook, on a fresh receiver URL that answers the app's CRC. */
  hook: RegisteredWebhook;
  url: string;
  /** Each subscribed user's access token. */
  userTokens: Record<string, string>;
}

export interface WebhookFixtureOptions {
  /** Users granted `scopes` and subscribed to the webhook. */
  subscribers?: string[];
  scopes?: string[];
  /** Fields of the created app (name, limits). */
  app?: Record<string, unknown>;
}

/** The usual fixture: fake receivers, an approved app, its webhook that passed a CRC, subscribed users. */
export async function appWithWebhook(options: WebhookFixtureOptions = {}): Promise<WebhookFixture> {
  const receivers = installReceivers();
  const app = await activeApp(options.app);
  const url = receiverUrl();
  receivers.set(url, app.consumerSecret);
  const hook = await registerWebhook(app, url);
  const userTokens: Record<string, string> = {};
  for (const userId of options.subscribers ?? []) userTokens[userId] = await subscribe(app, hook.id, userId, options.scopes);
  return { receivers, app, hook, url, userTokens };
}

/** A fresh appWithWebhook before each test of the file; the returned object always holds the current one. */
export function appWithWebhookEachTest(options: WebhookFixtureOptions = {}): WebhookFixture {
  const fixture = {} as WebhookFixture;
  beforeEach(async () => {
    Object.assign(fixture, await appWithWebhook(options));
  });
  return fixture;
}
