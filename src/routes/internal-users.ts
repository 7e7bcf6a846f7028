import { requirePlatform } from '../auth/platform';
import { accessReport } from '../delivery/access-report';
import { byPlatform, rateLimit } from '../http/rate-limit';
import { apiRouter } from '../http/validation';
import { userAccess } from './contracts/internal-users';

export const internalUsers = apiRouter();
internalUsers.use(requirePlatform, rateLimit('platform:other', byPlatform));
/** A user's access report: every app they ever authorized and what it received of their data. */
internalUsers.openapi(userAccess, async (c) => c.json({ data: await accessReport(c.env, c.req.valid('param').user_id) }, 200));
