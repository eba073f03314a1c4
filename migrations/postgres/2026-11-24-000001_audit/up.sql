-- The durable audit trail: who did what, from where, in which request.
-- Resource changes are written in the same transaction as the change.
-- Never holds secrets: only the names of changed attributes.
CREATE TABLE audit_events (
    seq BIGSERIAL PRIMARY KEY NOT NULL,
    at TIMESTAMP NOT NULL,
    event TEXT NOT NULL,
    actor TEXT NOT NULL,
    request_id TEXT,
    source TEXT,
    resource_type TEXT,
    resource_id TEXT,
    attributes TEXT,
    detail TEXT
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_actor ON audit_events (actor);
CREATE INDEX audit_events_resource ON audit_events (resource_id);

-- How far the change log has been pruned: a pull cursor below this is gone.
CREATE TABLE change_log_state (
    id INTEGER PRIMARY KEY NOT NULL,
    pruned_through BIGINT NOT NULL
);
INSERT INTO change_log_state (id, pruned_through) VALUES (1, 0);
