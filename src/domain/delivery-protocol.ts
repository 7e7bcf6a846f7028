import { z } from 'zod';

/**
 * A queue message names one release of one delivery: the app (which object to ask), the message's
 * sequence number and delivery id in that object, and the attempt. No payloads, no secrets, no URLs:
 * the consumer learns what to send only by claiming it from the app's object.
 */
export const deliveryMessageSchema = z.object({
  app: z.string().regex(/^[0-9]{1,19}$/),
  seq: z.number().int().positive(),
  id: z.string().min(1).max(200),
  attempt: z.number().int().positive(),
});

export type DeliveryMessage = z.infer<typeof deliveryMessageSchema>;

/** One signed request, ready to POST, as the app's object hands it out at claim time. */
export interface ClaimedRequest {
  seq: number;
  deliveryId: string;
  attempt: number;
  url: string;
  headers: Record<string, string>;
  body: string;
}

export interface AttemptReport {
  seq: number;
  deliveryId: string;
  attempt: number;
  /** When the POST started: the ledger records attempts by their start. */
  startedAt?: number;
  result: import('./retry').AttemptResult;
}
