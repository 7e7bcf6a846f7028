import { DurableObject } from 'cloudflare:workers';

interface CallCostEnv {
  TRIVIAL: DurableObjectNamespace<TrivialObject>;
}

/** An object with nothing in it but a table: each method is one call that writes `rows` rows (0: none). */
export class TrivialObject extends DurableObject<CallCostEnv> {
  constructor(ctx: DurableObjectState, env: CallCostEnv) {
    super(ctx, env);
    ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)');
  }

  touch(rows: number, value: number): number {
    for (let i = 0; i < rows; i++) this.ctx.storage.sql.exec('INSERT INTO t (v) VALUES (?)', String(value));
    return value;
  }
}

export default {
  // GET /?calls=&objects=&rows=&concurrency=: that many calls spread over that many objects, each
  // writing `rows` rows, `concurrency` at a time. Answers the wall time the calls took.
  async fetch(request: Request, env: CallCostEnv): Promise<Response> {
    const q = new URL(request.url).searchParams;
    const calls = Number(q.get('calls') ?? 1000);
    const objects = Number(q.get('objects') ?? 1);
    const rows = Number(q.get('rows') ?? 0);
    const concurrency = Number(q.get('concurrency') ?? 10);
    const stubs = Array.from({ length: objects }, (_, i) => env.TRIVIAL.get(env.TRIVIAL.idFromName(`object-${i}`)));
    await Promise.all(stubs.map((s) => s.touch(0, 0))); // every object started before the clock runs
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = next++; i < calls; i = next++) await stubs[i % objects].touch(rows, i);
      }),
    );
    return Response.json({ calls, objects, rows, concurrency, ms: Date.now() - started });
  },
};
