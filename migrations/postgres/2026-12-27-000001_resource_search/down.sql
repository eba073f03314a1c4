DROP INDEX resources_last_modified;
DROP INDEX resources_search_external_id;
DROP INDEX resources_search_display_name;
ALTER TABLE resources DROP COLUMN search;
