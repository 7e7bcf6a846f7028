import { drizzle } from 'drizzle-orm/d1';
import { countingD1 } from '../observability/work-counters';
import * as schema from './schema';

/** The control plane through drizzle; rows read and written are counted (src/observability). */
export const database = (env: { DB: D1Database }) => drizzle(countingD1(env.DB), { schema });
export type Database = ReturnType<typeof database>;
