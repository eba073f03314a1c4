DROP TABLE webhook_subscriptions;
DROP TABLE webhook_deliveries;
