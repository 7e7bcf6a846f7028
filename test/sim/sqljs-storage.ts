import type { Database, Statement } from 'sql.js';

/**
 * The part of the Durable Object `SqlStorage` API the object's storage layer uses, over sql.js
 * (SQLite compiled to WebAssembly), so the simulator runs the object's real SQL in Node. Statements
 * are prepared once and reused.
 */
export class SqlJsStorage {
  private readonly statements = new Map<string, Statement>();

  constructor(private readonly db: Database) {}

  exec<T extends Record<string, SqlStorageValue>>(query: string, ...bindings: unknown[]): SqlStorageCursor<T> {
    if (bindings.length === 0 && /;\s*\S/.test(query.trim().replace(/;\s*$/, ''))) {
      this.db.exec(query);
      return cursor<T>([], 0);
    }
    let statement = this.statements.get(query);
    if (!statement) {
      statement = this.db.prepare(query);
      this.statements.set(query, statement);
    }
    statement.bind(bindings.map((b) => (b === undefined ? null : b)) as (string | number | null)[]);
    const rows: T[] = [];
    try {
      while (statement.step()) rows.push(statement.getAsObject() as T);
    } finally {
      statement.reset();
    }
    const written = /^\s*(insert|update|delete|replace)/i.test(query) ? this.db.getRowsModified() : 0;
    return cursor(rows, written);
  }
}

function cursor<T extends Record<string, SqlStorageValue>>(rows: T[], rowsWritten: number): SqlStorageCursor<T> {
  return {
    toArray: () => rows,
    one: () => {
      if (rows.length !== 1) throw new Error(`expected exactly one row, got ${rows.length}`);
      return rows[0];
    },
    rowsWritten,
    rowsRead: rows.length,
    columnNames: rows[0] ? Object.keys(rows[0]) : [],
    raw: () => rows.map((r) => Object.values(r)) as never,
    next: () => ({ done: true, value: undefined }) as never,
    [Symbol.iterator]() {
      return rows[Symbol.iterator]();
    },
  } as unknown as SqlStorageCursor<T>;
}
