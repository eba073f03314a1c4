DROP TABLE sync_deprovisions;
ALTER TABLE sync_targets DROP COLUMN state;
