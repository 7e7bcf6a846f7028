import { z } from 'zod';
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from './domain/retry';

const hours = (h: number) => h * 3_600_000;
const int = (fallback: number, min = 0) => z.coerce.number().int().min(min).catch(fallback).default(fallback);
const flag = z
  .string()
  .optional()
  .transform((v) => v === 'true' || v === '1');

/**
 * Every tunable in one place, read from Worker vars with safe defaults. A malformed value falls back
 * to the default rather than taking the service down.
 */
const settingsSchema = z.object({
  ALLOW_INSECURE_WEBHOOKS: flag,
  CRC_TIMEOUT_MS: int(10_000, 100),
  CRC_REVALIDATE_AFTER_HOURS: int(24, 1),
  CRC_INVALID_AFTER_HOURS: int(28, 1),
  CRC_BATCH_PER_CRON: int(200, 1),
  DELIVERY_TIMEOUT_MS: int(10_000, 100),
  DELIVERY_LEASE_SECONDS: int(120, 5),
  HANDOUT_START_WINDOW_MS: int(3_000, 100),
  FENCE_MARGIN_MS: int(1_000, 0),
  REPORT_GRACE_SECONDS: int(30, 1),
  SLOW_WEBHOOK_MS: int(2_000, 100),
  PAYLOAD_RETENTION_DAYS: int(5, 1),
  LEDGER_RETENTION_DAYS: int(400, 1),
  ACTIVITY_DEDUPE_DAYS: int(7, 1),
  REPLAY_RATE_PER_SECOND: int(2500, 1),
  SECRET_ROTATION_GRACE_HOURS: int(24, 0),
  RATE_LIMIT_WINDOW_SECONDS: int(900, 1),
  RETRY_SCHEDULE_SECONDS: z
    .string()
    .regex(/^\s*\d+(\s*,\s*\d+)*\s*$/)
    .transform((v) => v.split(',').map((n) => Number(n.trim())))
    .catch(DEFAULT_RETRY_SCHEDULE_SECONDS)
    .default(DEFAULT_RETRY_SCHEDULE_SECONDS),
});

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
  /** A replay job releases at most this many events per second to its webhook. */
  replayRatePerSecond: number;
  /** After a secret rotation, how long the previous secret is still honoured. */
  rotationGraceMs: number;
  /** Rate-limit window (X: 15 minutes); the limits themselves are `RATE_LIMITS` over the defaults. */
  rateLimitWindowMs: number;
  /** Body limits: ingest batches may be large, everything else is small. */
  maxBodyBytes: number;
  maxIngestBodyBytes: number;
  /** Webhook URL length limit (X: 200 characters). */
  maxWebhookUrlLength: number;
}

export function settings(env: Partial<Record<keyof z.input<typeof settingsSchema>, unknown>>): Settings {
  const s = settingsSchema.parse({
    ALLOW_INSECURE_WEBHOOKS: env.ALLOW_INSECURE_WEBHOOKS,
    CRC_TIMEOUT_MS: env.CRC_TIMEOUT_MS,
    CRC_REVALIDATE_AFTER_HOURS: env.CRC_REVALIDATE_AFTER_HOURS,
    CRC_INVALID_AFTER_HOURS: env.CRC_INVALID_AFTER_HOURS,
    CRC_BATCH_PER_CRON: env.CRC_BATCH_PER_CRON,
    DELIVERY_TIMEOUT_MS: env.DELIVERY_TIMEOUT_MS,
    DELIVERY_LEASE_SECONDS: env.DELIVERY_LEASE_SECONDS,
    HANDOUT_START_WINDOW_MS: env.HANDOUT_START_WINDOW_MS,
    FENCE_MARGIN_MS: env.FENCE_MARGIN_MS,
    REPORT_GRACE_SECONDS: env.REPORT_GRACE_SECONDS,
    SLOW_WEBHOOK_MS: env.SLOW_WEBHOOK_MS,
    RETRY_SCHEDULE_SECONDS: env.RETRY_SCHEDULE_SECONDS,
    PAYLOAD_RETENTION_DAYS: env.PAYLOAD_RETENTION_DAYS,
    LEDGER_RETENTION_DAYS: env.LEDGER_RETENTION_DAYS,
    ACTIVITY_DEDUPE_DAYS: env.ACTIVITY_DEDUPE_DAYS,
    REPLAY_RATE_PER_SECOND: env.REPLAY_RATE_PER_SECOND,
    SECRET_ROTATION_GRACE_HOURS: env.SECRET_ROTATION_GRACE_HOURS,
    RATE_LIMIT_WINDOW_SECONDS: env.RATE_LIMIT_WINDOW_SECONDS,
  });
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
    rotationGraceMs: hours(s.SECRET_ROTATION_GRACE_HOURS),
    rateLimitWindowMs: s.RATE_LIMIT_WINDOW_SECONDS * 1000,
    maxBodyBytes: 64 * 1024,
    maxIngestBodyBytes: 1024 * 1024,
    maxWebhookUrlLength: 200,
  };
}

/** Sent on every outbound request so receivers can tell who is calling. */
export const USER_AGENT = 'account-activity-edge/0.1 (webhook delivery)';
