-- Text columns use COLLATE "C" (byte order), as in the foundation migration.
-- The organization tree. A department is its JSON resource (`data`) plus the
-- columns filters, sorts and tree walks use. `path` is the materialized list
-- of ids from the root down to the department itself (`/rootId/…/id/`), so
-- "everything under X" is one range of the `path` index; a move rewrites
-- the paths of the moved subtree only.
CREATE TABLE departments (
    id TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    display_name TEXT COLLATE "C" NOT NULL,
    display_name_lower TEXT COLLATE "C" NOT NULL,
    code TEXT COLLATE "C",
    external_id TEXT COLLATE "C",
    parent_id TEXT COLLATE "C" REFERENCES departments (id),
    ordering BIGINT NOT NULL,
    path TEXT COLLATE "C" NOT NULL,
    data TEXT COLLATE "C" NOT NULL,
    created TIMESTAMP NOT NULL,
    last_modified TIMESTAMP NOT NULL,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX departments_path ON departments (path);
-- A name is unique among one parent's departments (roots share one parent: none).
CREATE UNIQUE INDEX departments_sibling_name ON departments (COALESCE(parent_id, ''), display_name_lower);
CREATE INDEX departments_parent ON departments (parent_id) WHERE parent_id IS NOT NULL;
CREATE UNIQUE INDEX departments_code ON departments (code) WHERE code IS NOT NULL;
CREATE INDEX departments_external_id ON departments (external_id) WHERE external_id IS NOT NULL;
CREATE INDEX departments_display_name_lower ON departments (display_name_lower);
CREATE INDEX departments_created ON departments (created, id);

-- A user's primary department and (copied from it) its path: "everyone under
-- X" is a range of `users_department_path`.
ALTER TABLE users ADD COLUMN department_id TEXT COLLATE "C";
ALTER TABLE users ADD COLUMN department_path TEXT COLLATE "C";
CREATE INDEX users_department_id ON users (department_id) WHERE department_id IS NOT NULL;
CREATE INDEX users_department_path ON users (department_path) WHERE department_path IS NOT NULL;

-- The further departments a user belongs to (`departments`).
CREATE TABLE user_departments (
    user_id TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    department_id TEXT COLLATE "C" NOT NULL REFERENCES departments (id),
    PRIMARY KEY (user_id, department_id)
);
CREATE INDEX user_departments_department_id ON user_departments (department_id);
