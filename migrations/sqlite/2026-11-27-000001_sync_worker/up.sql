-- The failure queue of incremental sync: one row per object that could not
-- be written to a target, retried until it succeeds or an admin decides.
CREATE TABLE sync_queue (
    id TEXT PRIMARY KEY NOT NULL,
    target_id TEXT NOT NULL REFERENCES sync_targets (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    local_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    payload TEXT,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_attempt TIMESTAMP NOT NULL,
    last_status INTEGER,
    last_error TEXT NOT NULL,
    created TIMESTAMP NOT NULL,
    updated TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sync_queue_object ON sync_queue (target_id, resource_type, local_id);
CREATE INDEX sync_queue_due ON sync_queue (target_id, status, next_attempt);

-- Leases: which instance works a target (incremental worker, full runs).
CREATE TABLE sync_leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires TIMESTAMP NOT NULL
);

-- Quarantine of a target that refuses credentials or fails too much.
CREATE TABLE sync_quarantine (
    target_id TEXT PRIMARY KEY NOT NULL REFERENCES sync_targets (id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    since TIMESTAMP NOT NULL
);
