-- The old name is not restored: the server no longer reads it.
SELECT 1;
