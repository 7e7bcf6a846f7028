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
/**
 * Durable Object requests by what was called (`ingest`, `claim`, `report`, `alarm`, `rate_limit`…):
 * the total says how many calls a delivery costs, this says which, so a rise has a name.
 */
const callsByMethod = new Map<string, number>();

export type WorkCounts = Record<WorkKind, number> & { do_requests_by_method: Record<string, number> };

export function countWork(kind: WorkKind, n = 1): void {
  if (n !== 0) counters.set(kind, (counters.get(kind) ?? 0) + n);
}

/** One Durable Object request, named by the method it called. */
export function countCall(method: string): void {
  countWork('do_requests');
  callsByMethod.set(method, (callsByMethod.get(method) ?? 0) + 1);
}

export function workCounters(): WorkCounts {
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
  const counts = Object.fromEntries(kinds.map((k) => [k, counters.get(k) ?? 0])) as Record<WorkKind, number>;
  return { ...counts, do_requests_by_method: Object.fromEntries(callsByMethod) };
}

export function resetWorkCounters(): void {
  counters.clear();
  callsByMethod.clear();
}

/** An object's API whose every method call counts as one Durable Object request. */
export function countingCalls<T extends object>(api: T): T {
  return new Proxy(api, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        countCall(String(property));
        return value.apply(target, args);
      };
    },
  });
}

type Row = Record<string, SqlStorageValue>;

/**
 * A statement's result, read to the end, with its counts: what countingSql's `exec` returns. One
 * object per statement with its methods on the prototype (the object's hottest path runs ~15
 * statements per delivery), and the column names only read if asked for.
 */
class ReadCursor {
  constructor(
    private readonly rows: Row[],
    private readonly cursor: SqlStorageCursor<Row>,
    readonly rowsRead: number,
    readonly rowsWritten: number,
  ) {}

  get columnNames(): string[] {
    return this.cursor.columnNames;
  }

  toArray(): Row[] {
    return this.rows;
  }

  one(): Row {
    if (this.rows.length !== 1) throw new Error(`Expected exactly one result from SQL query, but got ${this.rows.length}.`);
    return this.rows[0];
  }

  raw(): IterableIterator<SqlStorageValue[]> {
    return this.rows.map((r) => Object.values(r))[Symbol.iterator]();
  }

  next(): { done: true; value: undefined } {
    return { done: true, value: undefined };
  }

  [Symbol.iterator](): IterableIterator<Row> {
    return this.rows[Symbol.iterator]();
  }
}

/** An object's SqlStorage that counts the rows each statement read and wrote. */
export function countingSql(sql: SqlStorage): SqlStorage {
  const exec = (query: string, ...bindings: unknown[]) => {
    const cursor = sql.exec<Row>(query, ...bindings);
    const rows = cursor.toArray();
    const { rowsRead, rowsWritten } = cursor;
    countWork('object_rows_read', rowsRead);
    countWork('object_rows_written', rowsWritten);
    return new ReadCursor(rows, cursor, rowsRead, rowsWritten) as unknown as SqlStorageCursor<Row>;
  };
  return new Proxy(sql, {
    get(target, property, receiver) {
      if (property === WRAPPED_SQL) return target;
      if (property === 'exec') return exec;
      return Reflect.get(target, property, receiver);
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
