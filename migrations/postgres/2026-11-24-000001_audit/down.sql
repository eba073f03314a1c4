DROP TABLE change_log_state;
DROP TABLE audit_events;
