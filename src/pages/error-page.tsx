/** @jsxImportSource hono/jsx */
import type { ApiError, ProblemKind } from '../errors';
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

/** An error on a user page, as a page: what went wrong and what to do, never internals. */
export function errorPageHtml(err: ApiError): Promise<string> {
  return renderDocument(
    <MessagePage tone="error" title={TITLES[err.kind] ?? 'This request cannot be completed'} message={sentence(err.message)} />,
  );
}
