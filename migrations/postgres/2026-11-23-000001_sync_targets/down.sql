DROP TABLE sync_failures;
DROP TABLE sync_runs;
DROP TABLE sync_links;
DROP TABLE sync_targets;
