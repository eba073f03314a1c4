-- The department groups of a target (departments shown downstream as
-- groups) and what was last put in each: a person or a sub-department
-- (`member_type` User or Department, by local id). The real-time worker
-- diffs a changed person's or department's groups against these rows, as
-- the change log holds only the new state.
CREATE TABLE sync_department_members (
    target_id TEXT NOT NULL,
    department_id TEXT NOT NULL,
    member_type TEXT NOT NULL,
    member_id TEXT NOT NULL,
    PRIMARY KEY (target_id, member_type, member_id, department_id)
);
CREATE INDEX sync_department_members_department ON sync_department_members (target_id, department_id);
