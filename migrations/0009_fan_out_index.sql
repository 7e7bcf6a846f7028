CREATE TABLE `fan_out_index_state` (
	`id` integer PRIMARY KEY NOT NULL,
	`shards` integer NOT NULL,
	`after_user` text,
	`after_app` text,
	`complete_at` integer
);
