import type { AppDeliveryObject } from '../../src/delivery/app-delivery-object';
import type { Outbox } from '../../src/delivery/outbox';
import type { TenantState } from '../../src/delivery/tenant-state';

interface AppObjectInternals {
  outbox: Outbox;
  state: TenantState;
  scheduleAlarm(): Promise<void>;
}

/**
 * The object's private parts, for tests that stage what its RPC surface cannot (a lost release, an
 * old payload). The one place tests reach past that surface; keep it in step with the object.
 */
export const internalsOf = (object: AppDeliveryObject) => object as unknown as AppObjectInternals;

/** Drops the object's cached tenant row, after a test rewrote it in SQL behind the object's back. */
export function forgetCachedTenant(object: AppDeliveryObject) {
  (internalsOf(object).state as unknown as { cached: unknown }).cached = undefined;
}
