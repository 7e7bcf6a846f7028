import type { ObjectApi, RunItem } from './delivery-run-ports';

/** How long a message whose object could not be reached waits on the queue before it comes back. */
export const RETRY_DELAY_SECONDS = 5;

/**
 * Gives queue messages a run will not claim back to their app's object, which releases them again
 * (on the slow queue if their webhook is there now). `before` is asked of the object first (telling it
 * a webhook turned slow). Each message is acknowledged once the object has it; if the object cannot
 * be reached, the queue brings it back after RETRY_DELAY_SECONDS, so nothing is lost either way.
 */
export async function handBack(
  object: ObjectApi,
  appId: string,
  items: RunItem[],
  log: (message: string, err?: unknown) => void,
  before?: () => Promise<unknown>,
): Promise<void> {
  try {
    await before?.();
    if (items.length > 0) {
      await object.returnUnclaimed(
        appId,
        items.map((i) => i.body),
      );
    }
    for (const item of items) item.ack();
  } catch (err) {
    log(`app ${appId}: handing back ${items.length} messages failed; the queue brings them back in ${RETRY_DELAY_SECONDS} s`, err);
    for (const item of items) item.retry(RETRY_DELAY_SECONDS);
  }
}
