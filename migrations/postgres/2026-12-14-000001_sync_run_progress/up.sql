-- How far a running run got (JSON), written while it runs so every
-- instance and client can show it.
ALTER TABLE sync_runs ADD COLUMN progress TEXT;
