import type { PageSession, UserSession } from '../auth/session';
import type { Settings } from '../config';
import type { AppRow, AuthorizationRow } from '../db/schema';
import type { LimitDecision } from '../domain/rate-limits';

/** What middleware puts on the context for handlers. */
export interface AppVariables {
  requestId: string;
  settings: Settings;
  /** The calling developer app (set by the developer-auth middleware). */
  app: AppRow;
  /** The user context of a user access token, when one was presented. */
  authorization: AuthorizationRow | null;
  /**
   * Set on pages: errors render as HTML (as the portal's or console's page where `surface` says so),
   * and the CSP's form-action takes these extra sources.
   */
  page?: { formActions: string[]; surface?: PageSurface };
  /** On user pages: the signed-in user, their CSRF token, and a posted form's fields. */
  session?: UserSession;
  /** On the developer portal: the signed-in app and its session (the app is also `app`, for its rate limits). */
  portal?: { app: AppRow; session: PageSession };
  /** On the operator console: the operator's session. */
  operator?: PageSession;
  /** The CSRF token of the signed-in principal's forms (user, developer or operator). */
  csrf?: string;
  form?: Record<string, string>;
  /** The rate-limit decision for this request, if its endpoint is limited (rendered as headers). */
  rateLimit?: LimitDecision;
}

/** Which set of pages a page belongs to: the users', the developer portal, the operator console. */
export type PageSurface = 'user' | 'portal' | 'console';

export type HonoEnv = { Bindings: Env; Variables: AppVariables };
