CREATE TABLE `app_status_history` (
	`app_id` text NOT NULL,
	`status` text NOT NULL,
	`at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `app_status_history_app` ON `app_status_history` (`app_id`,`at`);