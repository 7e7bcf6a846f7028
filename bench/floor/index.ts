interface FloorEnv {
  Q: Queue<{ url: string; id: string }>;
}

export default {
  // POST / {"url", "ids": [...]}: one message per id, sent in batches of 100 like the service does.
  async fetch(request: Request, env: FloorEnv): Promise<Response> {
    const { url, ids } = (await request.json()) as { url: string; ids: string[] };
    for (let i = 0; i < ids.length; i += 100) {
      await env.Q.sendBatch(ids.slice(i, i + 100).map((id) => ({ body: { url, id } })));
    }
    return new Response(null, { status: 202 });
  },
  // At most 6 POSTs in flight, as Cloudflare allows one invocation (and as the service limits itself).
  async queue(batch: MessageBatch<{ url: string; id: string }>): Promise<void> {
    const pending = [...batch.messages];
    await Promise.all(
      Array.from({ length: Math.min(6, pending.length) }, async () => {
        for (let m = pending.shift(); m; m = pending.shift()) {
          const res = await fetch(m.body.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ id: m.body.id }),
            signal: AbortSignal.timeout(10_000),
          });
          await res.arrayBuffer(); // read to the end, so the connection is reused (as the service does)
          m.ack();
        }
      }),
    );
  },
};
