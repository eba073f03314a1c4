ALTER TABLE sync_runs DROP COLUMN summary;
