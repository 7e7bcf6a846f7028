import type { Context } from 'hono';
import { getCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import {
  cookieHeader,
  cookiePolicy,
  credentialBinding,
  csrfTokenMatches,
  signInFormToken,
  signInFormTokenMatches,
  startSession,
} from '../auth/session';
import { randomToken } from '../domain/crypto';
import { ApiError } from '../errors';
import { formFields } from './form';
import type { HonoEnv } from './types';

/**
 * What every page session shares, whoever it is for (users, the developer portal, the operator
 * console): form posts carry the session's CSRF token, and sign-in forms, which come before any
 * session, carry one made from a nonce the browser holds in a cookie.
 */

/**
 * A form post of a signed-in principal: it needs the session `sessionOf` finds and that session's
 * CSRF token in its `csrf` field. Without either it is refused, not sent to sign in: its data would
 * not survive the round trip, and it may not be the principal's. The fields are then `c.get('form')`.
 */
export const sessionForm = (sessionOf: (c: Context<HonoEnv>) => { sessionId: string } | undefined, expired: string) =>
  createMiddleware<HonoEnv>(async (c, next) => {
    const session = sessionOf(c);
    if (!session) throw new ApiError('unauthorized', expired);
    const fields = formFields(await c.req.arrayBuffer(), c.req.header('content-type'));
    if (!(await csrfTokenMatches(c.env, session, fields.csrf))) {
      throw new ApiError('forbidden', 'this form was not sent from your own session: reload the page and try again');
    }
    c.set('form', fields);
    await next();
  });

/** How long a sign-in form may stay open. */
const SIGN_IN_FORM_SECONDS = 30 * 60;

/** A fresh sign-in form's CSRF token; its nonce goes to the browser in a cookie set here. */
export async function openSignInForm(c: Context<HonoEnv>, kind: 'developer' | 'operator'): Promise<string> {
  const nonce = randomToken(18);
  c.header('set-cookie', cookieHeader(c.req.url, cookiePolicy(c.req.url).signInForm(kind), nonce, SIGN_IN_FORM_SECONDS, 'Strict'), {
    append: true,
  });
  return signInFormToken(c.env, nonce);
}

/** A posted sign-in form's fields, if its CSRF token matches the nonce cookie of this browser; else 403. */
export async function signInFormFields(c: Context<HonoEnv>, kind: 'developer' | 'operator'): Promise<Record<string, string>> {
  const fields = formFields(await c.req.arrayBuffer(), c.req.header('content-type'));
  const nonce = getCookie(c, cookiePolicy(c.req.url).signInForm(kind));
  if (!(await signInFormTokenMatches(c.env, nonce, fields.csrf))) {
    throw new ApiError('forbidden', 'this sign-in form has expired or was not opened in this browser: reload the page and try again');
  }
  return fields;
}

const SESSION_COOKIE = { developer: 'portal', operator: 'console' } as const;

/**
 * Signs the browser in as a developer (`subject`: the app id) or the operator: a session bound to
 * `credential` (the consumer secret's stored hash, or the platform token) in a Strict cookie, and the
 * sign-in form's nonce cookie cleared.
 */
export async function beginSession(
  c: Context<HonoEnv>,
  kind: 'developer' | 'operator',
  subject: string,
  credential: string,
  lifetimeMs: number,
): Promise<void> {
  const binding = await credentialBinding(c.env, kind, credential);
  const { cookieValue } = await startSession(c.env, kind, subject, lifetimeMs, binding);
  const names = cookiePolicy(c.req.url);
  c.header('set-cookie', cookieHeader(c.req.url, names.signInForm(kind), '', 0, 'Strict'), { append: true });
  c.header('set-cookie', cookieHeader(c.req.url, names[SESSION_COOKIE[kind]], cookieValue, Math.floor(lifetimeMs / 1000), 'Strict'), {
    append: true,
  });
}

/** Signs the browser out: its session cookie of `kind` is cleared. */
export function endSession(c: Context<HonoEnv>, kind: 'developer' | 'operator'): void {
  c.header('set-cookie', cookieHeader(c.req.url, cookiePolicy(c.req.url)[SESSION_COOKIE[kind]], '', 0, 'Strict'));
}

/**
 * The client's address as Cloudflare reports it. Used for one thing only: counting failed sign-ins
 * from one place (abuse), never to find or key any data.
 */
export const clientAddress = (c: Context<HonoEnv>): string => c.req.header('cf-connecting-ip') ?? 'unknown';
