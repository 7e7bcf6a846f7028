CREATE TABLE `app_tokens` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`revoked_at` integer
);
--> statement-breakpoint
CREATE INDEX `app_tokens_app` ON `app_tokens` (`app_id`);--> statement-breakpoint
CREATE TABLE `apps` (
	`id` text PRIMARY KEY NOT NULL,
	`name` text NOT NULL,
	`description` text,
	`status` text NOT NULL,
	`status_reason` text,
	`consumer_key` text NOT NULL,
	`consumer_secret_hash` text NOT NULL,
	`max_webhooks` integer NOT NULL,
	`provisioned_subscriptions` integer NOT NULL,
	`created_at` integer NOT NULL,
	`status_changed_at` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `apps_consumer_key_unique` ON `apps` (`consumer_key`);--> statement-breakpoint
CREATE TABLE `authorizations` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`user_id` text NOT NULL,
	`scope` text NOT NULL,
	`token_hash` text NOT NULL,
	`created_at` integer NOT NULL,
	`ended_at` integer,
	`end_reason` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `authorizations_token_hash_unique` ON `authorizations` (`token_hash`);--> statement-breakpoint
CREATE UNIQUE INDEX `authorizations_active` ON `authorizations` (`app_id`,`user_id`) WHERE ended_at is null;--> statement-breakpoint
CREATE INDEX `authorizations_user` ON `authorizations` (`user_id`);--> statement-breakpoint
CREATE TABLE `subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`webhook_id` text NOT NULL,
	`user_id` text NOT NULL,
	`created_at` integer NOT NULL,
	`ended_at` integer,
	`end_reason` text
);
--> statement-breakpoint
CREATE UNIQUE INDEX `subscriptions_live` ON `subscriptions` (`webhook_id`,`user_id`) WHERE ended_at is null;--> statement-breakpoint
CREATE INDEX `subscriptions_user_live` ON `subscriptions` (`user_id`,`app_id`) WHERE ended_at is null;--> statement-breakpoint
CREATE INDEX `subscriptions_app_live` ON `subscriptions` (`app_id`) WHERE ended_at is null;--> statement-breakpoint
CREATE TABLE `webhooks` (
	`id` text PRIMARY KEY NOT NULL,
	`app_id` text NOT NULL,
	`url` text NOT NULL,
	`valid` integer NOT NULL,
	`created_at` integer NOT NULL,
	`last_crc_at` integer,
	`last_crc_success_at` integer,
	`last_crc_error` text,
	`deleted_at` integer
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhooks_app_url_live` ON `webhooks` (`app_id`,`url`) WHERE deleted_at is null;--> statement-breakpoint
CREATE INDEX `webhooks_app` ON `webhooks` (`app_id`);--> statement-breakpoint
CREATE INDEX `webhooks_crc_due` ON `webhooks` (`last_crc_success_at`) WHERE deleted_at is null;