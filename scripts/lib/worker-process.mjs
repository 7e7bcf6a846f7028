// Child-process entry for startServiceProcess: runs the service with the inspector off until signalled.
import { startFastService } from './service.mjs';

const required = (/** @type {string} */ name) => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set (startServiceProcess sets it)`);
  return value;
};

const service = await startFastService({
  stateDir: required('AAE_STATE_DIR'),
  port: Number(required('AAE_PORT')),
  vars: JSON.parse(process.env.AAE_VARS ?? '{}'),
  platformToken: required('AAE_PLATFORM_TOKEN'),
});
process.stdout.write(`READY ${service.baseUrl}\n`);
process.on('SIGTERM', async () => {
  await service.stop();
  process.exit(0);
});
setInterval(() => {}, 1 << 30);
