/** @jsxImportSource hono/jsx */
import type { ApiError, ProblemKind } from '../errors';
import type { PageSurface } from '../http/types';
import { renderDocument } from './layout';
import { MessagePage } from './message-page';

const TITLES: Partial<Record<ProblemKind, string>> = {
  'invalid-request': 'This request cannot be completed',
  unauthorized: 'Please sign in',
  forbidden: 'This is not allowed',
  'not-found': 'Page not found',
  'rate-limited': 'Too many requests',
  'service-unavailable': 'Sign-in is not available right now',
  'internal-error': 'Something broke on our side',
};

/** The API's detail ("the code expired; start again") as a sentence a person reads. */
const sentence = (detail: string) => `${detail.charAt(0).toUpperCase()}${detail.slice(1)}${/[.!?]$/.test(detail) ? '' : '.'}`;

/** The portal's and the console's errors carry their name and a way back. */
const SURFACES: Record<Exclude<PageSurface, 'user'>, { brand: string; eyebrow: string; back: { href: string; label: string } }> = {
  portal: { brand: 'Developer portal', eyebrow: 'Developer portal', back: { href: '/portal', label: 'Back to the portal' } },
  console: { brand: 'Operator console', eyebrow: 'Operator console', back: { href: '/console', label: 'Back to the console' } },
};

/** An error on a page, as a page: what went wrong and what to do, never internals. */
export function errorPageHtml(err: ApiError, surface: PageSurface = 'user'): Promise<string> {
  const of = surface === 'user' ? undefined : SURFACES[surface];
  return renderDocument(
    <MessagePage
      tone="error"
      title={TITLES[err.kind] ?? 'This request cannot be completed'}
      message={sentence(err.message)}
      surface={of}
      action={of?.back}
    />,
  );
}
