DROP TABLE sync_queue_alerts;
