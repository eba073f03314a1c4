-- Resources of the types that are data in the registry (Agents,
-- AgenticApplications): the JSON resource (`data`) under its type, and
-- `unique_value`, the lower-cased value of the type's unique attribute
-- (`name`), so two resources of one type never share it.
CREATE TABLE resources (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    resource_type TEXT COLLATE "C" NOT NULL,
    unique_value TEXT COLLATE "C",
    data TEXT COLLATE "C" NOT NULL,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX resources_unique_value ON resources (resource_type, unique_value) WHERE unique_value IS NOT NULL;
CREATE INDEX resources_created ON resources (resource_type, created, id);
