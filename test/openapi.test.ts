import { describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import xDocument from './fixtures/x-openapi-aaa.json';
import xActivityDocument from './fixtures/x-openapi-activity.json';
import { call } from './support/http';

/**
 * /openapi.json and /docs. The document's validity (a third-party validator), its agreement with
 * X's own schemas and a generated client calling the service are checked in Node, against a running
 * service: test/e2e/openapi.e2e.test.mjs (the validators compile schemas to code, which workerd forbids).
 */

/**
 * Routes that are deliberately NOT in /openapi.json, each with why. Only HTML pages belong here;
 * every JSON endpoint must be declared. `METHOD /path` with Hono's `:param` syntax; a path ending in
 * `/*` stands for everything under it.
 */
const NOT_IN_DOCUMENT: Record<string, string> = {
  'GET /portal': 'the developer portal (docs/portal.md): HTML pages for a person, over the API operations documented here',
  'GET /portal/*': 'the developer portal: HTML pages',
  'POST /portal/*': "the developer portal's forms (session cookie and CSRF token, not an API credential)",
  'GET /console': 'the operator console (docs/portal.md): HTML pages for a person, over the /internal operations documented here',
  'GET /console/*': 'the operator console: HTML pages',
  'POST /console/*': "the operator console's forms (session cookie and CSRF token, not an API credential)",
};

const HOW_TO_DECLARE = `Declare each route in the OpenAPI document:
  1. write its contract with createRoute({ method, path, operationId, tags, summary, security, request, responses })
     in src/routes/contracts/<router>.ts (see src/routes/contracts/webhooks.ts; common.ts has SECURITY, problems(),
     json(), jsonBody(), htmlPage(), redirect()); put its middleware in the contract's \`middleware\` list;
  2. register it on the router with router.openapi(contract, handler), the router made by apiRouter()
     from src/http/validation.ts (not .get/.post on a plain Hono);
  3. if the contract uses a new tag, add the tag to TAGS in src/openapi/document.ts.
An HTML page that should stay out of the document instead goes in NOT_IN_DOCUMENT in test/openapi.test.ts, with the reason.`;

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, { type: string }> };
  servers: { url: string }[];
};
type Operation = {
  operationId: string;
  tags: string[];
  security?: Record<string, string[]>[];
  parameters?: { in: string; name: string }[];
  requestBody?: { content: Record<string, unknown> };
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
};

const HTTP_METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const honoPath = (openApiPath: string) => openApiPath.replace(/\{(\w+)\}/g, ':$1');

/** Every route the app answers, as `METHOD /path` (middleware registered with `use` excluded). */
function registeredRoutes(): string[] {
  const routes = new Set<string>();
  for (const { method, path } of createApp().routes) {
    // `use(...)` middleware is ALL on a wildcard; anything else answers requests, so it must be declared.
    if (method === 'ALL' && path.endsWith('*')) continue;
    const clean = path.length > 1 ? path.replace(/\/$/, '') : path;
    routes.add(`${method} ${clean}`);
  }
  return [...routes].sort();
}

function documentedRoutes(doc: Doc): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.keys(item)
      .filter((m) => HTTP_METHODS.has(m.toUpperCase()))
      .map((m) => `${m.toUpperCase()} ${honoPath(path)}`),
  );
}

const excludedBy = (route: string) =>
  Object.keys(NOT_IN_DOCUMENT).find((entry) => {
    if (entry === route) return true;
    const [method, path] = entry.split(' ');
    return path.endsWith('/*') && route.startsWith(`${method} ${path.slice(0, -1)}`);
  });

async function fetchDocument(): Promise<Doc> {
  const res = await call('GET', '/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return res.body;
}

const operations = (doc: Doc) =>
  Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ method, path, op })));

describe('GET /openapi.json', () => {
  it('declares every route the app answers (or the route is explicitly excluded), and nothing it does not answer', async () => {
    const doc = await fetchDocument();
    const documented = new Set(documentedRoutes(doc));
    const undeclared = registeredRoutes().filter((route) => !documented.has(route) && !excludedBy(route));
    expect(
      undeclared,
      `${undeclared.length} route(s) missing from /openapi.json:\n  ${undeclared.join('\n  ')}\n${HOW_TO_DECLARE}`,
    ).toEqual([]);

    const registered = new Set(registeredRoutes());
    const phantom = [...documented].filter((route) => !registered.has(route));
    expect(phantom, 'documented but not answered by the app').toEqual([]);
    const stale = Object.keys(NOT_IN_DOCUMENT).filter(
      (entry) => documented.has(entry) || ![...registered].some((route) => excludedBy(route) === entry),
    );
    expect(stale, 'NOT_IN_DOCUMENT entries that are documented after all, or match no route: remove them').toEqual([]);
  });

  it('is OpenAPI 3.1, served for the caller’s origin, with unique operation ids', async () => {
    const doc = await fetchDocument();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.servers).toEqual([{ url: 'http://127.0.0.1:8787' }]);
    const ids = operations(doc).map(({ op }) => op.operationId);
    expect(ids.filter((id) => !id)).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('names the credentials of every operation, from the schemes it defines', async () => {
    const doc = await fetchDocument();
    const schemes = doc.components.securitySchemes;
    expect(Object.keys(schemes).sort()).toEqual(['BearerToken', 'ConsumerKeySecret', 'OAuth2UserToken', 'PlatformToken', 'UserSession']);
    expect(schemes.OAuth2UserToken).toMatchObject({
      type: 'oauth2',
      flows: {
        authorizationCode: {
          authorizationUrl: 'http://127.0.0.1:8787/i/oauth2/authorize',
          tokenUrl: 'http://127.0.0.1:8787/2/oauth2/token',
          scopes: expect.objectContaining({ 'dm.read': expect.any(String) }),
        },
      },
    });
    for (const { method, path, op } of operations(doc)) {
      expect(op.security, `${method} ${path} says who may call it`).toBeDefined();
      for (const way of op.security!) for (const name of Object.keys(way)) expect(Object.keys(schemes)).toContain(name);
    }
    const security = (method: string, path: string) => doc.paths[path][method].security;
    expect(security('get', '/2/webhooks')).toEqual([{ BearerToken: [] }, { OAuth2UserToken: [] }]);
    expect(security('post', '/2/account_activity/webhooks/{webhook_id}/subscriptions/all')).toEqual([{ OAuth2UserToken: [] }]);
    expect(security('post', '/internal/apps')).toEqual([{ PlatformToken: [] }]);
    expect(security('post', '/oauth2/token')).toEqual([{ ConsumerKeySecret: [] }]);
    expect(security('get', '/openapi.json')).toEqual([]);
  });

  it('documents the error answers: each credentialed JSON operation its 401, each with input its 400, as RFC 7807 problems', async () => {
    const doc = await fetchDocument();
    expect(doc.components.schemas.Problem).toMatchObject({ required: expect.arrayContaining(['type', 'title', 'status', 'detail']) });
    for (const { method, path, op } of operations(doc)) {
      const where = `${method.toUpperCase()} ${path}`;
      const statuses = Object.keys(op.responses);
      const isPage = Object.values(op.responses).some((r) => r.content?.['text/html']);
      if (op.security?.length && !op.security.some((way) => Object.keys(way).length === 0) && !isPage) {
        expect(statuses, `${where} documents its 401`).toContain('401');
      }
      const takesInput = op.requestBody || op.parameters?.some((p) => p.in === 'path' || p.in === 'query');
      if (takesInput && !isPage && path !== '/problems/{kind}') expect(statuses, `${where} documents its 400`).toContain('400');
      expect(statuses, `${where} documents its other errors`).toContain('default');
      for (const [status, response] of Object.entries(op.responses)) {
        if ((status !== 'default' && Number(status) < 400) || isPage) continue;
        const problem = response.content?.['application/problem+json']?.schema;
        expect(problem?.$ref, `${where} ${status} is a problem body`).toBe('#/components/schemas/Problem');
      }
    }
  });

  it('describes request bodies with the schemas the routes validate with, including those a handler parses itself', async () => {
    const doc = await fetchDocument();
    // Request-only schemas are inline (so generated clients keep fields with a default optional).
    const body = (path: string, media = 'application/json') =>
      (doc.paths[path].post.requestBody!.content[media] as { schema: Record<string, unknown> }).schema;
    expect(body('/2/webhooks')).toMatchObject({
      title: 'CreateWebhookRequest',
      required: ['url'],
      properties: { url: { type: 'string' } },
    });
    expect(body('/internal/apps')).toMatchObject({ required: ['name'], properties: { max_webhooks: { default: 5 } } });
    expect(doc.components.schemas.CreateWebhookRequest).toBeUndefined();
    // The ingest batch is parsed by its handler; its schema (with the activity types inside) is still there.
    expect(body('/internal/activity')).toMatchObject({
      anyOf: [{ $ref: '#/components/schemas/Activity' }, { $ref: '#/components/schemas/ActivityBatch' }],
    });
    expect(JSON.stringify(doc.components.schemas.Activity)).toContain('tweet_create');
    expect(body('/oauth2/token', 'application/x-www-form-urlencoded')).toMatchObject({ required: ['grant_type'] });
    expect(JSON.stringify(doc)).not.toContain('#/$defs/');
  });

  it('is the same document for every caller and the same bytes on each call', async () => {
    const [a, b] = await Promise.all([call('GET', '/openapi.json'), call('GET', '/openapi.json')]);
    expect(JSON.stringify(a.body)).toBe(JSON.stringify(b.body));
    expect(a.headers.get('access-control-allow-origin')).toBe('*');
  });
});

/** Fields of X's answers this service never sends, and why. */
const NOT_SENT_X_FIELDS: Record<string, string> = {
  errors: 'X’s partial errors next to `data`; here an operation either succeeds or answers with a problem body',
};

type JsonSchema = { $ref?: string; type?: string | string[]; properties?: Record<string, JsonSchema>; items?: JsonSchema };
const resolve = (doc: { components: { schemas: Record<string, unknown> } }, schema: JsonSchema): JsonSchema => {
  let s = schema;
  while (s.$ref) s = doc.components.schemas[s.$ref.split('/').pop()!] as JsonSchema;
  return s;
};
const jsonType = (s: JsonSchema) => [s.type ?? []].flat().find((t) => t !== 'null');

type XDoc = { components: { schemas: Record<string, unknown> } };

/** Where our schema lacks a field of X's, or gives it another JSON type: `path: what`. */
function differences(x: JsonSchema, ours: JsonSchema, doc: Doc, path: string, xDoc: XDoc = xDocument as never): string[] {
  const xs = resolve(xDoc, x);
  const os = resolve(doc, ours);
  if (xs.items) {
    return jsonType(os) === 'array' && os.items ? differences(xs.items, os.items, doc, `${path}[]`, xDoc) : [`${path}: not an array`];
  }
  return Object.entries(xs.properties ?? {}).flatMap(([name, field]) => {
    const where = `${path}.${name}`;
    const mine = os.properties?.[name];
    if (!mine) return path === '' && name in NOT_SENT_X_FIELDS ? [] : [`${where}: missing`];
    const [xf, of] = [resolve(xDoc, field), resolve(doc, mine)];
    // X leaves some fields' type open (the stream's payload is one of many shapes, by event type).
    if (jsonType(xf) !== undefined && jsonType(xf) !== jsonType(of)) return [`${where}: ${jsonType(xf)} in X, ${jsonType(of)} here`];
    return xf.properties || xf.items ? differences(xf, of, doc, where, xDoc) : [];
  });
}

describe("the X-compatible operations against X's own OpenAPI (test/fixtures/x-openapi-aaa.json)", () => {
  it('has each of X’s operations at the same path and method, with X’s operationId, every field of X’s answer and its type', async () => {
    const doc = await fetchDocument();
    const xPaths = xDocument.paths as Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
    const found: string[] = [];
    for (const [path, item] of Object.entries(xPaths)) {
      for (const [method, xOp] of Object.entries(item)) {
        const ours = doc.paths[path]?.[method];
        expect(ours?.operationId, `${method.toUpperCase()} ${path}`).toBe(xOp.operationId);
        const schemaOf = (op: { responses: Record<string, unknown> }) =>
          (op.responses['200'] as { content: Record<string, { schema: JsonSchema }> }).content['application/json'].schema;
        expect(differences(schemaOf(xOp), schemaOf(ours), doc, ''), xOp.operationId).toEqual([]);
        found.push(xOp.operationId);
      }
    }
    expect(found).toHaveLength(10);
  });
});

describe("the X Activity API against X's own OpenAPI (test/fixtures/x-openapi-activity.json)", () => {
  it('has each of X’s activity operations at the same path and method, with X’s operationId, every field of X’s answer and its type', async () => {
    const doc = await fetchDocument();
    const xPaths = xActivityDocument.paths as Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
    const found: string[] = [];
    for (const [path, item] of Object.entries(xPaths)) {
      for (const [method, xOp] of Object.entries(item)) {
        const ours = doc.paths[path]?.[method];
        expect(ours?.operationId, `${method.toUpperCase()} ${path}`).toBe(xOp.operationId);
        const schemaOf = (op: { responses: Record<string, unknown> }) =>
          (op.responses['200'] as { content: Record<string, { schema: JsonSchema }> }).content['application/json'].schema;
        // Inside the stream's `includes` are X's whole User, Post and Media objects: the end-to-end test
        // validates real ones against X's schemas (test/e2e/xaa.e2e.test.mjs); here the envelope's fields count.
        const gaps = differences(schemaOf(xOp), schemaOf(ours), doc, '', xActivityDocument as never).filter(
          (gap) => !/^\.data\.includes\.\w+\[\]\./.test(gap),
        );
        expect(gaps, xOp.operationId).toEqual([]);
        found.push(xOp.operationId);
      }
    }
    expect(found).toHaveLength(6);
  });
});

describe('GET /docs', () => {
  it('renders every operation of the document on one page, with no script and nothing from elsewhere', async () => {
    const doc = await fetchDocument();
    const res = await call('GET', '/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = res.body as string;
    for (const { op } of operations(doc)) expect(html).toContain(`id="${op.operationId}"`);
    for (const name of Object.keys(doc.components.schemas)) expect(html).toContain(`id="schema-${name}"`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|\bsrc=/i);
    expect(html).not.toMatch(/(href|action)="(https?:)?\/\//i);
    expect(html.length).toBeLessThan(200_000);

    const csp = res.headers.get('content-security-policy')!;
    expect(csp).toMatch(/^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'; /);
    expect(csp).not.toMatch(/script-src|https?:|\*|unsafe/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('is the reference of the service’s own problem types: a missing page is still a problem body', async () => {
    const res = await call('GET', '/docs/nope');
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});
