import type { OpenAPIHono } from '@hono/zod-openapi';
import { z } from 'zod';
import pkg from '../../package.json';
import type { HonoEnv } from '../http/types';
import { HANDLER_PARSED_SCHEMAS } from '../routes/contracts/common';
import { SECURITY_SCHEMES } from './security-schemes';

export type OpenApiDocument = ReturnType<OpenAPIHono<HonoEnv>['getOpenAPI31Document']>;

/** The groups of the reference, in reading order (each contract names its tag). */
export const TAGS = [
  { name: 'Webhooks', description: 'Register, validate and remove the app’s webhooks; replay; rotate signing secrets. X-compatible.' },
  { name: 'Account Activity', description: 'Subscribe users to the app’s webhooks, list and count them, replay. X-compatible.' },
  {
    name: 'X Activity API',
    description: 'Typed subscriptions (one event type, one filter) delivered to a webhook and/or the persistent stream. X-compatible.',
  },
  { name: 'Delivery log', description: 'What was sent to a webhook, attempt by attempt, from the app’s ledger.' },
  { name: 'OAuth 2.0 (app)', description: 'App-only bearer tokens (client credentials) and their invalidation.' },
  { name: 'OAuth 2.0 (user)', description: 'User tokens (authorization code with PKCE), refresh, revocation, the app’s redirect URIs.' },
  { name: 'Platform: apps', description: 'The operator’s side (platform token): register, review, approve, suspend apps.' },
  { name: 'Platform: authorizations', description: 'Grant and revoke a user’s authorization of an app.' },
  { name: 'Platform: activity', description: 'Ingest the platform’s user activity for delivery.' },
  { name: 'Platform: users', description: 'A user’s access report: which apps could see them and what they received.' },
  { name: 'Platform: audit', description: 'Verify every app’s ledger against the rules.' },
  { name: 'Platform: metrics', description: 'Work counters, for load tests.' },
  { name: 'User pages', description: 'Server-rendered pages for people: consent, sign-in, Connected apps. Not for API clients.' },
  { name: 'Service', description: 'What this service is, its problem types and this reference.' },
];

const DESCRIPTION = [
  'A self-hostable, X-compatible Account Activity API: apps register webhooks, subscribe users who authorized them, and receive those users’ activity, signed, with a ledger of who received what.',
  '',
  'Every error is an RFC 7807 problem (`application/problem+json`) whose `detail` says what to change; its `type` URI resolves to an explanation. Rate-limited endpoints answer with X’s `x-rate-limit-*` headers.',
].join('\n');

/**
 * The OpenAPI 3.1 document of an app, generated from its route contracts (the same zod schemas that
 * validate requests). Bodies a handler parses itself are added as components from the schema it
 * parses with. Independent of the request; `forOrigin` adds what depends on where it is served.
 */
export function buildDocument(app: OpenAPIHono<HonoEnv>): OpenApiDocument {
  const document = app.getOpenAPI31Document({
    openapi: '3.1.0',
    info: { title: 'account-activity-edge', version: pkg.version, description: DESCRIPTION },
    tags: TAGS,
  });
  const untagged = Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item as Record<string, { tags?: string[] }>)
      .filter(([, op]) => !op.tags?.length || op.tags.some((tag) => !TAGS.some((t) => t.name === tag)))
      .map(([method]) => `${method.toUpperCase()} ${path}`),
  );
  if (untagged.length > 0)
    throw new Error(`operations without a known tag (add it to TAGS in src/openapi/document.ts): ${untagged.join(', ')}`);
  document.components ??= {};
  const components = document.components;
  components.schemas ??= {};
  const schemas = components.schemas;
  for (const [id, schema] of HANDLER_PARSED_SCHEMAS) {
    for (const [name, jsonSchema] of Object.entries(componentSchemas(id, schema))) {
      if (schemas[name] && JSON.stringify(schemas[name]) !== JSON.stringify(jsonSchema)) {
        throw new Error(`two different schemas are both named ${name} in the OpenAPI document`);
      }
      schemas[name] = jsonSchema as (typeof schemas)[string];
    }
  }
  components.securitySchemes = SECURITY_SCHEMES as unknown as typeof components.securitySchemes;
  inlineRequestOnlySchemas(document);
  addDefaultResponses(document);
  return document;
}

/**
 * A zod schema as components: itself under `id`, and each named schema inside it (zod puts those in
 * `$defs`) as a component of its own, referenced from the document root rather than the schema.
 */
function componentSchemas(id: string, schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, $defs, ...root } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  const rooted = JSON.stringify({ ...$defs, [id]: root }).replaceAll('"#/$defs/', '"#/components/schemas/');
  return JSON.parse(rooted);
}

const REF = '#/components/schemas/';

type Responses = Record<string, { description?: string; content?: Record<string, unknown> }>;

/**
 * What any operation may answer besides its listed responses (a method it does not take, a body over
 * the size limit, a bug): a problem body, or on a user page the same problem as a page.
 */
function addDefaultResponses(document: OpenApiDocument): void {
  for (const item of Object.values(document.paths ?? {})) {
    for (const op of Object.values(item as Record<string, { responses?: Responses }>)) {
      if (!op?.responses || op.responses.default) continue;
      const isPage = Object.values(op.responses).some((r) => r.content?.['text/html']);
      op.responses.default = isPage
        ? { description: 'Any other error, shown as a page', content: { 'text/html': { schema: { type: 'string' } } } }
        : {
            description: 'Any other error (405 for another method, 413 for a body over the limit, 500 for a bug): a problem body',
            content: { 'application/problem+json': { schema: { $ref: `${REF}Problem` } } },
          };
    }
  }
}

/**
 * Request bodies whose schema is a component used nowhere else are written inline. Client
 * generators (openapi-typescript) read a field with a `default` as always present unless the schema
 * sits under a `requestBody`; inline, such a field stays optional for the caller, as it is.
 */
function inlineRequestOnlySchemas(document: OpenApiDocument): void {
  const schemas = document.components?.schemas ?? {};
  const bodies: { content: Record<string, { schema?: unknown }> }[] = [];
  for (const item of Object.values(document.paths ?? {})) {
    for (const op of Object.values(item as Record<string, { requestBody?: { content?: Record<string, { schema?: unknown }> } }>)) {
      if (op?.requestBody?.content) bodies.push({ content: op.requestBody.content });
    }
  }
  const refsOutsideBodies = JSON.stringify({ ...document, paths: withoutRequestBodies(document) });
  const usesInBodies = new Map<string, number>();
  for (const { content } of bodies) {
    for (const media of Object.values(content)) {
      const ref = (media.schema as { $ref?: string } | undefined)?.$ref;
      if (ref?.startsWith(REF)) usesInBodies.set(ref, (usesInBodies.get(ref) ?? 0) + 1);
    }
  }
  for (const { content } of bodies) {
    for (const media of Object.values(content)) {
      const ref = (media.schema as { $ref?: string } | undefined)?.$ref;
      if (!ref?.startsWith(REF) || refsOutsideBodies.includes(`"${ref}"`)) continue;
      media.schema = { title: ref.slice(REF.length), ...(schemas[ref.slice(REF.length)] as object) };
    }
  }
  for (const ref of usesInBodies.keys()) if (!refsOutsideBodies.includes(`"${ref}"`)) delete schemas[ref.slice(REF.length)];
}

function withoutRequestBodies(document: OpenApiDocument) {
  return Object.fromEntries(
    Object.entries(document.paths ?? {}).map(([path, item]) => [
      path,
      Object.fromEntries(Object.entries(item as Record<string, object>).map(([method, op]) => [method, { ...op, requestBody: undefined }])),
    ]),
  );
}

/** The document as served at `origin`: that server, and the OAuth URLs made absolute (clients need them so). */
export function forOrigin(document: OpenApiDocument, origin: string): OpenApiDocument {
  const { flows } = SECURITY_SCHEMES.OAuth2UserToken;
  const code = flows.authorizationCode;
  return {
    ...document,
    servers: [{ url: origin }],
    components: {
      ...document.components,
      securitySchemes: {
        ...SECURITY_SCHEMES,
        OAuth2UserToken: {
          ...SECURITY_SCHEMES.OAuth2UserToken,
          flows: {
            authorizationCode: {
              ...code,
              authorizationUrl: `${origin}${code.authorizationUrl}`,
              tokenUrl: `${origin}${code.tokenUrl}`,
              refreshUrl: `${origin}${code.refreshUrl}`,
            },
          },
        },
      } as unknown as NonNullable<OpenApiDocument['components']>['securitySchemes'],
    },
  };
}
