-- What a change touched, for SCIM events (RFC 9967) in notice mode and for
-- activate/deactivate: the changed attribute names (comma-separated, never
-- values; NULL on rows written before this column) and the new value of
-- `active` when the change changed it.
ALTER TABLE changes ADD COLUMN attributes TEXT;
ALTER TABLE changes ADD COLUMN active BOOLEAN;

-- A subscription is today's signed JSON webhook (`webhook`) or a stream of
-- Security Event Tokens (`set`), pushed to its URL (RFC 8935) or fetched by
-- the receiver (`poll`, RFC 8936; `url` is then empty), with the resource
-- in the SET (`full`) or only the changed attribute names (`notice`).
ALTER TABLE webhook_subscriptions ADD COLUMN format TEXT NOT NULL DEFAULT 'webhook';
ALTER TABLE webhook_subscriptions ADD COLUMN delivery TEXT NOT NULL DEFAULT 'push';
ALTER TABLE webhook_subscriptions ADD COLUMN mode TEXT NOT NULL DEFAULT 'full';

-- SETs a poll receiver acknowledged past its subscription's cursor (acks
-- may come out of order); the cursor moves over them and they are dropped.
CREATE TABLE event_acks (
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    PRIMARY KEY (subscription_id, seq)
);
