// /openapi.json as tools read it, against the running service: a third-party OpenAPI validator, X's
// own schemas for the X-compatible answers, and a client generated from the document calling the API.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import ajvModule from 'ajv';
import ajv2020Module from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { client } from '../../scripts/lib/client.mjs';
import { startReceiver } from '../../scripts/lib/receiver.mjs';
import { ROOT, startFastService } from '../../scripts/lib/service.mjs';

/** X's own schemas of these operations' answers: an unchanged extract of X's OpenAPI document. */
// CommonJS packages: their export is also under `.default`, which is what TypeScript sees from ESM.
const Ajv = ajvModule.default;
const Ajv2020 = ajv2020Module.default;
const addFormats = formatsModule.default;

const X_DOCUMENT = JSON.parse(readFileSync(join(ROOT, 'test', 'fixtures', 'x-openapi-aaa.json'), 'utf8'));

const stateDir = mkdtempSync(join(tmpdir(), 'aae-openapi-'));
let service;
let receiver;
let document;

before(async () => {
  service = await startFastService({ stateDir });
  receiver = await startReceiver();
  const res = await fetch(`${service.baseUrl}/openapi.json`);
  assert.equal(res.status, 200);
  document = await res.json();
});

after(async () => {
  await receiver?.close();
  await service?.stop();
  rmSync(stateDir, { recursive: true, force: true });
});

test('the document is valid OpenAPI 3.1 to a third-party validator, and so is a broken copy not', async () => {
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  assert.deepEqual(result.errors, undefined, JSON.stringify(result.errors, null, 2));
  assert.equal(result.valid, true);
  assert.equal(validator.version, '3.1');

  // The validator is not a rubber stamp: a response without its description is refused.
  const broken = structuredClone(document);
  delete broken.paths['/2/webhooks'].get.responses['200'].description;
  assert.equal((await new Validator().validate(broken)).valid, false);
});

/** JSON pointer to a schema inside a document. */
const pointer = (...parts) => `#/${parts.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;

/**
 * Checks real answers of the X-compatible operations with ajv against both X's schema of the
 * operation (same path, method and operationId) and ours.
 */
function answerChecker() {
  // X's problem schemas use discriminator mappings, which ajv does not read; the oneOf still applies.
  const xAjv = new Ajv({ strict: false, allErrors: true });
  addFormats(xAjv);
  xAjv.addSchema(X_DOCUMENT, 'x');
  const ourAjv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ourAjv);
  ourAjv.addSchema(document, 'ours');
  const checked = new Set();
  return {
    checked,
    /** @param {string} method @param {string} path a path template @param {{ status: number, body: unknown }} answer */
    check(method, path, answer) {
      assert.equal(answer.status, 200, `${method} ${path}: ${JSON.stringify(answer.body)}`);
      const xOperation = X_DOCUMENT.paths[path]?.[method];
      const ourOperation = document.paths[path]?.[method];
      assert.ok(xOperation, `X has ${method} ${path}`);
      assert.ok(ourOperation, `we document ${method} ${path}`);
      assert.equal(ourOperation.operationId, xOperation.operationId, `${method} ${path} has X's operationId`);
      const at = pointer('paths', path, method, 'responses', '200', 'content', 'application/json', 'schema');
      const xValidate = xAjv.getSchema(`x${at}`);
      const ourValidate = ourAjv.getSchema(`ours${at}`);
      if (!xValidate || !ourValidate) throw new Error(`no 200 JSON schema for ${method} ${path}`);
      assert.ok(xValidate(answer.body), `${xOperation.operationId} fits X's schema: ${JSON.stringify(xValidate.errors)}`);
      assert.ok(ourValidate(answer.body), `${xOperation.operationId} fits our document: ${JSON.stringify(ourValidate.errors)}`);
      checked.add(xOperation.operationId);
    },
    /** Whether X's schema of the operation's answer accepts `body` (to show the check can fail). */
    xAccepts(method, path, body) {
      const validate = xAjv.getSchema(`x${pointer('paths', path, method, 'responses', '200', 'content', 'application/json', 'schema')}`);
      if (!validate) throw new Error(`X has no 200 JSON schema for ${method} ${path}`);
      return validate(body);
    },
  };
}

test("the X-compatible answers fit X's own schemas and ours, operation by operation", async () => {
  const api = client(service.baseUrl, service.platformToken);
  const app = await api.activeApp('x-shapes');
  receiver.trustApp('x-shapes', app.consumerSecret);
  const asApp = (method, path, body) => api.call(method, path, { token: app.bearer, body });
  const { check, checked, xAccepts } = answerChecker();
  assert.equal(xAccepts('get', '/2/webhooks', { data: [{ id: '1', valid: 'yes' }] }), false, 'X’s schema is strict enough to fail');

  check('get', '/2/webhooks', await asApp('GET', '/2/webhooks'));
  const created = await asApp('POST', '/2/webhooks', { url: receiver.url('/x-shapes') });
  check('post', '/2/webhooks', created);
  const webhookId = created.body.data.id;
  check('get', '/2/webhooks', await asApp('GET', '/2/webhooks'));
  check('put', '/2/webhooks/{webhook_id}', await asApp('PUT', `/2/webhooks/${webhookId}`));

  const userToken = await api.grant(app, '2244994945', ['tweet.read', 'users.read', 'dm.read']);
  const asUser = (method, path, body) => api.call(method, path, { token: userToken, body });
  const subscriptionPath = '/2/account_activity/webhooks/{webhook_id}/subscriptions/all';
  const subscription = `/2/account_activity/webhooks/${webhookId}/subscriptions/all`;
  check('post', subscriptionPath, await asUser('POST', subscription, {}));
  check('get', subscriptionPath, await asUser('GET', subscription));
  const list = await asApp('GET', `${subscription}/list`);
  check('get', `${subscriptionPath}/list`, list);
  assert.equal(list.body.data.subscriptions[0].user_id, '2244994945');
  check('get', '/2/account_activity/subscriptions/count', await asApp('GET', '/2/account_activity/subscriptions/count'));

  // X's replay window: yyyymmddhhmm, UTC; the last hour.
  const minute = (ms) => new Date(ms).toISOString().replace(/[-T:]/g, '').slice(0, 12);
  const now = Date.now();
  const window = { webhook_id: webhookId, from_date: minute(now - 3_600_000), to_date: minute(now - 60_000) };
  check('post', '/2/webhooks/replay', await asApp('POST', '/2/webhooks/replay', window));

  check(
    'delete',
    '/2/account_activity/webhooks/{webhook_id}/subscriptions/{user_id}/all',
    await asApp('DELETE', `/2/account_activity/webhooks/${webhookId}/subscriptions/2244994945/all`),
  );
  check('delete', '/2/webhooks/{webhook_id}', await asApp('DELETE', `/2/webhooks/${webhookId}`));

  // Every operation of X's extract was exercised: a new one in the fixture needs a call here.
  const inX = Object.values(X_DOCUMENT.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
  assert.deepEqual([...checked].sort(), [...new Set(inX)].sort());
});

test('error answers are the ones documented: status, media type and Problem body', async () => {
  const api = client(service.baseUrl, service.platformToken);
  const app = await api.activeApp('errors');
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(document, 'ours');
  /** @type {[string, string, string, import('../../scripts/lib/client.mjs').CallOptions, number][]} */
  const cases = [
    ['get', '/2/webhooks', '/2/webhooks', {}, 401],
    ['post', '/2/webhooks', '/2/webhooks', { token: app.bearer, body: { url: 42 } }, 400],
    ['put', '/2/webhooks/{webhook_id}', '/2/webhooks/not-a-number', { token: app.bearer }, 400],
    ['delete', '/2/webhooks/{webhook_id}', '/2/webhooks/1', { token: app.bearer }, 404],
    ['post', '/internal/apps', '/internal/apps', { token: service.platformToken, body: { name: '' } }, 400],
    ['get', '/problems/{kind}', '/problems/no-such-kind', {}, 404],
    ['post', '/oauth2/token', '/oauth2/token', { basic: [app.consumerKey, 'wrong'], form: { grant_type: 'client_credentials' } }, 401],
  ];
  for (const [method, template, path, options, status] of cases) {
    const res = await api.call(method.toUpperCase(), path, options);
    assert.equal(res.status, status, `${method} ${path}: ${res.text}`);
    const documented = document.paths[template][method].responses[String(status)];
    assert.ok(documented, `${method} ${template} documents ${status}`);
    const media = res.headers.get('content-type')?.split(';')[0] ?? '';
    assert.ok(documented.content?.[media], `${method} ${template} ${status} documents ${media}`);
    const validate = ajv.getSchema(`ours${pointer('paths', template, method, 'responses', String(status), 'content', media, 'schema')}`);
    assert.ok(validate?.(res.body), `${method} ${path} ${status} fits: ${JSON.stringify(validate?.errors)} ${res.text}`);
  }
});

/**
 * The client code a developer would write with openapi-fetch and the types openapi-typescript
 * generates from /openapi.json. It is type-checked against the generated types (a wrong path, a
 * missing parameter or a misspelt field fails), then run against the service.
 */
const CLIENT_SOURCE = `
import createClient from 'openapi-fetch';
import type { paths } from './schema';

export async function run(baseUrl: string, platformToken: string, receiverUrl: string, trust: (consumerSecret: string) => void) {
  const platform = createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${platformToken}\` } });
  const created = await platform.POST('/internal/apps', { body: { name: 'generated client' } });
  if (!created.data) throw new Error(\`create app: \${created.response.status} \${JSON.stringify(created.error)}\`);
  const app = created.data.data;
  const approved = await platform.POST('/internal/apps/{app_id}/approve', { params: { path: { app_id: app.id } } });
  if (approved.data?.data.status !== 'active') throw new Error(\`approve: \${JSON.stringify(approved.error)}\`);
  const secret = created.data.data.consumer_secret;
  trust(secret); // the receiver answers the CRC with the app's secret

  const token = await createClient<paths>({ baseUrl }).POST('/oauth2/token', {
    headers: { authorization: \`Basic \${btoa(\`\${app.consumer_key}:\${secret}\`)}\` },
    body: { grant_type: 'client_credentials' },
  });
  if (!token.data) throw new Error(\`token: \${JSON.stringify(token.error)}\`);
  const asApp = createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${token.data.access_token}\` } });

  const before = await asApp.GET('/2/webhooks');
  const webhook = await asApp.POST('/2/webhooks', { body: { url: receiverUrl } });
  if (!webhook.data) throw new Error(\`create webhook: \${JSON.stringify(webhook.error)}\`);
  const webhookId = webhook.data.data.id;
  const after = await asApp.GET('/2/webhooks');

  const grant = await platform.POST('/internal/authorizations', {
    body: { app_id: app.id, user_id: '783214', scopes: ['tweet.read', 'users.read'] },
  });
  if (!grant.data) throw new Error(\`grant: \${JSON.stringify(grant.error)}\`);
  const asUser = createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${grant.data.data.access_token}\` } });
  const subscribed = await asUser.POST('/2/account_activity/webhooks/{webhook_id}/subscriptions/all', {
    params: { path: { webhook_id: webhookId } },
    body: {},
  });
  const list = await asApp.GET('/2/account_activity/webhooks/{webhook_id}/subscriptions/all/list', {
    params: { path: { webhook_id: webhookId } },
  });
  const count = await asApp.GET('/2/account_activity/subscriptions/count');
  const missing = await asApp.DELETE('/2/webhooks/{webhook_id}', { params: { path: { webhook_id: '1' } } });
  return {
    appId: app.id,
    webhooksBefore: before.data?.data ?? null,
    webhooksAfter: after.data?.data.map((w) => w.id) ?? null,
    webhookId,
    webhookValid: webhook.data.data.valid,
    subscribed: subscribed.data?.data.subscribed ?? null,
    subscribers: list.data?.data.subscriptions.map((s) => s.user_id) ?? null,
    count: count.data?.data.subscriptions_count_all ?? null,
    missing: { status: missing.response.status, type: missing.error?.type ?? null },
  };
}
`;

/** Type-checks the generated client's directory with the project's TypeScript; the diagnostics as text. */
function typeCheck(dir) {
  const program = ts.createProgram([join(dir, 'client.ts')], {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ES2022,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2023.d.ts', 'lib.dom.d.ts'],
    types: [],
    skipLibCheck: true,
  });
  const diagnostics = ts.getPreEmitDiagnostics(program);
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => dir,
    getNewLine: () => '\n',
  });
}

test('a client generated from the document (openapi-typescript + openapi-fetch) creates an app, webhooks and subscriptions', async () => {
  // Inside the project, so the generated code finds openapi-fetch in its node_modules.
  mkdirSync(join(ROOT, '.test-results'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, '.test-results', 'openapi-client-'));
  try {
    writeFileSync(join(dir, 'schema.d.ts'), astToString(await openapiTS(document)));
    writeFileSync(join(dir, 'client.ts'), CLIENT_SOURCE);
    assert.equal(typeCheck(dir), '', 'the client type-checks against the generated types');

    // A deliberate mistake is caught by the generated types: they are not `any`.
    writeFileSync(join(dir, 'client.ts'), CLIENT_SOURCE.replace('body: { url: receiverUrl }', 'body: { uri: receiverUrl }'));
    assert.match(typeCheck(dir), /uri/);

    const js = ts.transpileModule(CLIENT_SOURCE, { compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 } });
    writeFileSync(join(dir, 'client.mjs'), js.outputText);
    const { run } = await import(pathToFileURL(join(dir, 'client.mjs')).href);
    const result = await run(service.baseUrl, service.platformToken, receiver.url('/generated'), (secret) =>
      receiver.trustApp('generated', secret),
    );
    assert.deepEqual(result.webhooksBefore, []);
    assert.deepEqual(result.webhooksAfter, [result.webhookId]);
    assert.equal(result.webhookValid, true);
    assert.equal(result.subscribed, true);
    assert.deepEqual(result.subscribers, ['783214']);
    assert.equal(result.count, '1');
    assert.equal(result.missing.status, 404);
    assert.match(result.missing.type, /\/problems\/not-found$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('/docs is small and quick, and carries every operation of the document', async () => {
  const started = performance.now();
  const res = await fetch(`${service.baseUrl}/docs`);
  const html = await res.text();
  const firstMs = performance.now() - started;
  const times = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await (await fetch(`${service.baseUrl}/docs`)).arrayBuffer();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const median = times[10];
  console.log(`/docs: ${html.length} bytes; first ${firstMs.toFixed(1)} ms, then median ${median.toFixed(1)} ms over 20`);
  assert.equal(res.status, 200);
  for (const item of Object.values(document.paths))
    for (const op of Object.values(item)) assert.ok(html.includes(`id="${op.operationId}"`));
  assert.ok(html.length < 200_000, `${html.length} bytes`);
  assert.ok(median < 100, `median ${median} ms`);
});
