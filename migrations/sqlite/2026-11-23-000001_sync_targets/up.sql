-- Downstream SCIM targets of the sync center. `credentials` is an AEAD
-- ciphertext (base64 of nonce || sealed JSON); `settings` and `mapping` are JSON.
CREATE TABLE sync_targets (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    base_url TEXT NOT NULL,
    credentials TEXT NOT NULL,
    settings TEXT NOT NULL,
    mapping TEXT,
    scope TEXT,
    change_cursor BIGINT NOT NULL DEFAULT 0,
    created TIMESTAMP NOT NULL,
    updated TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sync_targets_name ON sync_targets (name);

-- The id map: which remote object a local resource is on a target, and the
-- hash of the state last pushed there.
CREATE TABLE sync_links (
    target_id TEXT NOT NULL REFERENCES sync_targets (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    local_id TEXT NOT NULL,
    remote_id TEXT NOT NULL,
    state_hash TEXT NOT NULL,
    updated TIMESTAMP NOT NULL,
    PRIMARY KEY (target_id, resource_type, local_id)
);
CREATE UNIQUE INDEX sync_links_remote ON sync_links (target_id, resource_type, remote_id);

-- One row per sync run (the report); `counts` and `pending` are JSON.
CREATE TABLE sync_runs (
    id TEXT PRIMARY KEY NOT NULL,
    target_id TEXT NOT NULL REFERENCES sync_targets (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    dry_run BOOLEAN NOT NULL,
    started TIMESTAMP NOT NULL,
    finished TIMESTAMP,
    counts TEXT NOT NULL,
    pending TEXT
);
CREATE INDEX sync_runs_target ON sync_runs (target_id, started);

-- Per-object failures of a run, with the target's error.
CREATE TABLE sync_failures (
    id TEXT PRIMARY KEY NOT NULL,
    run_id TEXT NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    local_id TEXT NOT NULL,
    action TEXT NOT NULL,
    status INTEGER,
    detail TEXT NOT NULL
);
CREATE INDEX sync_failures_run ON sync_failures (run_id);
