import { eq } from 'drizzle-orm';
import type { LedgerFilter } from '../app-object/storage/ledger-views';
import type { AppStatus } from '../app-object/storage/tenant-store';
import type { XaaSubscriptionRecord } from '../app-object/storage/xaa-mirror-store';
import { database } from '../db/client';
import { apps } from '../db/schema';
import type { Withdrawal } from '../domain/delivery-protocol';
import { appObjectName, shardOfLedgerId, shardOfUser } from '../domain/shards';
import { mergeAscending, mergeHealth, mergeLedgerPages, mergeWithdrawals } from './shard-merge';

/**
 * The one way the Worker reaches an app's object: by app id and shard index, never by anything about
 * its webhooks. The object itself refuses calls meant for another app (see AppDeliveryObject).
 */
export const appObject = (env: Env, appId: string, shard = 0) =>
  env.APP_DELIVERY.get(env.APP_DELIVERY.idFromName(appObjectName(appId, shard)));

export type AppObjectStub = ReturnType<typeof appObject>;

/**
 * An app's delivery, over however many shards it has (src/domain/shards.ts): each call goes where
 * its rows live. What concerns one user goes to that user's shard; what concerns the whole app goes
 * to every shard (a new signing secret is drawn by shard 0 and given to the others); questions about
 * the app are asked of every shard and the answers merged (shard-merge.ts). With one shard, every
 * call is the single call it always was.
 */
export class AppDelivery {
  private constructor(
    private readonly env: Env,
    readonly appId: string,
    readonly shards: number,
  ) {}

  /** For a caller that has the app's row. */
  static of(env: Env, app: { id: string; deliveryShards: number }): AppDelivery {
    return new AppDelivery(env, app.id, app.deliveryShards);
  }

  /** For a caller that has only the app's id: one D1 read. An app without a row is reached as one shard. */
  static async load(env: Env, appId: string): Promise<AppDelivery> {
    const [row] = await database(env).select({ shards: apps.deliveryShards }).from(apps).where(eq(apps.id, appId));
    return new AppDelivery(env, appId, row?.shards ?? 1);
  }

  shard(index: number): AppObjectStub {
    return appObject(this.env, this.appId, index);
  }

  /** Shard 0: where app-wide calls that must happen once (a CRC's challenge, a test event) go. */
  home(): AppObjectStub {
    return this.shard(0);
  }

  shardOf(userId: string): number {
    return shardOfUser(userId, this.shards);
  }

  forUser(userId: string): AppObjectStub {
    return this.shard(this.shardOf(userId));
  }

  /** Runs `call` on every shard at once. */
  every<T>(call: (object: AppObjectStub, shard: number) => Promise<T>): Promise<T[]> {
    return Promise.all(Array.from({ length: this.shards }, (_, shard) => call(this.shard(shard), shard)));
  }

  // ---- the whole app: every shard ---------------------------------------------------------------

  async provision(consumerSecret: string, status: AppStatus, at: number): Promise<void> {
    await this.every((o, shard) => o.provision(this.appId, consumerSecret, status, at, { shard, shards: this.shards }));
  }

  async setAppStatus(status: AppStatus, at: number): Promise<Withdrawal> {
    return mergeWithdrawals(await this.every((o) => o.setAppStatus(this.appId, status, at)));
  }

  async stageConsumerSecret(secret: string, previousUntil: number): Promise<void> {
    await this.every((o) => o.stageConsumerSecret(this.appId, secret, previousUntil));
  }

  async commitConsumerSecret(secret: string): Promise<boolean> {
    return (await this.every((o) => o.commitConsumerSecret(this.appId, secret))).every(Boolean);
  }

  async addWebhook(webhook: { id: string; url: string; createdAt: number }): Promise<string> {
    const secret = await this.home().addWebhook(this.appId, webhook);
    await this.every((o, shard) => (shard === 0 ? Promise.resolve('') : o.addWebhook(this.appId, webhook, secret)));
    return secret;
  }

  async rotateSigningSecret(webhookId: string, previousUntil: number): Promise<string | null> {
    const secret = await this.home().rotateSigningSecret(this.appId, webhookId, previousUntil);
    if (secret === null) return null;
    await this.every((o, shard) =>
      shard === 0 ? Promise.resolve(null) : o.rotateSigningSecret(this.appId, webhookId, previousUntil, secret),
    );
    return secret;
  }

  async setWebhookValid(webhookId: string, valid: boolean, at: number): Promise<void> {
    await this.every((o) => o.setWebhookValid(this.appId, webhookId, valid, at));
  }

  async deleteWebhook(webhookId: string): Promise<Withdrawal> {
    return mergeWithdrawals(await this.every((o) => o.deleteWebhook(this.appId, webhookId)));
  }

  // ---- one user: that user's shard --------------------------------------------------------------

  restrictAuthorization(userId: string, scope: string, previousId?: string) {
    return this.forUser(userId).restrictAuthorization(this.appId, userId, scope, previousId);
  }

  grantAuthorization(grant: { authorizationId: string; userId: string; scope: string; at: number; supersedes?: string[] }) {
    return this.forUser(grant.userId).grantAuthorization(this.appId, grant);
  }

  revokeAuthorization(userId: string, authorizationId?: string) {
    return this.forUser(userId).revokeAuthorization(this.appId, userId, authorizationId);
  }

  addSubscription(sub: { id: string; webhookId: string; userId: string; authorizationId: string; at: number }) {
    return this.forUser(sub.userId).addSubscription(this.appId, sub);
  }

  endSubscription(webhookId: string, userId: string, subscriptionId?: string) {
    return this.forUser(userId).endSubscription(this.appId, webhookId, userId, subscriptionId);
  }

  putXaaSubscription(record: XaaSubscriptionRecord) {
    return this.forUser(record.userId).putXaaSubscription(this.appId, record);
  }

  async endXaaSubscriptions(subscriptions: { id: string; userId: string }[]): Promise<Withdrawal> {
    // An empty list still asks shard 0, for the withdrawal's time.
    const byShard = new Map<number, { id: string; userId: string }[]>(subscriptions.length === 0 ? [[0, []]] : []);
    for (const s of subscriptions) {
      const shard = this.shardOf(s.userId);
      byShard.set(shard, [...(byShard.get(shard) ?? []), s]);
    }
    const parts = await Promise.all([...byShard].map(([shard, list]) => this.shard(shard).endXaaSubscriptions(this.appId, list)));
    return mergeWithdrawals(parts);
  }

  untargetXaaSubscription(id: string, userId: string, asOf: number) {
    return this.forUser(userId).untargetXaaSubscription(this.appId, id, userId, asOf);
  }

  userSummary(userId: string) {
    return this.forUser(userId).userSummary(this.appId, userId);
  }

  // ---- questions about the app: every shard, merged ---------------------------------------------

  /** A user's entries are all in that user's shard; the app's are merged from every shard. */
  async ledger(filter: LedgerFilter) {
    if (filter.userId !== undefined) return this.forUser(filter.userId).ledger(this.appId, filter);
    return mergeLedgerPages(await this.every((o) => o.ledger(this.appId, filter)), filter.limit);
  }

  /** Attempts that did or may have sent a request, in [from, to), after ledger id `afterId`, oldest first. */
  async sentIn(from: number, to: number, afterId: number, limit: number) {
    return mergeAscending(await this.every((o) => o.sentIn(this.appId, from, to, afterId, limit)), limit);
  }

  ledgerEntry(id: number) {
    return this.shard(shardOfLedgerId(id, this.shards)).ledgerEntry(this.appId, id);
  }

  async webhookHealth() {
    return mergeHealth(await this.every((o) => o.webhookHealth(this.appId)));
  }
}
