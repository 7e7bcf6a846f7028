import { eq } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../db/client';
import { type AppRow, apps, OAUTH_CLIENT_TYPES, type OAuthClientRow, oauthClients } from '../db/schema';
import { MAX_REDIRECT_URIS, redirectUriProblem } from '../domain/redirect-uri';

/** An app as an OAuth 2.0 client: its `client_id` is the consumer key. */
export interface OAuthClient {
  app: AppRow;
  clientType: OAuthClientRow['clientType'];
  redirectUris: string[];
}

/** The body of both registration endpoints (platform and developer). */
export const clientSettingsSchema = z.strictObject({
  client_type: z.enum(OAUTH_CLIENT_TYPES, { error: 'client_type must be confidential or public' }).default('confidential'),
  redirect_uris: z
    .array(
      z.string().superRefine((uri, ctx) => {
        const problem = redirectUriProblem(uri);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    )
    .min(1, 'register at least one redirect URI')
    .max(MAX_REDIRECT_URIS, `at most ${MAX_REDIRECT_URIS} redirect URIs`)
    .refine((uris) => new Set(uris).size === uris.length, 'redirect URIs must be unique'),
});
export type ClientSettings = z.output<typeof clientSettingsSchema>;

const parseUris = (json: string): string[] => JSON.parse(json) as string[];

/** What an app registered as an OAuth client. */
export interface StoredClient {
  clientType: OAuthClientRow['clientType'];
  redirectUris: string[];
  updatedAt: number;
}

/** The app's OAuth client settings, or null if it registered none (then it cannot start the flow). */
export async function clientSettings(db: Database, appId: string): Promise<StoredClient | null> {
  const [row] = await db.select().from(oauthClients).where(eq(oauthClients.appId, appId)).limit(1);
  return row ? { clientType: row.clientType, redirectUris: parseUris(row.redirectUris), updatedAt: row.updatedAt } : null;
}

/** The client a `client_id` names, with its app; null if no app has that key or it registered no client. */
export async function clientById(db: Database, clientId: string): Promise<OAuthClient | null> {
  const [row] = await db
    .select({ app: apps, client: oauthClients })
    .from(apps)
    .innerJoin(oauthClients, eq(oauthClients.appId, apps.id))
    .where(eq(apps.consumerKey, clientId))
    .limit(1);
  return row ? { app: row.app, clientType: row.client.clientType, redirectUris: parseUris(row.client.redirectUris) } : null;
}

/** Replaces the app's client settings: the URIs listed are the only ones that can receive its codes. */
export async function saveClientSettings(db: Database, appId: string, input: ClientSettings): Promise<StoredClient> {
  const stored = { clientType: input.client_type, redirectUris: input.redirect_uris, updatedAt: Date.now() };
  const values = { clientType: stored.clientType, redirectUris: JSON.stringify(stored.redirectUris), updatedAt: stored.updatedAt };
  await db
    .insert(oauthClients)
    .values({ appId, ...values })
    .onConflictDoUpdate({ target: oauthClients.appId, set: values });
  return stored;
}

/** The settings as both registration endpoints answer them; `client_id` is the app's consumer key. */
export const clientView = (app: AppRow, stored: StoredClient | null) => ({
  client_id: app.consumerKey,
  client_type: stored?.clientType ?? null,
  redirect_uris: stored?.redirectUris ?? [],
  updated_at: stored ? new Date(stored.updatedAt).toISOString() : null,
});
