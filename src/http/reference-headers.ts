import { createMiddleware } from 'hono/factory';
import { sha256Base64 } from '../domain/crypto';
import { REFERENCE_STYLESHEET } from '../pages/api-reference-styles';
import { setPageHeaders } from './page-headers';
import type { HonoEnv } from './types';

let stylesheetHash: Promise<string> | null = null;

/**
 * The API reference page's headers: the strictest CSP of the service (no script, no form, nothing
 * from elsewhere; its one inline stylesheet allowed by hash), never framed. The page is the same for
 * everyone and changes only with a deploy, so caches may keep it a few minutes.
 */
export const referenceHeaders = createMiddleware<HonoEnv>(async (c, next) => {
  await next();
  stylesheetHash ??= sha256Base64(REFERENCE_STYLESHEET);
  const csp = [
    "default-src 'none'",
    `style-src 'sha256-${await stylesheetHash}'`,
    "form-action 'none'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
  setPageHeaders(c.res.headers, csp, 'public, max-age=300');
});
