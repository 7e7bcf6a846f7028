import { createApp } from './app';
import { keepAudienceIndex } from './delivery/audience-index-upkeep';
import { revalidateDueWebhooks } from './delivery/cron';
import { purgeActivities, retryFanOuts } from './delivery/fan-out';
import { consumeDeliveries } from './delivery/queue-consumer';
import { reconcileDueApps } from './delivery/reconcile';
import { purgeExpiredOAuthRecords } from './oauth/tokens';
import { countWork } from './observability/work-counters';

export { AppDeliveryObject } from './app-object/app-delivery-object';
export { ActivityKeysObject } from './fan-out-index/activity-keys-object';
export { AudienceIndexObject } from './fan-out-index/audience-index-object';
export { RateLimiterObject } from './limits/rate-limiter-object';

const app = createApp();
/** The trigger that runs CRC re-validation (wrangler.toml); the other one, every minute, runs the sweeps. */
const CRC_CRON = '*/30 * * * *';

export default {
  fetch(request, env, ctx) {
    countWork('worker_invocations');
    return app.fetch(request, env, ctx);
  },
  async queue(batch, env) {
    countWork('worker_invocations');
    await consumeDeliveries(batch, env);
  },
  async scheduled(controller, env, ctx) {
    const now = controller.scheduledTime;
    if (controller.cron === CRC_CRON) {
      ctx.waitUntil(
        Promise.all([revalidateDueWebhooks(env, now), reconcileDueApps(env, now)]).then(([crc, reconcile]) =>
          console.log('cron', JSON.stringify({ crc, reconcile })),
        ),
      );
      return;
    }
    ctx.waitUntil(
      Promise.all([
        retryFanOuts(env, now),
        purgeActivities(env, now),
        purgeExpiredOAuthRecords(env, now),
        keepAudienceIndex(env, now),
      ]).then(([fanOuts, purged, oauthForgotten, audience]) => {
        if (fanOuts.retried > 0 || purged > 0) console.log('cron fan-out', JSON.stringify({ ...fanOuts, activitiesForgotten: purged }));
        if (audience.added > 0 || audience.removed > 0) console.log('cron audience index', JSON.stringify(audience));
        if (oauthForgotten > 0) console.log('cron oauth', JSON.stringify({ codesAndTokensForgotten: oauthForgotten }));
      }),
    );
  },
} satisfies ExportedHandler<Env>;
