DROP TABLE source_failures;
DROP TABLE source_runs;
DROP TABLE source_links;
DROP TABLE sources;
