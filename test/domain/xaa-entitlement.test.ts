import { describe, expect, it } from 'vitest';
import { type AppHistory, historyView, violationOf } from '../../src/domain/audit';
import { type DeliveryScope, entitlementAt } from '../../src/domain/entitlement';

/** The one entitlement rule, asked about X Activity API deliveries, over D1-style history. */
const history = (extra: Partial<AppHistory> = {}): AppHistory => ({
  statusChanges: [{ status: 'active', at: 0 }],
  webhooks: [
    { id: 'w1', createdAt: 0, deletedAt: null },
    { id: 'w2', createdAt: 0, deletedAt: null },
  ],
  subscriptions: [],
  authorizations: [{ userId: 'u', scope: 'dm.read', createdAt: 0, endedAt: 500 }],
  xaaSubscriptions: [
    {
      id: 'pub',
      userId: 'u',
      createdAt: 10,
      endedAt: null,
      targets: [
        { webhookId: 'w1', at: 10 },
        { webhookId: null, at: 300 },
        { webhookId: 'w2', at: 310 },
      ],
    },
    { id: 'dm', userId: 'u', createdAt: 10, endedAt: null, targets: [{ webhookId: null, at: 10 }] },
  ],
  ...extra,
});
const scope = (fields: Partial<DeliveryScope>): DeliveryScope => ({
  kind: 'event',
  webhookId: 'w1',
  userId: 'u',
  requiredScope: null,
  ingestedAt: 100,
  xaaSubscriptionId: 'pub',
  ...fields,
});
const verdict = (h: AppHistory, s: DeliveryScope, t: number) => entitlementAt(historyView(h), s, t).kind;

describe('XAA deliveries under the entitlement rule', () => {
  it('a public event needs its subscription, on the webhook it targeted since ingest, and no authorization', () => {
    expect(verdict(history(), scope({}), 200)).toBe('send');
    expect(verdict(history(), scope({}), 305)).toBe('withdrawn'); // moved off w1 at 300
    expect(verdict(history(), scope({ webhookId: 'w2' }), 200)).toBe('withdrawn'); // not yet on w2
    expect(verdict(history(), scope({ webhookId: 'w2', ingestedAt: 320 }), 400)).toBe('send');
    expect(verdict(history(), scope({ ingestedAt: 5 }), 200)).toBe('withdrawn'); // before it existed
  });

  it('a private event needs the live authorization to hold its scope, on the stream too', () => {
    const dm = scope({ kind: 'stream', webhookId: '', xaaSubscriptionId: 'dm', requiredScope: 'dm.read' });
    expect(verdict(history(), dm, 200)).toBe('send');
    expect(verdict(history(), dm, 600)).toBe('withdrawn'); // authorization ended at 500
    expect(verdict(history(), { ...dm, requiredScope: 'like.read' }, 200)).toBe('withdrawn');
  });

  it('a stream line goes out only if the app was active from its ingest on', () => {
    const suspendedBetween = history({
      statusChanges: [
        { status: 'active', at: 0 },
        { status: 'suspended', at: 150 },
        { status: 'active', at: 160 },
      ],
    });
    const line = scope({ kind: 'stream', webhookId: '' });
    expect(verdict(suspendedBetween, line, 200)).toBe('withdrawn');
    expect(verdict(suspendedBetween, { ...line, ingestedAt: 170 }, 200)).toBe('send');
  });

  it('a private stream line goes out only if the scope was held from its ingest on: re-grants that keep it are no break', () => {
    const dm = scope({ kind: 'stream', webhookId: '', xaaSubscriptionId: 'dm', requiredScope: 'dm.read' });
    const grants = (...spans: [string, number, number | null][]) =>
      history({ authorizations: spans.map(([s, createdAt, endedAt]) => ({ userId: 'u', scope: s, createdAt, endedAt })) });
    // Taken away at 150 and given back at 160: a line ingested before is not written after.
    const givenBack = grants(['dm.read', 0, 150], ['tweet.read', 150, 160], ['dm.read tweet.read', 160, null]);
    expect(verdict(givenBack, dm, 200)).toBe('withdrawn');
    expect(verdict(givenBack, { ...dm, ingestedAt: 170 }, 200)).toBe('send');
    // Re-granted with more scopes, dm.read kept throughout: the line still goes.
    expect(verdict(grants(['dm.read', 0, 150], ['dm.read like.read', 150, null]), dm, 200)).toBe('send');
    // Revoked at 150 and granted again at 160: a break.
    expect(verdict(grants(['dm.read', 0, 150], ['dm.read', 160, null]), dm, 200)).toBe('withdrawn');
    // Granted only after the event.
    expect(verdict(grants(['dm.read', 120, null]), dm, 200)).toBe('withdrawn');
  });

  it('the audit names the XAA subscription that did not cover a delivery, and checks stream lines without a webhook', () => {
    const attempt = {
      kind: 'event',
      eventType: 'post.create',
      webhookId: 'w1',
      forUserId: 'u',
      ingestedAt: 100,
      at: 305,
      xaaSubscriptionId: 'pub',
    };
    expect(violationOf(attempt, history())).toMatch(
      /XAA subscription pub did not cover the event on this webhook when the request was sent/,
    );
    expect(violationOf({ ...attempt, at: 200 }, history())).toBeNull();
    expect(violationOf({ ...attempt, kind: 'stream', webhookId: '', at: 305 }, history())).toBeNull();
    expect(violationOf({ ...attempt, kind: 'stream', webhookId: '', xaaSubscriptionId: null }, history())).toMatch(
      /without an XAA subscription/,
    );
    expect(violationOf({ ...attempt, eventType: 'news.new' }, history())).toMatch(/unknown event type/);
  });
});
