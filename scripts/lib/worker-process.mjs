// Child-process entry for startServiceProcess: runs the service with the inspector off until signalled.
import { startFastService } from './service.mjs';

const service = await startFastService({
  stateDir: process.env.AAE_STATE_DIR,
  port: Number(process.env.AAE_PORT),
  vars: JSON.parse(process.env.AAE_VARS ?? '{}'),
  platformToken: process.env.AAE_PLATFORM_TOKEN,
});
process.stdout.write(`READY ${service.baseUrl}\n`);
process.on('SIGTERM', async () => {
  await service.stop();
  process.exit(0);
});
setInterval(() => {}, 1 << 30);
