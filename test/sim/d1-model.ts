import { hasScope } from '../../src/domain/audience';
import { xaaScopeOf } from '../../src/domain/xaa-events';

/**
 * The simulator's D1: the control plane as the Worker's routes keep it, in memory. It is the source
 * the app objects mirror, the lookup fan-out uses, and the reference the invariants check the
 * objects against (an object must never be wider than this).
 */
export interface D1Webhook {
  id: string;
  appId: string;
  url: string;
  valid: boolean;
  /** When validity last changed: a later change wins, whatever order the writes land in. */
  validAt: number;
  deleted: boolean;
}
export interface D1Authorization {
  id: string;
  appId: string;
  userId: string;
  scope: string;
  start: number;
  end: number | null;
}
export interface D1Subscription {
  id: string;
  appId: string;
  webhookId: string;
  userId: string;
  start: number;
  end: number | null;
}
/** An X Activity API subscription: one event type for one filter user, to a webhook or the stream only. */
export interface D1XaaSubscription {
  id: string;
  appId: string;
  eventType: string;
  userId: string;
  webhookId: string | null;
  authorizationId: string | null;
  start: number;
  end: number | null;
  /** When D1 recorded its current version (creation or a move). */
  updatedAt: number;
}
export interface D1App {
  id: string;
  status: 'pending' | 'active' | 'suspended';
  statusAt: number;
}

export class D1Model {
  readonly apps = new Map<string, D1App>();
  readonly webhooks = new Map<string, D1Webhook>();
  readonly authorizations = new Map<string, D1Authorization>();
  readonly subscriptions = new Map<string, D1Subscription>();
  readonly xaaSubscriptions = new Map<string, D1XaaSubscription>();
  private nextId = 1000;

  newId(): string {
    return String(this.nextId++);
  }

  liveAuthorization(appId: string, userId: string): D1Authorization | undefined {
    for (const a of this.authorizations.values()) if (a.appId === appId && a.userId === userId && a.end === null) return a;
    return undefined;
  }

  liveSubscription(webhookId: string, userId: string): D1Subscription | undefined {
    for (const s of this.subscriptions.values()) if (s.webhookId === webhookId && s.userId === userId && s.end === null) return s;
    return undefined;
  }

  liveWebhooks(appId: string): D1Webhook[] {
    return [...this.webhooks.values()].filter((w) => w.appId === appId && !w.deleted);
  }

  /** Fan-out's question: which apps have a live subscription (AAA or XAA) for any of these users. */
  appsFor(users: string[]): string[] {
    const apps = new Set<string>();
    for (const s of this.subscriptions.values()) if (s.end === null && users.includes(s.userId)) apps.add(s.appId);
    for (const s of this.xaaSubscriptions.values()) if (s.end === null && users.includes(s.userId)) apps.add(s.appId);
    return [...apps].sort();
  }

  liveXaa(appId: string): D1XaaSubscription[] {
    return [...this.xaaSubscriptions.values()].filter((s) => s.appId === appId && s.end === null);
  }

  /**
   * Whether D1 entitles a delivery of XAA subscription `id` now: live, for this user, to this webhook
   * (null: on the stream), and for a private event the user's live authorization holds its scope.
   */
  entitlesXaa(appId: string, id: string, webhookId: string | null, userId: string): boolean {
    const app = this.apps.get(appId);
    const sub = this.xaaSubscriptions.get(id);
    if (app?.status !== 'active' || !sub || sub.appId !== appId || sub.end !== null || sub.userId !== userId) return false;
    if (webhookId !== null) {
      const webhook = this.webhooks.get(webhookId);
      if (sub.webhookId !== webhookId || !webhook || webhook.appId !== appId || webhook.deleted) return false;
    }
    const scope = xaaScopeOf(sub.eventType);
    if (scope === null) return true;
    const auth = this.liveAuthorization(appId, userId);
    return !!auth && !!scope && hasScope(auth.scope, scope);
  }

  /** Whether D1 entitles a message of `requiredScope` for (webhook, user) right now. */
  entitles(appId: string, webhookId: string, userId: string, requiredScope: string | null): boolean {
    const app = this.apps.get(appId);
    const webhook = this.webhooks.get(webhookId);
    if (app?.status !== 'active' || !webhook || webhook.appId !== appId || webhook.deleted) return false;
    if (userId === '') return true;
    if (!this.liveSubscription(webhookId, userId)) return false;
    const auth = this.liveAuthorization(appId, userId);
    return !!auth && (requiredScope === null || hasScope(auth.scope, requiredScope));
  }
}
