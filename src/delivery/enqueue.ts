import type { DeliveryMessage } from '../domain/delivery-protocol';
import { countWork } from '../observability/work-counters';

/** A queue takes at most 100 messages per sendBatch. */
const SEND_BATCH_MAX = 100;

/**
 * The one way delivery releases go on a queue: ids only (DeliveryMessage), in batches of at most
 * 100. Used by the Worker's fan-out and by the app's object alike.
 */
export async function enqueueDeliveries(queue: Queue, messages: DeliveryMessage[]): Promise<void> {
  countWork('queue_messages_written', messages.length);
  const sends: Promise<unknown>[] = [];
  for (let i = 0; i < messages.length; i += SEND_BATCH_MAX) {
    sends.push(queue.sendBatch(messages.slice(i, i + SEND_BATCH_MAX).map((body) => ({ body }))));
  }
  await Promise.all(sends);
}
