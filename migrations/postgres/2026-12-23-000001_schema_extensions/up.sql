-- Text columns use COLLATE "C" (byte order), as in the foundation migration.
-- Extension schemas defined over the admin API (issue #22): the checked
-- definition document (JSON) per schema id. `generation` counts every
-- change, so an instance learns that it must reload by reading one row.
CREATE TABLE schema_extensions (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    -- Schema ids compare ignoring case (RFC 7643 §2.1).
    id_lower TEXT COLLATE "C" NOT NULL UNIQUE,
    resource_type TEXT COLLATE "C" NOT NULL,
    definition TEXT COLLATE "C" NOT NULL,
    version BIGINT NOT NULL,
    created TIMESTAMP NOT NULL,
    updated TIMESTAMP NOT NULL
);
CREATE TABLE schema_generation (
    id INTEGER PRIMARY KEY NOT NULL,
    generation BIGINT NOT NULL
);
INSERT INTO schema_generation (id, generation) VALUES (1, 0);
