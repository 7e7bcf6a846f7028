/**
 * The one way the Worker reaches an app's object: by app id, never by anything about its webhooks.
 * The object itself refuses calls meant for another app (see AppDeliveryObject).
 */
export const appObject = (env: Env, appId: string) => env.APP_DELIVERY.get(env.APP_DELIVERY.idFromName(`app:${appId}`));
