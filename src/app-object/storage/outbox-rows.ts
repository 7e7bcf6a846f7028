import type { DeliveryKind, DeliveryScope } from '../../domain/entitlement';

/** The rows of `messages` and `outbox` as the object reads them, and the lane names (outbox-store.ts). */
export type MessageKind = DeliveryKind;
export type OutboxState = 'waiting' | 'held' | 'released' | 'handed';

export const liveLane = (webhookId: string, userId: string) => `${webhookId}|${userId}`;
/** A new message's lane: the one it names (a replay copy's, a status's), else its live lane. */
export const laneOf = (m: { lane?: string; webhookId: string; userId: string }) => m.lane ?? liveLane(m.webhookId, m.userId);
export const replayLane = (webhookId: string, userId: string, jobId: string) => `${webhookId}|${userId}|r${jobId}`;
/** Matches replay lanes (and only them) in SQL `LIKE`. */
export const REPLAY_LANE_PATTERN = '%|%|r%';

export interface NewMessage {
  deliveryId: string;
  /** The `webhook-id` header: the original delivery's for a replay copy. Defaults to deliveryId. */
  webhookMessageId?: string;
  replayJobId?: string;
  lane?: string;
  /** Earliest release (replays are spread out to respect the rate bound). Defaults to createdAt. */
  notBefore?: number;
  kind: MessageKind;
  eventId: string;
  eventType: string;
  requiredScope: string | null;
  webhookId: string;
  userId: string;
  payload: string;
  createdAt: number;
  /** The X Activity API subscription it was rendered for (absent for Account Activity). */
  xaaSubscriptionId?: string;
}

export type MessageRow = {
  seq: number;
  delivery_id: string;
  webhook_message_id: string;
  replay_job_id: string | null;
  kind: MessageKind;
  event_id: string;
  event_type: string;
  required_scope: string | null;
  webhook_id: string;
  user_id: string;
  payload: string | null;
  created_at: number;
  state: string;
  attempts: number;
  xaa_subscription_id: string | null;
};

export type OutboxRow = {
  seq: number;
  lane: string;
  webhook_id: string;
  user_id: string;
  state: OutboxState;
  attempt: number;
  not_before: number;
  released_at: number | null;
  release: number;
  hand_out_id: number | null;
  start_by: number | null;
};

/** An attempt's outcome as the message keeps it (its latest attempt, status and error). */
export type AttemptRecord = { at: number; statusCode: number | null; error: string | null; attempt: number };

export type ScopedMessage = MessageRow & { lane: string; outbox_state: OutboxState; start_by: number | null };

/** What the entitlement rule needs to know about a stored message. */
export const scopeOfMessage = (m: MessageRow): DeliveryScope => ({
  kind: m.kind,
  webhookId: m.webhook_id,
  userId: m.user_id,
  requiredScope: m.required_scope,
  ingestedAt: m.created_at,
  xaaSubscriptionId: m.xaa_subscription_id,
});
