CREATE TABLE `fan_out_retries` (
	`event_id` text NOT NULL,
	`app_id` text NOT NULL,
	`activity` text,
	`attempts` integer NOT NULL,
	`next_at` integer NOT NULL,
	`created_at` integer NOT NULL,
	`last_error` text,
	`gave_up_at` integer,
	PRIMARY KEY(`event_id`, `app_id`)
);
--> statement-breakpoint
CREATE INDEX `fan_out_retries_due` ON `fan_out_retries` (`next_at`) WHERE gave_up_at is null;--> statement-breakpoint
CREATE TABLE `webhook_history` (
	`webhook_id` text NOT NULL,
	`app_id` text NOT NULL,
	`url` text NOT NULL,
	`valid` integer NOT NULL,
	`deleted` integer NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `webhook_history_webhook` ON `webhook_history` (`webhook_id`,`at`);--> statement-breakpoint
CREATE INDEX `webhook_history_app` ON `webhook_history` (`app_id`);--> statement-breakpoint
INSERT INTO `webhook_history` (`webhook_id`, `app_id`, `url`, `valid`, `deleted`, `at`) SELECT `id`, `app_id`, `url`, 1, 0, `created_at` FROM `webhooks`;--> statement-breakpoint
INSERT INTO `webhook_history` (`webhook_id`, `app_id`, `url`, `valid`, `deleted`, `at`) SELECT `id`, `app_id`, `url`, 0, 0, `last_crc_at` FROM `webhooks` WHERE `valid` = 0 AND `last_crc_at` IS NOT NULL;--> statement-breakpoint
INSERT INTO `webhook_history` (`webhook_id`, `app_id`, `url`, `valid`, `deleted`, `at`) SELECT `id`, `app_id`, `url`, 0, 1, `deleted_at` FROM `webhooks` WHERE `deleted_at` IS NOT NULL;
