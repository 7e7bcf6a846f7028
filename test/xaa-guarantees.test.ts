import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { XaaSubscriptionRecord } from '../src/app-object/storage/xaa-mirror-store';
import { appObject } from '../src/delivery/app-objects';
import { ingest, testUser as u } from './support/activities';
import { objectRows } from './support/app-object';
import { grantUser } from './support/apps';
import { appWithWebhook } from './support/fixtures';
import { platform } from './support/http';
import { sleep } from './support/time';
import { createXaa, expectXProblem, xaaSubscribe } from './support/xaa';

/** The delivery protocol's promises (docs/delivery.md), for X Activity API subscriptions. */
const record = (id: string, fields: Partial<XaaSubscriptionRecord> = {}): XaaSubscriptionRecord => ({
  id,
  eventType: 'post.create',
  userId: '1',
  direction: null,
  keyword: null,
  tag: null,
  webhookId: null,
  authorizationId: null,
  at: Date.now(),
  ...fields,
});

describe('the object is never wider than D1, whatever order writes land in', () => {
  it('a creation that arrives after its delete is refused (the delete left a tombstone)', async () => {
    const { app } = await appWithWebhook();
    const stub = appObject(env, app.id);
    const withdrawal = await stub.endXaaSubscriptions(app.id, [{ id: '901', userId: '1' }]);
    expect(withdrawal.ended.xaaSubscriptions).toEqual(['901']);
    expect(await stub.putXaaSubscription(app.id, record('901'))).toBe('ended');
  });

  it("a creation that arrives after its webhook was taken away cannot bring the old webhook back; the move's new version can", async () => {
    const { app, hook } = await appWithWebhook();
    const stub = appObject(env, app.id);
    const old = Date.now() - 1000;
    await stub.untargetXaaSubscription(app.id, '902', '1', old);
    expect(await stub.putXaaSubscription(app.id, record('902', { webhookId: hook.id, at: old }))).toBeNull();
    const [placeholder] = await objectRows<{ webhook_id: string | null }>(
      app.id,
      'SELECT webhook_id FROM xaa_subscriptions WHERE id = ?',
      '902',
    );
    expect(placeholder.webhook_id).toBeNull();
    // The move's next version does apply.
    expect(await stub.putXaaSubscription(app.id, record('902', { webhookId: hook.id, at: old + 1 }))).toBeNull();
    const [row] = await objectRows<{ webhook_id: string | null }>(app.id, 'SELECT webhook_id FROM xaa_subscriptions WHERE id = ?', '902');
    expect(row.webhook_id).toBe(hook.id);
  });

  it("a private event's creation racing a revoke is refused, and the route ends it in D1", async () => {
    const { app } = await appWithWebhook();
    await grantUser(app.id, '3', ['dm.read']);
    const [{ id: authorizationId }] = await env.DB.prepare('SELECT id FROM authorizations WHERE app_id = ? AND user_id = ?')
      .bind(app.id, '3')
      .all<{ id: string }>()
      .then((r) => r.results);
    // The revoke has reached the object, not yet D1: the route's check in D1 passes, the object refuses.
    await appObject(env, app.id).revokeAuthorization(app.id, '3', authorizationId);
    const res = await createXaa(app.bearer, { event_type: 'dm.received', filter: { user_id: '3' } });
    const problem = expectXProblem(res, 403, 'AuthorizationRevoked');
    expect(problem.detail).toMatch(/user 3's authorization of this app was revoked or replaced meanwhile; if it is live, subscribe again/);
    const rows = await env.DB.prepare('SELECT id, ended_at, end_reason FROM xaa_subscriptions WHERE app_id = ?')
      .bind(app.id)
      .all<{ id: string; ended_at: number | null; end_reason: string | null }>()
      .then((r) => r.results);
    expect(rows).toHaveLength(1);
    expect(rows[0].ended_at).not.toBeNull();
    expect(rows[0].end_reason).toBe('authorization_revoked');
    // The object tombstoned it too, so a later version of it cannot start it.
    const [kept] = await objectRows<{ ended_at: number | null }>(app.id, 'SELECT ended_at FROM xaa_subscriptions WHERE id = ?', rows[0].id);
    expect(kept.ended_at).not.toBeNull();
  });

  // Found by the simulator (seed 40, change weight 6): the move's narrowing overtook the creation and
  // left a placeholder, a revoke could not tell the placeholder was private, and the move's put made it live.
  it("a private subscription whose move overtook its creation, then met a revoke, is refused when the move's version lands", async () => {
    const { app, hook } = await appWithWebhook();
    await grantUser(app.id, '3', ['dm.read']);
    const [{ id: authorizationId }] = await env.DB.prepare('SELECT id FROM authorizations WHERE app_id = ? AND user_id = ?')
      .bind(app.id, '3')
      .all<{ id: string }>()
      .then((r) => r.results);
    const stub = appObject(env, app.id);
    const created = Date.now() - 1000;
    const dm = (id: string, at: number) => record(id, { eventType: 'dm.received', userId: '3', authorizationId, webhookId: hook.id, at });
    // Authorization live: the placeholder learns it is private, and starts.
    await stub.untargetXaaSubscription(app.id, '904', '3', created);
    expect(await stub.putXaaSubscription(app.id, dm('904', created + 1))).toBeNull();
    // Revoked before the narrowing arrived (so the revoke found nothing to end): it never starts.
    await stub.revokeAuthorization(app.id, '3', authorizationId);
    await stub.untargetXaaSubscription(app.id, '905', '3', created);
    expect(await stub.putXaaSubscription(app.id, dm('905', created))).toBe('authorization_not_live'); // the creation
    expect(await stub.putXaaSubscription(app.id, dm('905', created + 1))).toBe('ended'); // the move's version
    const rows = await objectRows<{ id: string; event_type: string; ended_at: number | null }>(
      app.id,
      `SELECT id, event_type, ended_at FROM xaa_subscriptions WHERE id IN ('904', '905') ORDER BY id`,
    );
    // 904 was live and private when the revoke came, so the revoke ended it; 905 ended a placeholder.
    expect(rows.map((r) => [r.id, r.event_type, r.ended_at !== null])).toEqual([
      ['904', 'dm.received', true],
      ['905', '', true],
    ]);
  });

  // Found by the simulator (seed 8, change weight 6 with the spent-release change): the creation overtook
  // the grant and was refused, D1 ended it on that answer, then the move's version found no row and started it.
  it("a private creation that overtook its grant is refused and tombstoned: the move's later version cannot start it", async () => {
    const { app, hook } = await appWithWebhook();
    const stub = appObject(env, app.id);
    const at = Date.now() - 1000;
    const dm = (version: number) =>
      record('906', { eventType: 'dm.received', userId: '7', authorizationId: 'auth-7', webhookId: hook.id, at: version });
    expect(await stub.putXaaSubscription(app.id, dm(at))).toBe('authorization_not_live'); // the grant is still on its way
    await stub.grantAuthorization(app.id, { authorizationId: 'auth-7', userId: '7', scope: 'dm.read', at });
    expect(await stub.putXaaSubscription(app.id, dm(at + 1))).toBe('ended');
    const [row] = await objectRows<{ ended_at: number | null }>(app.id, 'SELECT ended_at FROM xaa_subscriptions WHERE id = ?', '906');
    expect(row.ended_at).not.toBeNull();
  });

  // Found by the simulator (seed 6): two moves read the same version; the first recorded and put its
  // target, then the second's narrowing arrived and took that newer target away, while D1 kept it.
  it("a move's narrowing as of an older version does not take away the target a newer version put", async () => {
    const { app, hook } = await appWithWebhook();
    const stub = appObject(env, app.id);
    const v0 = Date.now() - 1000;
    expect(await stub.putXaaSubscription(app.id, record('908', { at: v0 }))).toBeNull(); // created to the stream only
    await stub.untargetXaaSubscription(app.id, '908', '1', v0); // move 1 (a no-op: no webhook yet)
    expect(await stub.putXaaSubscription(app.id, record('908', { webhookId: hook.id, at: v0 + 1 }))).toBeNull(); // move 1's version
    await stub.untargetXaaSubscription(app.id, '908', '1', v0); // move 2, as of the same old version
    const [row] = await objectRows<{ webhook_id: string | null; version_at: number }>(
      app.id,
      'SELECT webhook_id, version_at FROM xaa_subscriptions WHERE id = ?',
      '908',
    );
    expect(row).toEqual({ webhook_id: hook.id, version_at: v0 + 1 });
    // A narrowing as of the version it holds does take the target away.
    await stub.untargetXaaSubscription(app.id, '908', '1', v0 + 1);
    const [after] = await objectRows<{ webhook_id: string | null }>(app.id, 'SELECT webhook_id FROM xaa_subscriptions WHERE id = ?', '908');
    expect(after.webhook_id).toBeNull();
  });

  it('the drift check finds an XAA subscription the object never got, and one it holds that D1 ended; reconcile fixes both', async () => {
    const { app } = await appWithWebhook();
    const now = Date.now();
    await env.DB.prepare(
      `INSERT INTO xaa_subscriptions (id, app_id, event_type, user_id, created_at, updated_at) VALUES ('904', ?, 'post.create', '4', ?, ?)`,
    )
      .bind(app.id, now, now)
      .run();
    const live = await xaaSubscribe(app.bearer, 'post.create', '5');
    await env.DB.prepare('UPDATE xaa_subscriptions SET ended_at = ? WHERE id = ?').bind(now, live.subscription_id).run();
    const drift = await platform('GET', `/internal/apps/${app.id}/drift`);
    expect(drift.body.data.differences).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'object_behind', table: 'xaa_subscriptions', id: '904' }),
        expect.objectContaining({ kind: 'object_wider', table: 'xaa_subscriptions', id: live.subscription_id }),
      ]),
    );
    await platform('POST', `/internal/apps/${app.id}/reconcile`);
    expect((await platform('GET', `/internal/apps/${app.id}/drift`)).body.data).toMatchObject({ in_step: true, differences: [] });
  });
});

describe('the stream is checked when each line is written', () => {
  it('lines of a private event ingested before a revoke are not written after it, not even by backfill', async () => {
    const { app } = await appWithWebhook();
    await grantUser(app.id, '6', ['dm.read']);
    await xaaSubscribe(app.bearer, 'dm.received', '6');
    await ingest({ id: 'g-dm', type: 'direct_message', message: { id: '61', sender: u('7'), recipient: u('6'), text: 'before revoke' } });
    await platform('DELETE', `/internal/authorizations/${app.id}/6`);
    const lines = await backfilledLines(app.bearer);
    expect(lines.map((l) => l.data.event_type)).toEqual(['oauth.revoke']);
  });

  // Found by the simulator (seed 21, change weight 6): the stream's lines are not dropped by a
  // withdrawal, so a scope taken away and given back must not bring back what was ingested before.
  it('a private line ingested before its scope was taken away is not written after the scope is given back', async () => {
    const { app } = await appWithWebhook();
    await grantUser(app.id, '8', ['dm.read', 'tweet.read']);
    await xaaSubscribe(app.bearer, 'dm.received', '8');
    const dm = (id: string, text: string) =>
      ingest({ id: `g-${id}`, type: 'direct_message', message: { id, sender: u('9'), recipient: u('8'), text } });
    await dm('81', 'before the narrowing');
    await grantUser(app.id, '8', ['tweet.read']);
    await dm('82', 'while narrowed');
    await grantUser(app.id, '8', ['dm.read', 'tweet.read', 'like.read']);
    await dm('83', 'after the scope came back');
    const lines = await backfilledLines(app.bearer);
    expect(lines.map((l) => l.data.payload.direct_message_events?.[0]?.message_create?.message_data?.text ?? l.data.event_type)).toEqual([
      'after the scope came back',
    ]);
  });
});

/** The lines a stream connected with five minutes of backfill writes within 1.5 s, parsed. */
type StreamLine = {
  data: { event_type: string; payload: { direct_message_events?: { message_create?: { message_data?: { text?: string } } }[] } };
};

async function backfilledLines(bearer: string): Promise<StreamLine[]> {
  const res = await exports.default.fetch('http://127.0.0.1:8787/2/activity/stream?backfill_minutes=5', {
    headers: { authorization: `Bearer ${bearer}` },
  });
  const reader = res.body!.getReader();
  let text = '';
  const reading = (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      text += new TextDecoder().decode(value);
    }
  })();
  await sleep(1500);
  await reader.cancel();
  await reading.catch(() => {});
  return text
    .split('\r\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as StreamLine);
}
