// A tap on this process's fetch, installed before the official X SDK is imported (the SDK binds
// globalThis.fetch when it loads), so tests see the raw answers the SDK parsed: the SDK itself is
// used unmodified, and what crossed the wire is validated against X's schemas. Only the X Activity
// API's answers are kept; a stream's 200 body is never copied (it is read by its reader alone).

/** @typedef {{ method: string, path: string, status: number, headers: Headers, body: unknown }} WireAnswer */

/** @type {WireAnswer[]} */
export const wire = [];

const realFetch = globalThis.fetch;

globalThis.fetch = async (input, init) => {
  const res = await realFetch(input, init);
  const request = input instanceof Request ? input : null;
  const url = new URL(request ? request.url : String(input));
  if (!url.pathname.startsWith('/2/activity')) return res;
  const isStream = url.pathname === '/2/activity/stream' && res.status === 200;
  if (!isStream) {
    const text = await res.clone().text();
    wire.push({
      method: (init?.method ?? request?.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      status: res.status,
      headers: res.headers,
      body: text ? JSON.parse(text) : null,
    });
  }
  return res;
};
