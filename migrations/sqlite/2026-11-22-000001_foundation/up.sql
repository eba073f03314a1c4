-- Users: the full resource lives in `data` (JSON text); the attributes clients
-- filter and sort on are copied into indexed columns. `*_lower` columns hold
-- Unicode lower-case values (computed in Rust) for caseExact=false attributes.
CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    user_name TEXT NOT NULL,
    user_name_lower TEXT NOT NULL,
    external_id TEXT,
    display_name TEXT,
    display_name_lower TEXT,
    given_name_lower TEXT,
    family_name_lower TEXT,
    title_lower TEXT,
    active BOOLEAN NOT NULL,
    employee_number_lower TEXT,
    department_lower TEXT,
    cost_center_lower TEXT,
    manager_id TEXT,
    password_hash TEXT,
    data TEXT NOT NULL,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
-- Optional attributes get partial indexes: absent values cost nothing on insert, and every
-- filter predicate carries `col IS NOT NULL`, so the planner can use them.
CREATE UNIQUE INDEX users_user_name_lower ON users (user_name_lower);
CREATE INDEX users_external_id ON users (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX users_display_name_lower ON users (display_name_lower) WHERE display_name_lower IS NOT NULL;
CREATE INDEX users_given_name_lower ON users (given_name_lower) WHERE given_name_lower IS NOT NULL;
CREATE INDEX users_family_name_lower ON users (family_name_lower) WHERE family_name_lower IS NOT NULL;
CREATE INDEX users_title_lower ON users (title_lower) WHERE title_lower IS NOT NULL;
CREATE INDEX users_employee_number_lower ON users (employee_number_lower) WHERE employee_number_lower IS NOT NULL;
CREATE INDEX users_department_lower ON users (department_lower) WHERE department_lower IS NOT NULL;
CREATE INDEX users_cost_center_lower ON users (cost_center_lower) WHERE cost_center_lower IS NOT NULL;
CREATE INDEX users_manager_id ON users (manager_id) WHERE manager_id IS NOT NULL;
CREATE INDEX users_created ON users (created, id);
CREATE INDEX users_last_modified ON users (last_modified);

-- One row per email (with or without a value) so `emails.value` / `emails.type`
-- filters are indexable and a value filter binds to one element.
CREATE TABLE user_emails (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    value_lower TEXT,
    type_lower TEXT,
    is_primary BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, position)
);
CREATE INDEX user_emails_value_lower ON user_emails (value_lower) WHERE value_lower IS NOT NULL;

CREATE TABLE scim_groups (
    id TEXT PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL,
    display_name_lower TEXT NOT NULL,
    external_id TEXT,
    data TEXT NOT NULL,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX scim_groups_display_name_lower ON scim_groups (display_name_lower);
CREATE INDEX scim_groups_external_id ON scim_groups (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX scim_groups_created ON scim_groups (created, id);

-- Memberships are rows: adding or removing one member never touches the others.
-- member_id points at a user or a group (member_type), so it carries no foreign key;
-- the store removes rows for a deleted member explicitly.
CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES scim_groups (id) ON DELETE CASCADE,
    member_id TEXT NOT NULL,
    member_type TEXT NOT NULL,
    PRIMARY KEY (group_id, member_id)
);
CREATE INDEX group_members_member_id ON group_members (member_id);

-- Append-only change log consumed by outbound sync and the pull API.
CREATE TABLE changes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    version BIGINT NOT NULL,
    changed_at TIMESTAMP NOT NULL,
    actor TEXT NOT NULL
);
CREATE INDEX changes_resource ON changes (resource_type, resource_id);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    user_id TEXT,
    created TIMESTAMP NOT NULL,
    last_used TIMESTAMP,
    revoked TIMESTAMP
);
-- A name identifies one live token; revoked tokens keep their row for the record.
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked IS NULL;
