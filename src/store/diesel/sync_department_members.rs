//! What each department group of a target was last given: its people and
//! sub-departments, by local id (see `SyncStore::department_containers`).

use diesel::prelude::*;

use super::connection::{DbConnection, per_backend};
use super::schema::sync_department_members as m;
use crate::store::{DepartmentMembership, StoreResult};

/// Rows per statement: well under both backends' bind-parameter limits.
const CHUNK: usize = 200;

#[derive(Insertable)]
#[diesel(table_name = m)]
struct Row<'a> {
    target_id: &'a str,
    department_id: &'a str,
    member_type: &'a str,
    member_id: &'a str,
}

fn insert(conn: &mut DbConnection, target: &str, rows: &[DepartmentMembership]) -> StoreResult<()> {
    for chunk in rows.chunks(CHUNK) {
        let rows: Vec<Row<'_>> = chunk
            .iter()
            .map(|r| Row {
                target_id: target,
                department_id: &r.department_id,
                member_type: &r.member_type,
                member_id: &r.member_id,
            })
            .collect();
        per_backend!(conn, c => diesel::insert_into(m::table).values(&rows).execute(c))?;
    }
    Ok(())
}

pub fn containers(
    conn: &mut DbConnection,
    target: &str,
    member_type: &str,
    member_id: &str,
) -> StoreResult<Vec<String>> {
    Ok(m::table
        .filter(m::target_id.eq(target))
        .filter(m::member_type.eq(member_type))
        .filter(m::member_id.eq(member_id))
        .order(m::department_id.asc())
        .select(m::department_id)
        .load(conn)?)
}

pub fn set_containers(
    conn: &mut DbConnection,
    target: &str,
    member_type: &str,
    member_id: &str,
    departments: &[String],
) -> StoreResult<()> {
    diesel::delete(
        m::table
            .filter(m::target_id.eq(target))
            .filter(m::member_type.eq(member_type))
            .filter(m::member_id.eq(member_id)),
    )
    .execute(conn)?;
    let rows: Vec<DepartmentMembership> = departments
        .iter()
        .map(|d| DepartmentMembership {
            department_id: d.clone(),
            member_type: member_type.to_string(),
            member_id: member_id.to_string(),
        })
        .collect();
    insert(conn, target, &rows)
}

pub fn members(
    conn: &mut DbConnection,
    target: &str,
    department_id: &str,
) -> StoreResult<Vec<DepartmentMembership>> {
    let rows: Vec<(String, String)> = m::table
        .filter(m::target_id.eq(target))
        .filter(m::department_id.eq(department_id))
        .order((m::member_type.asc(), m::member_id.asc()))
        .select((m::member_type, m::member_id))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(member_type, member_id)| DepartmentMembership {
            department_id: department_id.to_string(),
            member_type,
            member_id,
        })
        .collect())
}

pub fn set_members(
    conn: &mut DbConnection,
    target: &str,
    department_id: &str,
    members: &[DepartmentMembership],
) -> StoreResult<()> {
    diesel::delete(
        m::table
            .filter(m::target_id.eq(target))
            .filter(m::department_id.eq(department_id)),
    )
    .execute(conn)?;
    insert(conn, target, members)
}

/// A department group that is gone: its members and its own place in its parent.
pub fn forget(conn: &mut DbConnection, target: &str, department_id: &str) -> StoreResult<()> {
    diesel::delete(
        m::table.filter(m::target_id.eq(target)).filter(
            m::department_id.eq(department_id).or(m::member_type
                .eq("Department")
                .and(m::member_id.eq(department_id))),
        ),
    )
    .execute(conn)?;
    Ok(())
}

pub fn replace_all(
    conn: &mut DbConnection,
    target: &str,
    rows: &[DepartmentMembership],
) -> StoreResult<()> {
    clear(conn, target)?;
    insert(conn, target, rows)
}

pub fn clear(conn: &mut DbConnection, target: &str) -> StoreResult<()> {
    diesel::delete(m::table.filter(m::target_id.eq(target))).execute(conn)?;
    Ok(())
}
