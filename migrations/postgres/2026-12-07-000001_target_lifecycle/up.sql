-- A target's lifecycle: `new` (added, nothing pushed until its initial
-- full run or an explicit resume), `active`, `paused`. Existing targets
-- were already being pushed to.
ALTER TABLE sync_targets ADD COLUMN state TEXT NOT NULL DEFAULT 'active';

-- Deprovisions applied automatically, for the deletion guard's window.
CREATE TABLE sync_deprovisions (
    id TEXT PRIMARY KEY NOT NULL,
    target_id TEXT NOT NULL REFERENCES sync_targets (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    local_id TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX sync_deprovisions_window ON sync_deprovisions (target_id, at);
