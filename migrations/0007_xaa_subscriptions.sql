CREATE TABLE `xaa_subscription_targets` (
	`subscription_id` text NOT NULL,
	`app_id` text NOT NULL,
	`webhook_id` text,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `xaa_subscription_targets_app` ON `xaa_subscription_targets` (`app_id`,`subscription_id`,`at`);--> statement-breakpoint
CREATE TABLE `xaa_subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`event_type` text NOT NULL,
	`user_id` text NOT NULL,
	`direction` text,
	`keyword` text,
	`tag` text,
	`webhook_id` text,
	`authorization_id` text,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`ended_at` integer,
	`end_reason` text
);
--> statement-breakpoint
CREATE INDEX `xaa_subscriptions_user_live` ON `xaa_subscriptions` (`user_id`,`app_id`) WHERE ended_at is null;--> statement-breakpoint
CREATE INDEX `xaa_subscriptions_app_live` ON `xaa_subscriptions` (`app_id`,`id`) WHERE ended_at is null;--> statement-breakpoint
CREATE INDEX `xaa_subscriptions_webhook_live` ON `xaa_subscriptions` (`webhook_id`) WHERE ended_at is null;--> statement-breakpoint
ALTER TABLE `apps` ADD `xaa_tier` text DEFAULT 'self_serve' NOT NULL;