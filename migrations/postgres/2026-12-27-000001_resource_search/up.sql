-- `search`: the plain resource's single-valued top-level strings and booleans
-- as a JSON object, strings case-folded as the filter evaluator folds them
-- (computed by the server on write; rows written before are filled at start),
-- so list filters and sorts on them run in SQL (byte order: COLLATE "C").
ALTER TABLE resources ADD COLUMN search TEXT COLLATE "C";
CREATE INDEX resources_search_display_name ON resources (resource_type, ((search::jsonb ->> 'displayName') COLLATE "C"));
CREATE INDEX resources_search_external_id ON resources (resource_type, ((search::jsonb ->> 'externalId') COLLATE "C"));
CREATE INDEX resources_last_modified ON resources (resource_type, last_modified, id);
