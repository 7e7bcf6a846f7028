import type { UserSession } from '../auth/session';
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
  /** Set on user pages: errors render as HTML, and the CSP's form-action takes these extra sources. */
  page?: { formActions: string[] };
  /** On user pages: the signed-in user, their CSRF token, and a posted form's fields. */
  session?: UserSession;
  csrf?: string;
  form?: Record<string, string>;
  /** The rate-limit decision for this request, if its endpoint is limited (rendered as headers). */
  rateLimit?: LimitDecision;
}

export type HonoEnv = { Bindings: Env; Variables: AppVariables };
