DROP TABLE event_acks;
ALTER TABLE webhook_subscriptions DROP COLUMN mode;
ALTER TABLE webhook_subscriptions DROP COLUMN delivery;
ALTER TABLE webhook_subscriptions DROP COLUMN format;
ALTER TABLE changes DROP COLUMN active;
ALTER TABLE changes DROP COLUMN attributes;
