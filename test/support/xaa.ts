import { type ApiResponse, call, expectProblem } from './http';

/** An XAA subscription as the API shows it. */
export interface XaaSubscription {
  subscription_id: string;
  event_type: string;
  filter: { user_id: string; direction?: string; keyword?: string };
  tag?: string;
  webhook_id?: string;
  created_at: string;
  updated_at: string;
}

/** POST /2/activity/subscriptions with `token`; the raw answer. */
export const createXaa = (token: string, body: Record<string, unknown>) => call('POST', '/2/activity/subscriptions', { token, body });

/** Creates a subscription and expects 200; returns it. */
export async function xaaSubscribe(
  token: string,
  eventType: string,
  userId: string,
  extra: { webhook_id?: string; tag?: string; direction?: string; keyword?: string } = {},
): Promise<XaaSubscription> {
  const { webhook_id, tag, ...filter } = extra;
  const res = await createXaa(token, {
    event_type: eventType,
    filter: { user_id: userId, ...filter },
    ...(tag ? { tag } : {}),
    ...(webhook_id ? { webhook_id } : {}),
  });
  if (res.status !== 200) throw new Error(`XAA subscribe ${eventType} for ${userId}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.data.subscription;
}

/** An X-style problem (X's type URI), with this status and reason. */
export function expectXProblem(res: ApiResponse, status: number, reason?: string) {
  const problem = expectProblem(res, status, reason);
  if (!problem.type.startsWith('https://api.x.com/2/problems/')) throw new Error(`not an X problem type: ${problem.type}`);
  return problem as typeof problem & { resource_type?: string; parameter?: string };
}

/** The XAA envelope of a POST body. */
// biome-ignore lint/suspicious/noExplicitAny: envelopes are read loosely, each test asserts what it relies on
export const envelopeOf = (body: string): { data: any } => JSON.parse(body);
