import { settings } from '../config';
import type { Withdrawal } from '../domain/delivery-protocol';

/**
 * The withdrawal fence, Worker side (docs/delivery.md, "Withdrawal"). The app's object has already
 * stopped handing out anything in the withdrawn scope and dropped what was waiting; requests it
 * handed out before may still start until their deadline. Waiting out the last deadline, plus a
 * margin for the difference between the object's and the consumer's clocks, before the withdrawal
 * answers is what makes "when it returns, nothing in its scope starts afterwards" true. The wait is
 * bounded by the hand-out start window (3 s by default) and is zero when nothing was handed out.
 */
export async function awaitFence(env: Env, withdrawal: Withdrawal): Promise<void> {
  if (withdrawal.fenceWaitMs <= 0) return;
  await new Promise((resolve) => setTimeout(resolve, withdrawal.fenceWaitMs + settings(env).fenceMarginMs));
}
