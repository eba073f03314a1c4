-- A raised "failure queue keeps growing" alert: one row per target from the
-- notification until its queue has drained, so a restart (or another
-- instance) does not notify again. `depth` is the depth when it was raised.
CREATE TABLE sync_queue_alerts (
    target_id TEXT PRIMARY KEY NOT NULL REFERENCES sync_targets (id) ON DELETE CASCADE,
    depth BIGINT NOT NULL,
    since TIMESTAMP NOT NULL
);
