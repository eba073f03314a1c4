-- Upstream sources of the organization center (HR files, another SCIM
-- server, LDAP / Active Directory). `credentials` is an AEAD ciphertext like
-- target credentials (NULL when the source needs none); `settings` and
-- `mapping` are JSON; `watermark` is where the next incremental run starts.
CREATE TABLE sources (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    settings TEXT NOT NULL,
    credentials TEXT,
    mapping TEXT,
    watermark TEXT,
    created TIMESTAMP NOT NULL,
    updated TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX sources_name ON sources (name);

-- Which scimhub resource each upstream record became: the source's own id
-- (`external_key`) → `local_id`, the hash of the state last imported ('' once
-- the source stopped supplying it) and the references it declared (JSON).
CREATE TABLE source_links (
    source_id TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    external_key TEXT NOT NULL,
    local_id TEXT NOT NULL,
    state_hash TEXT NOT NULL,
    refs TEXT,
    updated TIMESTAMP NOT NULL,
    PRIMARY KEY (source_id, resource_type, external_key)
);
CREATE INDEX source_links_local ON source_links (resource_type, local_id);

-- One row per import run; `report` is the JSON report (counts, failures,
-- the dry-run plan, what awaits approval, the error of a failed run).
CREATE TABLE source_runs (
    id TEXT PRIMARY KEY NOT NULL,
    source_id TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    dry_run BOOLEAN NOT NULL,
    started TIMESTAMP NOT NULL,
    finished TIMESTAMP,
    report TEXT NOT NULL
);
CREATE INDEX source_runs_source ON source_runs (source_id, started);

-- The failure list: records refused at intake, with the reason and the raw
-- record as read, until a run imports them (or stops seeing them).
CREATE TABLE source_failures (
    source_id TEXT NOT NULL REFERENCES sources (id) ON DELETE CASCADE,
    resource_type TEXT NOT NULL,
    record_key TEXT NOT NULL,
    locator TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    raw TEXT NOT NULL,
    run_id TEXT NOT NULL,
    first_seen TIMESTAMP NOT NULL,
    last_seen TIMESTAMP NOT NULL,
    PRIMARY KEY (source_id, resource_type, record_key)
);
