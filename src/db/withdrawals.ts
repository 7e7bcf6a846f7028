import { and, inArray, isNull } from 'drizzle-orm';
import type { Withdrawal } from '../domain/delivery-protocol';
import type { Database } from './client';
import { authorizations, subscriptions, xaaSubscriptions } from './schema';

/** D1 allows 100 bound parameters per statement. */
const CHUNK = 90;

/** Why an XAA subscription ended, given why the withdrawal that ended it happened. */
const XAA_END_REASON = {
  unsubscribed: 'deleted',
  authorization_revoked: 'authorization_revoked',
  webhook_deleted: 'webhook_deleted',
} as const;

/**
 * Records a withdrawal in D1: exactly the authorizations and subscriptions (AAA and XAA) the app's
 * object ended, at the moment it ended them (docs/delivery.md, "D1 and the objects agree"). Rows D1
 * already ended are left as they are.
 */
export async function recordWithdrawal(
  db: Database,
  withdrawal: Withdrawal,
  reasons: { authorization?: 'revoked' | 'superseded'; subscription: 'unsubscribed' | 'authorization_revoked' | 'webhook_deleted' },
): Promise<void> {
  const at = withdrawal.effectiveAt;
  const statements = [];
  for (let i = 0; i < withdrawal.ended.authorizations.length; i += CHUNK) {
    const ids = withdrawal.ended.authorizations.slice(i, i + CHUNK);
    statements.push(
      db
        .update(authorizations)
        .set({ endedAt: at, endReason: reasons.authorization ?? 'revoked' })
        .where(and(inArray(authorizations.id, ids), isNull(authorizations.endedAt))),
    );
  }
  for (let i = 0; i < withdrawal.ended.subscriptions.length; i += CHUNK) {
    const ids = withdrawal.ended.subscriptions.slice(i, i + CHUNK);
    statements.push(
      db
        .update(subscriptions)
        .set({ endedAt: at, endReason: reasons.subscription })
        .where(and(inArray(subscriptions.id, ids), isNull(subscriptions.endedAt))),
    );
  }
  for (let i = 0; i < withdrawal.ended.xaaSubscriptions.length; i += CHUNK) {
    const ids = withdrawal.ended.xaaSubscriptions.slice(i, i + CHUNK);
    statements.push(
      db
        .update(xaaSubscriptions)
        .set({ endedAt: at, endReason: XAA_END_REASON[reasons.subscription] })
        .where(and(inArray(xaaSubscriptions.id, ids), isNull(xaaSubscriptions.endedAt))),
    );
  }
  if (statements.length > 0) await db.batch(statements as [(typeof statements)[number], ...typeof statements]);
}
