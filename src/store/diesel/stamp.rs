//! Stored timestamps read without chrono's format parser: diesel reads a
//! SQLite TIMESTAMP by trying strftime formats in turn (over 2,000
//! instructions a value, twice per user read); the text this store writes
//! (`YYYY-MM-DD HH:MM:SS.fff`) is read digit by digit, anything else as
//! diesel reads it.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::backend::Backend;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::Pg;
use diesel::sql_types::Timestamp;
use diesel::sqlite::Sqlite;

#[derive(Debug, Clone, Copy, PartialEq, Eq, FromSqlRow)]
pub struct Stamp(pub NaiveDateTime);

impl FromSql<Timestamp, Sqlite> for Stamp {
    fn from_sql(mut value: <Sqlite as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        if let Some(t) = parse(value.read_text()) {
            return Ok(Stamp(t));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Stamp)
    }
}

impl FromSql<Timestamp, Pg> for Stamp {
    fn from_sql(value: <Pg as Backend>::RawValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Stamp)
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional fraction of 1-9 digits.
fn parse(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<u32> {
        b[range].iter().try_fold(0u32, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            let n = num(20..b.len())?;
            n * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?.and_hms_nano_opt(
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
        nanos,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_what_diesel_writes_and_leaves_the_rest_to_diesel() {
        for text in [
            "2026-12-07 10:46:12.123",
            "2026-12-07 10:46:12",
            "1999-01-31 23:59:59.5",
            "2026-12-07 10:46:12.123456789",
        ] {
            let diesel = NaiveDateTime::parse_from_str(text, "%F %T%.f").unwrap();
            assert_eq!(parse(text), Some(diesel), "{text}");
        }
        for text in [
            "2026-12-07T10:46:12",
            "2026-13-07 10:46:12",
            "2026-12-07 10:46:12.",
            "2026-12-07 10:46:12.1234567890",
            "2026-12-07 10:46:1x",
            "2459000.5",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }
}
