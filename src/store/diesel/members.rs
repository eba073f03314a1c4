//! Group membership rows: one row per (group, member). Adding or removing a
//! member touches only that row; `User.groups` is derived from these rows.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use diesel::prelude::*;

use super::changelog::{self, Change, Operation};
use super::connection::{DbConnection, per_backend};
use super::run;
use super::schema::{group_members, scim_groups, users};
use crate::scim::ScimError;
use crate::store::{
    Actor, GroupMembership, Member, MemberKind, MemberRef, StoreError, StoreResult,
};

/// Keeps `IN (...)` lists well under SQLite's bound-parameter limit.
const CHUNK: usize = 500;
/// Nesting deeper than this is refused rather than walked.
const MAX_NESTING: usize = 64;

#[derive(Insertable)]
#[diesel(table_name = group_members)]
struct MemberRow<'a> {
    group_id: &'a str,
    member_id: &'a str,
    member_type: &'a str,
}

/// Direct groups of a user or group, then the groups containing those
/// (indirect), walking up the nesting.
pub fn groups_of(conn: &mut DbConnection, member_id: &str) -> StoreResult<Vec<GroupMembership>> {
    let mut seen: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    let mut frontier = vec![member_id.to_string()];
    for depth in 0..MAX_NESTING {
        if frontier.is_empty() {
            break;
        }
        let mut next = Vec::new();
        for chunk in frontier.chunks(CHUNK) {
            for (group_id, display) in parents(conn, chunk)? {
                if group_id != member_id && seen.insert(group_id.clone()) {
                    out.push(GroupMembership {
                        group_id: group_id.clone(),
                        display: Some(display),
                        direct: depth == 0,
                    });
                    next.push(group_id);
                }
            }
        }
        frontier = next;
    }
    Ok(out)
}

/// (group id, display name) of the groups holding any of `ids`, by group id.
fn parents(conn: &mut DbConnection, ids: &[String]) -> StoreResult<Vec<(String, String)>> {
    let joined = group_members::table.inner_join(scim_groups::table);
    let columns = (group_members::group_id, scim_groups::display_name);
    let order = group_members::group_id.asc();
    // One id (every user read starts so) as `=`: diesel caches that prepared
    // statement, while an `IN` list of varying length is parsed anew each time.
    Ok(match ids {
        [one] => run::load(
            conn,
            joined
                .filter(group_members::member_id.eq(one))
                .select(columns)
                .order(order),
        )?,
        _ => joined
            .filter(group_members::member_id.eq_any(ids))
            .select(columns)
            .order(order)
            .load(conn)?,
    })
}

/// A stored `member_type`.
fn kind_of(stored: &str) -> StoreResult<MemberKind> {
    MemberKind::parse(stored).ok_or_else(|| StoreError::Corrupt(format!("member type {stored:?}")))
}

/// Member rows as (id, kind).
fn typed(rows: Vec<(String, String)>) -> StoreResult<Vec<(String, MemberKind)>> {
    rows.into_iter()
        .map(|(id, kind)| Ok((id, kind_of(&kind)?)))
        .collect()
}

/// All members of a group, ordered by id (rows only: no joins).
pub fn members_of(conn: &mut DbConnection, group_id: &str) -> StoreResult<Vec<Member>> {
    let rows: Vec<(String, String)> = group_members::table
        .filter(group_members::group_id.eq(group_id))
        .order(group_members::member_id.asc())
        .select((group_members::member_id, group_members::member_type))
        .load(conn)?;
    Ok(typed(rows)?
        .into_iter()
        .map(|(id, kind)| Member { id, kind })
        .collect())
}

/// Which of `ids` name an existing User (or Group).
pub fn existing_ids(
    conn: &mut DbConnection,
    kind: MemberKind,
    ids: &[&str],
) -> StoreResult<HashSet<String>> {
    let mut found = HashSet::new();
    for chunk in ids.chunks(CHUNK) {
        // One id (a single member or manager) as `=`: a cached statement.
        let rows: Vec<String> = match (kind, chunk) {
            (MemberKind::User, [one]) => {
                run::load(conn, users::table.find(*one).select(users::id))?
            }
            (MemberKind::Group, [one]) => {
                run::load(conn, scim_groups::table.find(*one).select(scim_groups::id))?
            }
            (MemberKind::User, _) => users::table
                .filter(users::id.eq_any(chunk))
                .select(users::id)
                .load(conn)?,
            (MemberKind::Group, _) => scim_groups::table
                .filter(scim_groups::id.eq_any(chunk))
                .select(scim_groups::id)
                .load(conn)?,
        };
        found.extend(rows);
    }
    Ok(found)
}

/// Checks that every referenced member exists with the type it claims and
/// that no group would end up containing itself. Duplicates collapse.
pub fn resolve(
    conn: &mut DbConnection,
    group_id: &str,
    refs: &[MemberRef],
) -> StoreResult<Vec<(String, MemberKind)>> {
    let ids: Vec<&str> = refs.iter().map(|r| r.id.as_str()).collect();
    let found_users = existing_ids(conn, MemberKind::User, &ids)?;
    let found_groups = existing_ids(conn, MemberKind::Group, &ids)?;
    let mut resolved: Vec<(String, MemberKind)> = Vec::new();
    let mut seen = HashSet::new();
    for r in refs {
        let actual = if found_users.contains(&r.id) {
            MemberKind::User
        } else if found_groups.contains(&r.id) {
            MemberKind::Group
        } else {
            return Err(ScimError::invalid_value(format!(
                "member \"{}\" is not an existing User or Group",
                r.id
            ))
            .into());
        };
        if let Some(claimed) = r.kind.filter(|k| *k != actual) {
            return Err(ScimError::invalid_value(format!(
                "member \"{}\" is a {}, not a {}",
                r.id,
                actual.as_str(),
                claimed.as_str()
            ))
            .into());
        }
        if seen.insert(r.id.clone()) {
            resolved.push((r.id.clone(), actual));
        }
    }
    for (id, kind) in &resolved {
        if *kind == MemberKind::Group && (id == group_id || contains_group(conn, id, group_id)?) {
            return Err(ScimError::invalid_value(format!(
                "adding group \"{id}\" would make group \"{group_id}\" contain itself"
            ))
            .into());
        }
    }
    Ok(resolved)
}

/// Whether `outer` contains `needle` at any nesting depth.
fn contains_group(conn: &mut DbConnection, outer: &str, needle: &str) -> StoreResult<bool> {
    let mut seen: HashSet<String> = HashSet::from([outer.to_string()]);
    let mut frontier = vec![outer.to_string()];
    for _ in 0..MAX_NESTING {
        if frontier.is_empty() {
            return Ok(false);
        }
        let mut next = Vec::new();
        for chunk in frontier.chunks(CHUNK) {
            let rows: Vec<String> = group_members::table
                .filter(group_members::group_id.eq_any(chunk))
                .filter(group_members::member_type.eq(MemberKind::Group.as_str()))
                .select(group_members::member_id)
                .load(conn)?;
            for id in rows {
                if id == needle {
                    return Ok(true);
                }
                if seen.insert(id.clone()) {
                    next.push(id);
                }
            }
        }
        frontier = next;
    }
    Err(ScimError::invalid_value(format!(
        "groups are nested deeper than {MAX_NESTING} levels"
    ))
    .into())
}

/// Makes the group's member rows equal `members`, touching only the rows
/// that differ; returns the members added or removed.
pub fn set_members(
    conn: &mut DbConnection,
    group_id: &str,
    members: &[(String, MemberKind)],
) -> StoreResult<Vec<(String, MemberKind)>> {
    let current: Vec<(String, String)> = group_members::table
        .filter(group_members::group_id.eq(group_id))
        .select((group_members::member_id, group_members::member_type))
        .load(conn)?;
    let wanted: HashMap<&str, MemberKind> =
        members.iter().map(|(id, k)| (id.as_str(), *k)).collect();
    let current = typed(current)?;
    let present: HashSet<&str> = current.iter().map(|(id, _)| id.as_str()).collect();
    let removed: Vec<&(String, MemberKind)> = current
        .iter()
        .filter(|(id, _)| !wanted.contains_key(id.as_str()))
        .collect();
    for chunk in removed.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|(id, _)| id.as_str()).collect();
        diesel::delete(
            group_members::table
                .filter(group_members::group_id.eq(group_id))
                .filter(group_members::member_id.eq_any(ids)),
        )
        .execute(conn)?;
    }
    let added: Vec<&(String, MemberKind)> = members
        .iter()
        .filter(|(id, _)| !present.contains(id.as_str()))
        .collect();
    let rows: Vec<MemberRow<'_>> = added
        .iter()
        .map(|(id, kind)| MemberRow {
            group_id,
            member_id: id,
            member_type: kind.as_str(),
        })
        .collect();
    for chunk in rows.chunks(CHUNK) {
        per_backend!(conn, c => diesel::insert_into(group_members::table).values(chunk).execute(c))?;
    }
    Ok(removed.into_iter().chain(added).cloned().collect())
}

/// Applies a member diff (PATCH): only the named rows are read or written,
/// so the cost does not depend on the size of the group. Returns the
/// members actually added or removed.
pub fn change_members(
    conn: &mut DbConnection,
    group_id: &str,
    remove_all: bool,
    remove: &[String],
    add: &[MemberRef],
) -> StoreResult<Vec<(String, MemberKind)>> {
    let returned = (group_members::member_id, group_members::member_type);
    let mut changed = Vec::new();
    if remove_all {
        let gone: Vec<(String, String)> =
            diesel::delete(group_members::table.filter(group_members::group_id.eq(group_id)))
                .returning(returned)
                .get_results(conn)?;
        changed.extend(typed(gone)?);
    }
    for chunk in remove.chunks(CHUNK) {
        let gone: Vec<(String, String)> = match chunk {
            [one] => run::load(
                conn,
                diesel::delete(group_members::table.find((group_id, one))).returning(returned),
            )?,
            _ => diesel::delete(
                group_members::table
                    .filter(group_members::group_id.eq(group_id))
                    .filter(group_members::member_id.eq_any(chunk)),
            )
            .returning(returned)
            .get_results(conn)?,
        };
        changed.extend(typed(gone)?);
    }
    let resolved = resolve(conn, group_id, add)?;
    for chunk in resolved.chunks(CHUNK) {
        let ids: Vec<&str> = chunk.iter().map(|(id, _)| id.as_str()).collect();
        let present: HashSet<String> = match ids.as_slice() {
            [one] => run::load::<_, String>(
                conn,
                group_members::table
                    .find((group_id, *one))
                    .select(group_members::member_id),
            )?,
            _ => group_members::table
                .filter(group_members::group_id.eq(group_id))
                .filter(group_members::member_id.eq_any(&ids))
                .select(group_members::member_id)
                .load::<String>(conn)?,
        }
        .into_iter()
        .collect();
        let added: Vec<&(String, MemberKind)> = chunk
            .iter()
            .filter(|(id, _)| !present.contains(id))
            .collect();
        let rows: Vec<MemberRow<'_>> = added
            .iter()
            .map(|(id, kind)| MemberRow {
                group_id,
                member_id: id,
                member_type: kind.as_str(),
            })
            .collect();
        match rows.as_slice() {
            [] => {}
            [one] => {
                run::execute(conn, diesel::insert_into(group_members::table).values(one))?;
            }
            _ => {
                per_backend!(conn, c => diesel::insert_into(group_members::table).values(&rows).execute(c))?;
            }
        }
        changed.extend(added.into_iter().cloned());
    }
    Ok(changed)
}

/// The users whose derived `groups` a change of these members alters: the
/// users among them and every user under the groups among them (nesting
/// walked down). A user-only change costs no query.
pub fn users_under(
    conn: &mut DbConnection,
    members: &[(String, MemberKind)],
) -> StoreResult<BTreeSet<String>> {
    let mut users = BTreeSet::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut frontier = Vec::new();
    for (id, kind) in members {
        match kind {
            MemberKind::User => {
                users.insert(id.clone());
            }
            MemberKind::Group => {
                if seen.insert(id.clone()) {
                    frontier.push(id.clone());
                }
            }
        }
    }
    for _ in 0..MAX_NESTING {
        if frontier.is_empty() {
            break;
        }
        let mut next = Vec::new();
        for chunk in frontier.chunks(CHUNK) {
            let rows: Vec<(String, String)> = group_members::table
                .filter(group_members::group_id.eq_any(chunk))
                .select((group_members::member_id, group_members::member_type))
                .load(conn)?;
            for (id, kind) in typed(rows)? {
                match kind {
                    MemberKind::User => {
                        users.insert(id);
                    }
                    MemberKind::Group => {
                        if seen.insert(id.clone()) {
                            next.push(id);
                        }
                    }
                }
            }
        }
        frontier = next;
    }
    Ok(users)
}

/// Removes a deleted user or group from every group that contains it; each
/// such group gets a new version and a change-log row.
pub fn remove_member_everywhere(
    conn: &mut DbConnection,
    member_id: &str,
    actor: &Actor,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let parents: Vec<String> = group_members::table
        .filter(group_members::member_id.eq(member_id))
        .select(group_members::group_id)
        .load(conn)?;
    diesel::delete(group_members::table.filter(group_members::member_id.eq(member_id)))
        .execute(conn)?;
    for parent in parents {
        let version: i64 = diesel::update(scim_groups::table.find(&parent))
            .set((
                scim_groups::version.eq(scim_groups::version + 1),
                scim_groups::last_modified.eq(at.naive_utc()),
            ))
            .returning(scim_groups::version)
            .get_result(conn)?;
        changelog::append(
            conn,
            Change::new(
                "Group",
                &parent,
                Operation::Update,
                version,
                at,
                actor,
                vec!["members".to_string()],
            ),
        )?;
    }
    Ok(())
}
