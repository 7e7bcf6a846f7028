/** @jsxImportSource hono/jsx */
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { HonoEnv } from '../http/types';
import { apiRouter } from '../http/validation';
import { buildDocument, forOrigin, type OpenApiDocument } from '../openapi/document';
import { ApiReferencePage } from '../pages/api-reference-page';
import { renderDocument } from '../pages/layout';
import { apiReference, openApiDocument } from './contracts/service';

/**
 * `GET /openapi.json` and `GET /docs` of `app`. Both are built once per isolate, on first use (the
 * app's routes are all declared by then) and never differ between callers; only the document's
 * `servers` entry and OAuth URLs are the caller's origin.
 */
export function referenceRouter(app: OpenAPIHono<HonoEnv>) {
  let document: OpenApiDocument | null = null;
  let page: Promise<string> | null = null;
  const documentOf = () => {
    document ??= buildDocument(app);
    return document;
  };
  const router = apiRouter();
  router.openapi(openApiDocument, (c) => {
    c.header('access-control-allow-origin', '*');
    return c.json(forOrigin(documentOf(), new URL(c.req.url).origin), 200);
  });
  router.openapi(apiReference, async (c) => {
    page ??= renderDocument(<ApiReferencePage document={documentOf()} />);
    return c.html(await page, 200);
  });
  return router;
}
