import { z } from 'zod';
import { RESERVED_NODES } from './domain/ids';
import { type LimitedEndpoint, limitsFrom } from './domain/rate-limits';
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from './domain/retry';

const hours = (h: number) => h * 3_600_000;

/** X's subscription tiers for the X Activity API; an app's tier sets its subscription limit. */
export const XAA_TIERS = ['self_serve', 'enterprise', 'partner'] as const;
export type XaaTier = (typeof XAA_TIERS)[number];

/** How a setting is documented (docs/settings.md, wrangler.toml's [vars]); `.describe()` adds the line. */
type SettingMeta = {
  /** The value's form, as an operator writes it. */
  type: string;
  /** The default, spelled as the var would be. */
  default: string;
};

const documented = <S extends z.ZodType>(schema: S, meta: SettingMeta): S => schema.meta(meta);

const int = (fallback: number, min = 0) =>
  documented(z.coerce.number().int().min(min).catch(fallback).default(fallback), { type: `integer ≥ ${min}`, default: String(fallback) });
/** Free text; blank means unset. */
const text = (type: string) =>
  documented(
    z
      .string()
      .optional()
      .catch(undefined)
      .transform((v) => v?.trim() || null),
    { type, default: '' },
  );
const flag = documented(
  z
    .string()
    .optional()
    .transform((v) => v === 'true' || v === '1'),
  { type: 'boolean (`true` or `1`)', default: 'false' },
);

/**
 * Every tunable in one place, read from Worker vars with safe defaults: a malformed value falls back
 * to the default rather than taking the service down. Each setting's name, type, default and
 * description live here; `npm run settings:sync` writes them to docs/settings.md and wrangler.toml.
 */
const settingsSchema = z.object({
  ALLOW_INSECURE_WEBHOOKS: flag.describe(
    'Local development only: accepts http:// webhook URLs, ports and private or loopback hosts. Never set it in production.',
  ),
  CRC_TIMEOUT_MS: int(10_000, 100).describe("How long a CRC check waits for the receiver's answer, in milliseconds."),
  CRC_REVALIDATE_AFTER_HOURS: int(24, 1).describe('The cron re-checks a webhook whose last successful CRC is older than this.'),
  CRC_INVALID_AFTER_HOURS: int(28, 1).describe(
    'A webhook failing its CRCs transiently (no answer, 4xx, 5xx) turns invalid once its last success is this old.',
  ),
  CRC_BATCH_PER_CRON: int(200, 1).describe('At most this many webhooks are re-checked per cron run (every 30 minutes).'),
  DELIVERY_TIMEOUT_MS: int(10_000, 100).describe(
    "One delivery attempt's deadline in milliseconds on the slow queue; a 2xx within it is success (on the fast queue an attempt is cut off at `SLOW_WEBHOOK_MS`).",
  ),
  DELIVERY_LEASE_SECONDS: int(120, 5).describe(
    'A delivery released to the queue but not claimed within this is released again; the new release supersedes the first.',
  ),
  HANDOUT_START_WINDOW_MS: int(3_000, 100).describe(
    "A handed-out request must start within this or not at all; it bounds how long a withdrawal's answer waits.",
  ),
  FENCE_MARGIN_MS: int(1_000, 0).describe(
    "Added to a withdrawal's wait for clock differences between the app's object and the queue consumer.",
  ),
  REPORT_GRACE_SECONDS: int(30, 1).describe(
    "After a hand-out's attempt timeout, how long its outcome may still be reported before it counts as unknown and is retried.",
  ),
  SLOW_WEBHOOK_MS: int(1_000, 100).describe(
    'A webhook slower than this (or not answering) moves to the slow queue, so it cannot hold connections other apps need; a request on the fast queue is cut off at this and retried on the slow queue.',
  ),
  RETRY_SCHEDULE_SECONDS: documented(
    z
      .string()
      .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/)
      .transform((v) => v.split(',').map((n) => Number(n.trim())))
      .catch(DEFAULT_RETRY_SCHEDULE_SECONDS)
      .default(DEFAULT_RETRY_SCHEDULE_SECONDS),
    { type: 'comma-separated seconds', default: DEFAULT_RETRY_SCHEDULE_SECONDS.join(',') },
  ).describe('The waits between delivery attempts; after the last one a delivery has failed.'),
  PAYLOAD_RETENTION_DAYS: int(5, 1).describe(
    'Payloads are kept this long, for retries and replay; an event still undelivered then is dropped.',
  ),
  LEDGER_RETENTION_DAYS: int(400, 1).describe(
    'The delivery ledger (who was sent what, when, with what answer) is kept this long, for the audit.',
  ),
  ACTIVITY_DEDUPE_DAYS: int(7, 1).describe(
    'An activity id is remembered this long: posting it again within the window delivers nothing new.',
  ),
  FAN_OUT_INDEX: documented(z.enum(['d1', 'objects']).catch('d1').default('d1'), { type: '`d1` or `objects`', default: 'd1' }).describe(
    "Where ingest records activity ids and looks up each user's subscribed apps: `d1` (the control-plane database) or `objects` (objects sharded by activity id and by user, off D1's single writer; docs/scaling.md).",
  ),
  FAN_OUT_INDEX_SHARDS: int(8, 1).describe(
    'How many objects each of the two fan-out indexes is spread over with `FAN_OUT_INDEX=objects` (at most 64). Changing it starts both indexes afresh: docs/scaling.md.',
  ),
  REPLAY_RATE_PER_SECOND: int(2500, 1).describe('A replay job releases at most this many events per second to its webhook.'),
  SECRET_ROTATION_GRACE_HOURS: int(24, 0).describe(
    'After a consumer or signing secret rotation, the previous secret is still honoured this long.',
  ),
  XAA_SUBSCRIPTIONS_SELF_SERVE: int(1_500, 1).describe(
    "Live X Activity API subscriptions an app of the `self_serve` tier may hold (X's self-serve figure).",
  ),
  XAA_SUBSCRIPTIONS_ENTERPRISE: int(75_000, 1).describe('Live X Activity API subscriptions an app of the `enterprise` tier may hold.'),
  XAA_SUBSCRIPTIONS_PARTNER: int(150_000, 1).describe('Live X Activity API subscriptions an app of the `partner` tier may hold.'),
  XAA_STREAM_CONNECTIONS: int(2, 1).describe('Open `GET /2/activity/stream` connections per app; one more is refused with 429.'),
  XAA_STREAM_KEEPALIVE_SECONDS: int(15, 1).describe(
    'An idle stream connection gets a keep-alive line (`\\r\\n`) this often; values above 20 count as 20.',
  ),
  XAA_STREAM_MAX_LAG_BYTES: int(8 * 1024 * 1024, 65_536).describe(
    'A stream reader whose unread lines add up to more than this is sent a reason line and disconnected.',
  ),
  OAUTH_ACCESS_TOKEN_SECONDS: int(7200, 60).describe(
    'A user access token issued by the OAuth 2.0 flow works this long (X: 2 hours); `offline.access` also gives a refresh token.',
  ),
  OAUTH_REFRESH_TOKEN_DAYS: int(90, 1).describe('An unused refresh token expires after this many days; each use rotates it.'),
  OAUTH_CODE_SECONDS: int(60, 10).describe('An authorization code must be exchanged within this many seconds, and only once.'),
  LOGIN_URL: text('absolute URL').describe(
    "The platform's sign-in page: a browser with no session on the consent or Connected apps page is sent here with `return_to` and `nonce` (docs/operations.md).",
  ),
  LOGIN_ASSERTION_KEYS: text('JSON Web Key Set (public keys)').describe(
    "The platform's public keys (a JWKS) that verify the signed user assertion its sign-in page sends back.",
  ),
  LOGIN_ASSERTION_ISSUER: text('string').describe('If set, the `iss` every sign-in assertion must carry.'),
  USER_SESSION_HOURS: int(12, 1).describe("How long a user's sign-in on the consent and Connected apps pages lasts."),
  PORTAL_SESSION_HOURS: int(8, 1).describe(
    "How long a developer's sign-in to the developer portal lasts (rotating the consumer secret ends it sooner).",
  ),
  CONSOLE_SESSION_HOURS: int(2, 1).describe(
    "How long the operator's sign-in to the operator console lasts (changing PLATFORM_TOKEN ends it sooner).",
  ),
  DEV_LOGIN: flag.describe(
    'Local development only: a sign-in page where you pick any user id (served on loopback hosts only). Never set it in production.',
  ),
  RATE_LIMIT_WINDOW_SECONDS: int(900, 1).describe("The rate-limit window (X's is 15 minutes)."),
  RATE_LIMITS: documented(z.string().optional().catch(undefined).transform(limitsFrom), {
    type: 'JSON object: endpoint → requests per window',
    default: '',
  }).describe(
    'Overrides of the per-endpoint limits in `src/domain/rate-limits.ts`, e.g. `{"replay": 10}`; unknown endpoints and non-positive values are ignored.',
  ),
});

export type SettingName = keyof z.input<typeof settingsSchema>;

/** One setting as docs/settings.md and wrangler.toml's [vars] show it. */
export interface SettingEntry extends SettingMeta {
  name: SettingName;
  description: string;
}

/** Every setting, in schema order, with its documentation. */
export function settingsCatalog(): SettingEntry[] {
  return Object.entries(settingsSchema.shape).map(([name, schema]) => {
    const meta = schema.meta() as Partial<SettingMeta> & { description?: string };
    if (meta?.type === undefined || meta.default === undefined || !meta.description) {
      throw new Error(`setting ${name} needs a type, a default and a description in src/config.ts`);
    }
    return { name: name as SettingName, type: meta.type, default: meta.default, description: meta.description };
  });
}

export interface Settings {
  allowInsecureWebhooks: boolean;
  crcTimeoutMs: number;
  crcRevalidateAfterMs: number;
  crcInvalidAfterMs: number;
  crcBatchPerCron: number;
  /** One delivery attempt's deadline (a 2xx within it is success). */
  deliveryTimeoutMs: number;
  /** A release no consumer claimed within this is released again (the new release supersedes it). */
  deliveryLeaseMs: number;
  /** A handed-out request must start within this, or not at all: what bounds a withdrawal's fence. */
  handOutStartWindowMs: number;
  /** Added to a withdrawal's wait for clock differences between the object and the consumer. */
  fenceMarginMs: number;
  /** After a hand-out's attempt timeout, how long its report may still arrive before it counts as outcome unknown. */
  reportGraceMs: number;
  /** A webhook slower than this (or not answering) moves to the slow queue. */
  slowWebhookMs: number;
  /** Waits between attempts; after the last, a delivery has failed. */
  retryScheduleSeconds: number[];
  /** How long payloads (replay) and ledger metadata (audit) are kept. */
  retention: { payloadMs: number; ledgerMs: number };
  /** How long an activity id is remembered: re-posting it within this window delivers nothing new. */
  activityDedupeMs: number;
  /** Where ingest's activity-id record and audience look-up live, and over how many objects each index is spread. */
  fanOutIndex: { kind: 'd1' | 'objects'; shards: number };
  /** A replay job releases at most this many events per second to its webhook. */
  replayRatePerSecond: number;
  /** After a secret rotation, how long the previous secret is still honoured. */
  rotationGraceMs: number;
  /** Live XAA subscriptions an app may hold, by its tier. */
  xaaSubscriptionLimits: Record<XaaTier, number>;
  /** The app's XAA streams: open connections, keep-alive interval, how far a reader may fall behind. */
  stream: { maxConnections: number; keepAliveMs: number; maxLagBytes: number };
  /** Lifetimes of what the OAuth 2.0 authorization-code flow issues. */
  oauth: { accessTokenMs: number; refreshTokenMs: number; codeMs: number };
  /** How users sign in to the consent and Connected apps pages: the platform's, or the development login. */
  login: { url: string | null; assertionKeys: string | null; assertionIssuer: string | null; sessionMs: number; devLogin: boolean };
  /** How long the developer portal's and the operator console's sign-ins last. */
  pages: { portalSessionMs: number; consoleSessionMs: number };
  /** Rate-limit window (X: 15 minutes). */
  rateLimitWindowMs: number;
  /** Requests per window by endpoint: the defaults with `RATE_LIMITS` over them. */
  rateLimits: Record<LimitedEndpoint, number>;
  /** Body limits: ingest batches may be large, everything else is small. */
  maxBodyBytes: number;
  maxIngestBodyBytes: number;
  /** Webhook URL length limit (X: 200 characters). */
  maxWebhookUrlLength: number;
}

/**
 * Parsed settings by the env object they came from. The runtime hands every request of an isolate the
 * same env, so the schema is parsed once per isolate rather than several times per request (it showed
 * as about 0.2 ms of CPU per ingest at 200 posts/s). An env is never changed after it is handed out; a
 * caller with other values passes another object (the tests spread one), which is parsed afresh.
 */
const parsedByEnv = new WeakMap<object, Settings>();

export function settings(env: Partial<Record<SettingName, unknown>>): Settings {
  let parsed = parsedByEnv.get(env);
  if (!parsed) {
    parsed = parseSettings(env);
    parsedByEnv.set(env, parsed);
  }
  return parsed;
}

function parseSettings(env: Partial<Record<SettingName, unknown>>): Settings {
  const s = settingsSchema.parse(env);
  return {
    allowInsecureWebhooks: s.ALLOW_INSECURE_WEBHOOKS,
    crcTimeoutMs: s.CRC_TIMEOUT_MS,
    crcRevalidateAfterMs: hours(s.CRC_REVALIDATE_AFTER_HOURS),
    crcInvalidAfterMs: hours(s.CRC_INVALID_AFTER_HOURS),
    crcBatchPerCron: s.CRC_BATCH_PER_CRON,
    deliveryTimeoutMs: s.DELIVERY_TIMEOUT_MS,
    deliveryLeaseMs: s.DELIVERY_LEASE_SECONDS * 1000,
    handOutStartWindowMs: s.HANDOUT_START_WINDOW_MS,
    fenceMarginMs: s.FENCE_MARGIN_MS,
    reportGraceMs: s.REPORT_GRACE_SECONDS * 1000,
    slowWebhookMs: s.SLOW_WEBHOOK_MS,
    retryScheduleSeconds: s.RETRY_SCHEDULE_SECONDS,
    retention: { payloadMs: s.PAYLOAD_RETENTION_DAYS * 24 * hours(1), ledgerMs: s.LEDGER_RETENTION_DAYS * 24 * hours(1) },
    replayRatePerSecond: s.REPLAY_RATE_PER_SECOND,
    activityDedupeMs: s.ACTIVITY_DEDUPE_DAYS * 24 * hours(1),
    fanOutIndex: { kind: s.FAN_OUT_INDEX, shards: Math.min(RESERVED_NODES, s.FAN_OUT_INDEX_SHARDS) },
    rotationGraceMs: hours(s.SECRET_ROTATION_GRACE_HOURS),
    xaaSubscriptionLimits: {
      self_serve: s.XAA_SUBSCRIPTIONS_SELF_SERVE,
      enterprise: s.XAA_SUBSCRIPTIONS_ENTERPRISE,
      partner: s.XAA_SUBSCRIPTIONS_PARTNER,
    },
    stream: {
      maxConnections: s.XAA_STREAM_CONNECTIONS,
      keepAliveMs: Math.min(20, s.XAA_STREAM_KEEPALIVE_SECONDS) * 1000,
      maxLagBytes: s.XAA_STREAM_MAX_LAG_BYTES,
    },
    oauth: {
      accessTokenMs: s.OAUTH_ACCESS_TOKEN_SECONDS * 1000,
      refreshTokenMs: s.OAUTH_REFRESH_TOKEN_DAYS * 24 * hours(1),
      codeMs: s.OAUTH_CODE_SECONDS * 1000,
    },
    login: {
      url: s.LOGIN_URL,
      assertionKeys: s.LOGIN_ASSERTION_KEYS,
      assertionIssuer: s.LOGIN_ASSERTION_ISSUER,
      sessionMs: hours(s.USER_SESSION_HOURS),
      devLogin: s.DEV_LOGIN,
    },
    pages: { portalSessionMs: hours(s.PORTAL_SESSION_HOURS), consoleSessionMs: hours(s.CONSOLE_SESSION_HOURS) },
    rateLimitWindowMs: s.RATE_LIMIT_WINDOW_SECONDS * 1000,
    rateLimits: s.RATE_LIMITS,
    maxBodyBytes: 64 * 1024,
    maxIngestBodyBytes: 1024 * 1024,
    maxWebhookUrlLength: 200,
  };
}

/** Sent on every outbound request so receivers can tell who is calling. */
export const USER_AGENT = 'account-activity-edge/0.1 (webhook delivery)';
