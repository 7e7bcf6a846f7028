/**
 * Counts the billable work the service does (docs/scaling.md, "What a delivery costs"): Worker
 * invocations (HTTP requests and queue batches), Durable Object requests, queue messages written and read, D1 rows read and written, object storage rows
 * read and written, outbound requests, and deliveries. Counted, not timed, so the figures do not drift
 * with a noisy machine; `npm run bench` divides them by deliveries and prices them.
 *
 * The counters live in the isolate. Locally (`wrangler dev`) the Worker and every app object share
 * one isolate, so they cover the whole pipeline; in production each isolate counts its own share.
 */
import { WRAPPED_SQL } from '../app-object/storage/mirror-cache';

export type WorkKind =
  | 'worker_invocations'
  | 'do_requests'
  | 'queue_messages_written'
  | 'queue_messages_read'
  | 'd1_rows_read'
  | 'd1_rows_written'
  | 'object_rows_read'
  | 'object_rows_written'
  | 'outbound_requests'
  | 'deliveries';

const counters = new Map<WorkKind, number>();

export function countWork(kind: WorkKind, n = 1): void {
  if (n !== 0) counters.set(kind, (counters.get(kind) ?? 0) + n);
}

export function workCounters(): Record<WorkKind, number> {
  const kinds: WorkKind[] = [
    'worker_invocations',
    'do_requests',
    'queue_messages_written',
    'queue_messages_read',
    'd1_rows_read',
    'd1_rows_written',
    'object_rows_read',
    'object_rows_written',
    'outbound_requests',
    'deliveries',
  ];
  return Object.fromEntries(kinds.map((k) => [k, counters.get(k) ?? 0])) as Record<WorkKind, number>;
}

export function resetWorkCounters(): void {
  counters.clear();
}

/** An object's API whose every method call counts as one Durable Object request. */
export function countingCalls<T extends object>(api: T): T {
  return new Proxy(api, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        countWork('do_requests');
        return value.apply(target, args);
      };
    },
  });
}

/** An object's SqlStorage that counts the rows each statement read and wrote. */
export function countingSql(sql: SqlStorage): SqlStorage {
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === WRAPPED_SQL) return target;
      if (property !== 'exec') return Reflect.get(target, property, receiver);
      return (query: string, ...bindings: unknown[]) => {
        const cursor = target.exec(query, ...bindings);
        const rows = cursor.toArray();
        countWork('object_rows_read', cursor.rowsRead);
        countWork('object_rows_written', cursor.rowsWritten);
        return {
          toArray: () => rows,
          one: () => {
            if (rows.length !== 1) throw new Error(`Expected exactly one result from SQL query, but got ${rows.length}.`);
            return rows[0];
          },
          raw: () => rows.map((r) => Object.values(r))[Symbol.iterator](),
          rowsRead: cursor.rowsRead,
          rowsWritten: cursor.rowsWritten,
          columnNames: cursor.columnNames,
          next: () => ({ done: true, value: undefined }),
          [Symbol.iterator]: () => rows[Symbol.iterator](),
        } as unknown as SqlStorageCursor<Record<string, SqlStorageValue>>;
      };
    },
  });
}

/** A D1 binding that counts the rows each query read and wrote (D1 reports them per result). */
export function countingD1(db: D1Database): D1Database {
  const tally = (meta: { rows_read?: number; rows_written?: number } | undefined) => {
    countWork('d1_rows_read', meta?.rows_read ?? 0);
    countWork('d1_rows_written', meta?.rows_written ?? 0);
  };
  const wrapStatement = (statement: D1PreparedStatement): D1PreparedStatement =>
    new Proxy(statement, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property === 'bind') return (...args: unknown[]) => wrapStatement(target.bind(...args));
        if (property === 'run' || property === 'all') {
          return async (...args: unknown[]) => {
            const result = await (value as (...a: unknown[]) => Promise<D1Result>).apply(target, args);
            tally(result.meta);
            return result;
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  return new Proxy(db, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (property === 'prepare') return (query: string) => wrapStatement(target.prepare(query));
      if (property === 'batch') {
        return async (statements: D1PreparedStatement[]) => {
          const results = await target.batch(statements);
          for (const r of results) tally(r.meta);
          return results;
        };
      }
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
