-- Per-run detail beside the counts: warnings, the dry-run plan, the error
-- that ended a failed run (JSON).
ALTER TABLE sync_runs ADD COLUMN summary TEXT;
