import type { Lanes } from './lanes';
import type { AppStore } from './storage/app-store';
import type { MessageRow } from './storage/outbox-store';

/**
 * The app's open X Activity API streams (`GET /2/activity/stream`, docs/xaa.md "The stream"), held by
 * the app's own object. Every line of the app (storage/stream-store.ts) goes to every connection, in
 * order, each from its own cursor. A line is written only when the connection asks for more (the
 * stream is pulled), and only after the entitlement rule allowed it at that moment and the ledger
 * recorded it; so a withdrawal filters every line not yet written, and a reader that stops reading
 * holds no payloads in this object's memory: its backlog stays on disk. How far behind a reader may
 * fall is bounded (`maxLagBytes`); past it the connection gets a reason line and is closed. Nothing
 * here waits on a webhook or the other way round.
 */
export interface StreamSettings {
  /** Open connections per app. */
  maxConnections: number;
  /** An idle connection gets a keep-alive line (`\r\n`) this often. */
  keepAliveMs: number;
  /** A connection whose unread lines add up to more than this is closed. */
  maxLagBytes: number;
}

export interface StreamPorts {
  now(): number;
  /** Runs `tick` every `ms` while connections are open; returns the function that stops it. */
  every(ms: number, tick: () => void): () => void;
}

export type DisconnectReason = 'ReaderFellBehind' | 'AppNotActive';

interface Connection {
  id: string;
  cursor: number;
  /** Bytes of lines after the cursor. */
  lagBytes: number;
  /** Lines ingested after this end the stream (`end_time`); null: no end. */
  endAt: number | null;
  controller: ReadableStreamDefaultController<Uint8Array>;
  /** Set while the reader waits for a line: calling it answers the pull. */
  waiting: (() => void) | null;
  lastWriteAt: number;
  closed: boolean;
}

/** Lines read from storage per step. */
const BATCH = 50;
const encoder = new TextEncoder();
const KEEP_ALIVE = encoder.encode('\r\n');

/** The line a connection gets when it is closed: X's stream problem shape, valid against X's schema. */
export function disconnectLine(reason: DisconnectReason, detail: string): string {
  return JSON.stringify({
    errors: [
      {
        type: 'https://api.x.com/2/problems/resource-unavailable',
        title: 'operational-disconnect',
        disconnect_type: reason,
        detail,
        resource_type: 'stream',
      },
    ],
  });
}

export class StreamHub {
  private readonly connections = new Map<string, Connection>();
  private stopTicking: (() => void) | null = null;

  constructor(
    private readonly store: AppStore,
    private readonly lanes: Lanes,
    private readonly ports: StreamPorts,
    private readonly settings: StreamSettings,
  ) {}

  get size(): number {
    return this.connections.size;
  }

  /**
   * Opens a connection whose first line is the first one ingested at or after `from` (null: only
   * lines from now on). Null when the app already has its maximum of connections.
   */
  open(options: { from: number | null; endAt: number | null }): { id: string; stream: ReadableStream<Uint8Array> } | null {
    if (this.connections.size >= this.settings.maxConnections) return null;
    const now = this.ports.now();
    const backlog = this.store.streams.backlogSince(options.from ?? Number.MAX_SAFE_INTEGER);
    const id = crypto.randomUUID();
    let connection!: Connection;
    const stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          connection = {
            id,
            cursor: backlog.cursor,
            lagBytes: backlog.bytes,
            endAt: options.endAt,
            controller,
            waiting: null,
            lastWriteAt: now,
            closed: false,
          };
          this.connections.set(connection.id, connection);
          this.stopTicking ??= this.ports.every(Math.max(250, Math.floor(this.settings.keepAliveMs / 4)), () => this.tick());
        },
        pull: () => this.fill(connection),
        cancel: () => this.forget(connection),
      },
      // Nothing is read ahead: a line is produced only when the reader asks for one.
      { highWaterMark: 0 },
    );
    return { id, stream };
  }

  /** The reader went away (the Worker saw its client disconnect): the connection is forgotten at once. */
  disconnect(id: string): void {
    const connection = this.connections.get(id);
    if (!connection) return;
    try {
      connection.controller.close();
    } catch {
      // already closed
    }
    this.forget(connection);
    connection.waiting?.();
  }

  /** New lines were appended: each connection's backlog grows; a waiting reader gets them now. */
  appended(bytes: number): void {
    for (const connection of this.connections.values()) {
      connection.lagBytes += bytes;
      if (connection.lagBytes > this.settings.maxLagBytes) {
        this.close(
          connection,
          'ReaderFellBehind',
          `this connection fell more than ${this.settings.maxLagBytes} bytes behind the app's events; reconnect (backfill_minutes recovers up to 5 minutes)`,
        );
      } else if (connection.waiting && this.writeSome(connection) > 0) {
        connection.waiting();
      }
    }
  }

  /** The app is no longer active: every connection is closed with a reason line. */
  closeAll(reason: DisconnectReason, detail: string): void {
    for (const connection of [...this.connections.values()]) this.close(connection, reason, detail);
  }

  /** Keep-alives for idle readers, and the end of connections past their `end_time`. */
  tick(): void {
    const now = this.ports.now();
    for (const connection of this.connections.values()) {
      if (connection.endAt !== null && now > connection.endAt) {
        this.close(connection, null);
        continue;
      }
      // Only a reader that is waiting gets one: a stalled pipe needs none, and must not grow.
      if (connection.waiting && now - connection.lastWriteAt >= this.settings.keepAliveMs) {
        connection.controller.enqueue(KEEP_ALIVE);
        connection.lastWriteAt = now;
        connection.waiting();
      }
    }
  }

  private fill(connection: Connection): Promise<void> {
    if (connection.closed || this.writeSome(connection) > 0) return Promise.resolve();
    return new Promise((resolve) => {
      connection.waiting = () => {
        connection.waiting = null;
        resolve();
      };
    });
  }

  /**
   * Writes the next entitled lines after the cursor, each recorded on the ledger first; returns how
   * many. Lines the rule withholds (or whose payload retention ended) are passed over.
   */
  private writeSome(connection: Connection): number {
    let written = 0;
    while (written === 0 && !connection.closed) {
      const lines = this.store.streams.after(connection.cursor, BATCH);
      if (lines.length === 0) return 0;
      const now = this.ports.now();
      for (const line of lines) {
        if (connection.endAt !== null && line.created_at > connection.endAt) {
          this.close(connection, null);
          return written;
        }
        connection.cursor = line.seq;
        connection.lagBytes = Math.max(0, connection.lagBytes - (line.payload?.length ?? 0));
        if (this.lanes.entitlement(line, now) !== 'send') continue;
        this.write(connection, line, now);
        written++;
      }
    }
    return written;
  }

  private write(connection: Connection, line: MessageRow, now: number): void {
    this.store.ledger.recordStreamWrite(line, connection.id, now);
    connection.controller.enqueue(encoder.encode(`${line.payload}\r\n`));
    connection.lastWriteAt = now;
  }

  /**
   * Ends a connection; one that did not simply reach its `end_time` gets a reason line first, written
   * even if the reader is not reading (one line, then nothing more).
   */
  private close(connection: Connection, reason: DisconnectReason | null, detail = ''): void {
    if (connection.closed) return;
    try {
      if (reason) connection.controller.enqueue(encoder.encode(`${disconnectLine(reason, detail)}\r\n`));
      connection.controller.close();
    } catch {
      // the reader is already gone
    }
    this.forget(connection);
    connection.waiting?.();
  }

  private forget(connection: Connection): void {
    connection.closed = true;
    this.connections.delete(connection.id);
    if (this.connections.size === 0 && this.stopTicking) {
      this.stopTicking();
      this.stopTicking = null;
    }
  }
}
