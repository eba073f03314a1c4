-- Resources of the types that are data in the registry (Agents,
-- AgenticApplications): the JSON resource (`data`) under its type, and
-- `unique_value`, the lower-cased value of the type's unique attribute
-- (`name`), so two resources of one type never share it.
CREATE TABLE resources (
    id TEXT PRIMARY KEY NOT NULL,
    resource_type TEXT NOT NULL,
    unique_value TEXT,
    data TEXT NOT NULL,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX resources_unique_value ON resources (resource_type, unique_value) WHERE unique_value IS NOT NULL;
CREATE INDEX resources_created ON resources (resource_type, created, id);
