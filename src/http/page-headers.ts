import { createMiddleware } from 'hono/factory';
import { stylesheetSource } from '../pages/styles';
import type { HonoEnv, PageSurface } from './types';

/**
 * The headers of every page (the user pages, the developer portal, the operator console), errors
 * included: a strict Content-Security-Policy (no script at all, the one stylesheet by its hash, forms
 * only to this service and, on the consent page, to the app's registered redirect URI, which the
 * decision redirects to), never framed, never cached, no referrer (the authorize URL carries
 * `state`). Also marks the request as a page of `surface`, so errors render as its HTML (src/app.ts).
 */
export const pagesOf = (surface: PageSurface) =>
  createMiddleware<HonoEnv>(async (c, next) => {
    const page = { formActions: [] as string[], surface };
    c.set('page', page);
    await next();
    const csp = [
      "default-src 'none'",
      `style-src ${await stylesheetSource()}`,
      "img-src 'self' data:",
      `form-action 'self'${page.formActions.map((s) => ` ${s}`).join('')}`,
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; ');
    setPageHeaders(c.res.headers, csp, 'no-store');
  });

/** The user pages' headers (consent, sign-in, Connected apps). */
export const pageHeaders = pagesOf('user');

/** What every page of the service sends: its CSP, never framed, no sniffing, no referrer, no powerful features. */
export function setPageHeaders(headers: Headers, csp: string, cacheControl: string): void {
  headers.set('content-security-policy', csp);
  headers.set('x-frame-options', 'DENY');
  headers.set('x-content-type-options', 'nosniff');
  headers.set('referrer-policy', 'no-referrer');
  headers.set('cache-control', cacheControl);
  headers.set('cross-origin-opener-policy', 'same-origin');
  headers.set('permissions-policy', 'camera=(), microphone=(), geolocation=(), payment=()');
}
