import { runInDurableObject } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { forgetMirrorCache } from '../../src/app-object/storage/mirror-cache';
import { forgetOutboxCache } from '../../src/app-object/storage/outbox-cache';
import { appObject } from '../../src/delivery/app-objects';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `yyyymmddhhmm` (UTC) of a time, as X's replay endpoints take it. */
export const replayDate = (ms: number) => new Date(ms).toISOString().replace(/[-T:]/g, '').slice(0, 12);

/**
 * Moves one app's whole history `ms` into the past, in D1 and in its object alike, so tests can ask
 * about windows that lie in the past (replay dates have minute granularity and must not be future).
 * A sharded app's every object is moved (`shards`: its delivery_shards).
 */
export async function ageApp(appId: string, ms: number, shards = 1) {
  await env.DB.batch([
    env.DB.prepare('UPDATE app_status_history SET at = at - ? WHERE app_id = ?').bind(ms, appId),
    env.DB.prepare('UPDATE webhooks SET created_at = created_at - ? WHERE app_id = ?').bind(ms, appId),
    env.DB.prepare('UPDATE subscriptions SET created_at = created_at - ?, ended_at = ended_at - ? WHERE app_id = ?').bind(ms, ms, appId),
    env.DB.prepare('UPDATE authorizations SET created_at = created_at - ?, ended_at = ended_at - ? WHERE app_id = ?').bind(ms, ms, appId),
  ]);
  for (let shard = 0; shard < shards; shard++) await ageObject(appObject(env, appId, shard), ms);
}

async function ageObject(object: ReturnType<typeof appObject>, ms: number) {
  await runInDurableObject(object, (_o, state) => {
    const sql = state.storage.sql;
    sql.exec('UPDATE webhooks SET created_at = created_at - ?', ms);
    sql.exec('UPDATE subscriptions SET started_at = started_at - ?, ended_at = ended_at - ?', ms, ms);
    sql.exec('UPDATE authorizations SET started_at = started_at - ?, ended_at = ended_at - ?', ms, ms);
    sql.exec('UPDATE messages SET created_at = created_at - ?', ms);
    sql.exec('UPDATE ledger SET at = at - ?, ingested_at = ingested_at - ?', ms, ms);
    sql.exec('UPDATE events SET ingested_at = ingested_at - ?', ms);
    forgetMirrorCache(sql); // mirror rows changed behind MirrorStore's back
    forgetOutboxCache(sql); // and messages behind Outbox's
  });
}
