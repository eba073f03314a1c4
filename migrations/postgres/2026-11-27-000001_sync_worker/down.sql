DROP TABLE sync_quarantine;
DROP TABLE sync_leases;
DROP TABLE sync_queue;
