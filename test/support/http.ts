import { exports } from 'cloudflare:workers';

/** The platform token the test pool's Worker is configured with (vitest.config.ts). */
export const PLATFORM_TOKEN = 'aae_pt_test-platform-token';

/** Response bodies are read loosely: each test asserts the shape it relies on. */
// biome-ignore lint/suspicious/noExplicitAny: see above
export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** Calls the Worker as a client would. `body` objects are sent as JSON; strings are sent as-is. */
// biome-ignore lint/suspicious/noExplicitAny: bodies are read loosely (ApiResponse)
export async function call<T = any>(
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await exports.default.fetch(`http://127.0.0.1:8787${path}`, { method, headers, body });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // non-JSON bodies are returned as text
  }
  return { status: res.status, body: parsed as T, headers: res.headers };
}

/** A call with the platform token (the operator's /internal surface). */
export const platform = (method: string, path: string, body?: unknown) => call(method, path, { token: PLATFORM_TOKEN, body });

export const basic = (key: string, secret: string) => `Basic ${btoa(`${key}:${secret}`)}`;

/** An RFC 7807 problem body; `errors` is there whenever a test reads it (else the read fails the test). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  reason?: string;
  errors: { parameter: string; message: string }[];
}

/** Asserts an RFC 7807 problem body with this status (and X's `reason`, if given) and returns it. */
export function expectProblem(res: ApiResponse, status: number, reason?: string): Problem {
  const problem = res.body;
  const ok =
    res.status === status &&
    res.headers.get('content-type')?.startsWith('application/problem+json') &&
    typeof problem?.type === 'string' &&
    problem.status === status &&
    typeof problem.title === 'string' &&
    typeof problem.detail === 'string' &&
    (reason === undefined || problem.reason === reason);
  if (!ok) {
    throw new Error(`expected problem ${status}${reason ? ` ${reason}` : ''}, got ${res.status} ${JSON.stringify(problem)}`);
  }
  return problem;
}
