-- The webhook outbox: one row per notification per endpoint, kept until it
-- is delivered or given up on (`dead`), so nothing is lost across restarts.
-- `endpoint` is the configured URL; its secret stays in the config.
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    endpoint TEXT NOT NULL,
    event TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    last_error TEXT,
    status TEXT NOT NULL,
    created TIMESTAMP NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);

-- Change-event subscriptions: an app called back with batches of the change
-- log from `change_cursor` on. `secret` is an AEAD ciphertext like target
-- credentials; `resource_types` is a comma-separated list (empty: all).
CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    resource_types TEXT NOT NULL,
    change_cursor BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    created TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX webhook_subscriptions_name ON webhook_subscriptions (name);
