import { createApp } from './app';
import { revalidateDueWebhooks } from './delivery/cron';
import { consumeDeliveries } from './delivery/queue-consumer';

export { AppDeliveryObject } from './app-object/app-delivery-object';
export { RateLimiterObject } from './limits/rate-limiter-object';

const app = createApp();

export default {
  fetch: app.fetch,
  async queue(batch, env) {
    await consumeDeliveries(batch, env);
  },
  async scheduled(controller, env, ctx) {
    ctx.waitUntil(revalidateDueWebhooks(env, controller.scheduledTime).then((report) => console.log('cron CRC', JSON.stringify(report))));
  },
} satisfies ExportedHandler<Env>;
