import { sha256Hex } from '../domain/crypto';
import type { ControlPlane } from './control-plane';
import type { Release } from './lanes';
import type { AppStatus } from './storage/tenant-store';
import type { XaaSubscriptionRecord } from './storage/xaa-mirror-store';
import type { TenantDelivery } from './tenant-delivery';

/** What the Worker's drift check decided the object must do to match D1 (src/delivery/reconcile.ts). */
export interface ReconcileActions {
  status?: { status: AppStatus; at: number };
  grants: { authorizationId: string; userId: string; scope: string; at: number }[];
  scopes: { authorizationId: string; userId: string; scope: string }[];
  subscriptions: { id: string; webhookId: string; userId: string; authorizationId: string; at: number }[];
  endAuthorizations: { id: string; userId: string }[];
  endSubscriptions: { id: string; userId: string; webhookId: string }[];
  webhookValidity: { id: string; valid: boolean; at: number }[];
  deleteWebhooks: string[];
  /** XAA subscriptions as D1 has them (the object had not heard of them, or holds another version). */
  xaaPuts: XaaSubscriptionRecord[];
  /** XAA subscriptions live in the object but not in D1. */
  endXaa: { id: string; userId: string }[];
  /** D1's consumer-secret hash: a staged secret with this hash is committed. */
  consumerSecretHash?: string;
}

/**
 * The object's side of a reconcile: applies what brings its mirror to D1's state, through the same
 * mirror operations the routes use (an ended row still never comes back), and drops whatever the
 * narrowing parts withdraw.
 */
export async function applyReconcile(delivery: TenantDelivery, control: ControlPlane, appId: string, actions: ReconcileActions) {
  delivery.tenantFor(appId);
  const { mirror, mirrorDrift, outboxViews } = delivery.store;
  const now = delivery.ports.now();
  if (actions.status) await control.setAppStatus(appId, actions.status.status, actions.status.at);
  for (const g of actions.grants) mirror.grantAuthorization(g.authorizationId, g.userId, g.scope, Math.max(g.at, now));
  for (const s of actions.subscriptions) mirror.addSubscription({ ...s, at: Math.max(s.at, now) });
  for (const v of actions.webhookValidity) await control.setWebhookValid(appId, v.id, v.valid, v.at);
  for (const id of actions.deleteWebhooks) await control.deleteWebhook(appId, id);
  const users = new Set<string>();
  for (const s of actions.scopes) {
    mirrorDrift.setAuthorizationScope(s.authorizationId, s.scope);
    users.add(s.userId);
  }
  for (const a of actions.endAuthorizations) {
    mirrorDrift.endRow('authorizations', a.id, now);
    users.add(a.userId);
  }
  for (const s of actions.endSubscriptions) {
    mirrorDrift.endRow('subscriptions', s.id, now);
    users.add(s.userId);
  }
  // D1 is the truth here: its version is applied over whatever the object held, even a narrowing of
  // that same version whose move never finished (reconcile is not fenced: docs/delivery.md).
  for (const record of actions.xaaPuts ?? []) mirror.xaa.put({ ...record, at: record.at + 0.75 }, now);
  mirror.xaa.end(actions.endXaa ?? [], now);
  for (const s of actions.endXaa ?? []) users.add(s.userId);
  for (const record of actions.xaaPuts ?? []) users.add(record.userId);
  // Whatever the narrowing parts took away is dropped now, on the record.
  const out: Release[] = [];
  for (const userId of users) {
    const withdrawn = outboxViews.outboxWhere({ userId }).filter((m) => delivery.lanes.entitlement(m, now) === 'withdrawn');
    delivery.lanes.dropAndAdvance(withdrawn, 'reconciled with the control plane', now, out);
  }
  await delivery.send(out);
  if (actions.consumerSecretHash) {
    const staged = delivery.store.tenant.stagedConsumerSecret();
    if (staged && (await sha256Hex(staged)) === actions.consumerSecretHash) delivery.store.tenant.commitConsumerSecret(staged);
  }
}
