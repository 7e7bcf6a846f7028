import { describe, expect, it } from 'vitest';
import { type AppHistory, type AuditedAttempt, statusAt, violationOf } from '../../src/domain/audit';

const history: AppHistory = {
  statusChanges: [
    { status: 'pending', at: 0 },
    { status: 'active', at: 10 },
    { status: 'suspended', at: 900 },
  ],
  webhooks: [{ id: 'w1', createdAt: 20, deletedAt: 800 }],
  subscriptions: [
    { webhookId: 'w1', userId: 'u1', createdAt: 30, endedAt: 500 },
    { webhookId: 'w1', userId: 'u1', createdAt: 600, endedAt: null },
  ],
  authorizations: [
    { userId: 'u1', scope: 'tweet.read dm.read', createdAt: 25, endedAt: 400 },
    { userId: 'u1', scope: 'tweet.read', createdAt: 400, endedAt: null },
  ],
};
const attempt = (over: Partial<AuditedAttempt>): AuditedAttempt => ({
  kind: 'event',
  eventType: 'tweet_create',
  webhookId: 'w1',
  forUserId: 'u1',
  ingestedAt: 100,
  at: 110,
  ...over,
});

describe('violationOf', () => {
  it('accepts an attempt the history entitles', () => {
    expect(violationOf(attempt({}), history)).toBeNull();
    expect(violationOf(attempt({ ingestedAt: 650, at: 700 }), history)).toBeNull();
  });

  it.each([
    [{ ingestedAt: 5, at: 6 }, 'not active'],
    [{ ingestedAt: 100, at: 950 }, 'not active (suspended) when the request was sent'],
    [{ webhookId: 'w2' }, 'does not belong'],
    [{ ingestedAt: 100, at: 810 }, 'webhook did not exist'],
    [{ forUserId: 'u2' }, 'no subscription'],
    [{ ingestedAt: 510, at: 520 }, 'no subscription'],
    [{ ingestedAt: 480, at: 620 }, 'no subscription'], // crossed an unsubscribe and re-subscribe
    [{ eventType: 'direct_message', ingestedAt: 100, at: 410 }, 'had not authorized dm.read when the request was sent'],
    [{ eventType: 'direct_message', ingestedAt: 650, at: 700 }, 'had not authorized'],
    [{ eventType: 'favorite' }, 'had not authorized like.read'],
    [{ ingestedAt: 120, at: 110 }, 'before its event was ingested'],
    [{ eventType: 'tweet_teleport' }, 'unknown event type'],
  ])('names %j (%s)', (over, why) => {
    expect(violationOf(attempt(over), history)).toContain(why);
  });

  it('app-level notices need only an active app and a live webhook', () => {
    expect(violationOf(attempt({ kind: 'revoke', eventType: 'user_event', forUserId: '' }), history)).toBeNull();
    expect(violationOf(attempt({ kind: 'test', eventType: 'test_event', forUserId: '' }), history)).toBeNull();
    expect(violationOf(attempt({ kind: 'test', eventType: 'test_event', forUserId: '', ingestedAt: 910, at: 920 }), history)).toContain(
      'not active',
    );
    expect(violationOf(attempt({ kind: 'revoke', eventType: 'user_event', forUserId: '', ingestedAt: 910, at: 920 }), history)).toContain(
      'not active',
    );
  });

  it('reads the status in force at a time', () => {
    expect([statusAt(history, -1), statusAt(history, 10), statusAt(history, 899), statusAt(history, 900)]).toEqual([
      null,
      'active',
      'active',
      'suspended',
    ]);
  });
});
