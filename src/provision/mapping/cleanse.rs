//! Cleansing (pure): the normal forms upstream data is brought into —
//! whitespace, case, e-mail addresses, phone numbers (E.164, through the
//! libphonenumber metadata) and dates. The mapping functions and the
//! intake validation of sources both use these, so they agree.

use phonenumber::country::Id as Region;
use phonenumber::metadata::DATABASE;
use phonenumber::{Mode, PhoneNumber};

/// Trimmed, with every run of whitespace inside made one space.
pub fn collapse_whitespace(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Every word's first letter upper-case, the rest lower-case.
pub fn title_case(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = true;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if start {
                out.extend(c.to_uppercase());
            } else {
                out.extend(c.to_lowercase());
            }
            start = false;
        } else {
            out.push(c);
            start = !matches!(c, '\'' | '’');
        }
    }
    out
}

/// Trimmed, without a `mailto:` prefix, lower-cased.
pub fn normalize_email(text: &str) -> String {
    let t = text.trim();
    let t = t
        .get(..7)
        .filter(|p| p.eq_ignore_ascii_case("mailto:"))
        .map_or(t, |_| &t[7..]);
    t.trim().to_lowercase()
}

/// Whether `text` looks like an address mail can go to: one `@`, a local
/// part, a domain of dot-separated labels, no whitespace or control characters.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else {
        return false;
    };
    let clean = |s: &str| !s.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    clean(local)
        && clean(domain)
        && !domain.contains('@')
        && local.len() <= 64
        && domain.len() <= 253
        && domain.contains('.')
        && domain.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// A region name (`US`, `de`) as the phone library knows it.
pub fn region(name: &str) -> Option<Region> {
    name.trim().to_ascii_uppercase().parse().ok()
}

/// Whether the number has as many digits as numbers of its country have.
fn plausible(n: &PhoneNumber) -> bool {
    let e164 = n.format().mode(Mode::E164).to_string();
    let code_len = n.code().value().to_string().len();
    let national = e164.len().saturating_sub(1 + code_len);
    // Every region sharing the country code (+1 is many) counts.
    let lengths: Vec<u16> = DATABASE
        .by_code(&n.code().value())
        .unwrap_or_default()
        .into_iter()
        .flat_map(|m| {
            let d = m.descriptors();
            [Some(d.general()), d.fixed_line(), d.mobile()]
                .into_iter()
                .flatten()
                .flat_map(|x| x.possible_length().iter().copied())
                .collect::<Vec<_>>()
        })
        .collect();
    if lengths.is_empty() {
        (4..=14).contains(&national)
    } else {
        lengths.iter().any(|&l| usize::from(l) == national)
    }
}

/// The number in E.164 (`+12125550123`), read with `region` for numbers
/// written without a country code; `None` when it is no phone number.
/// A leading `00` (the international prefix of most of the world) is read
/// as `+` when the region's own reading makes no sense.
pub fn to_e164(text: &str, region: Option<Region>) -> Option<String> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    let parsed = phonenumber::parse(region, t)
        .ok()
        .filter(plausible)
        .or_else(|| {
            let rest = t.strip_prefix("00")?;
            phonenumber::parse(None, format!("+{rest}"))
                .ok()
                .filter(plausible)
        })?;
    Some(parsed.format().mode(Mode::E164).to_string())
}

/// Whether `text` is already an E.164 number.
pub fn is_e164(text: &str) -> bool {
    text.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len())
            && digits.chars().all(|c| c.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// Date formats tried, in order, when none is given.
const DATE_FORMATS: [&str; 6] = [
    "%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y",
];

/// An RFC 3339 dateTime (a plain date is midnight UTC) from a date or
/// dateTime in `format`, or in ISO / RFC 3339 / the usual day-first forms.
pub fn parse_date(text: &str, format: Option<&str>) -> Option<String> {
    use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, Utc};
    let t = text.trim();
    let at_midnight = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .map(|dt| dt.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true))
    };
    if let Some(f) = format {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, f) {
            return Some(dt.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true));
        }
        return NaiveDate::parse_from_str(t, f).ok().and_then(at_midnight);
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Some(
            dt.with_timezone(&Utc)
                .to_rfc3339_opts(SecondsFormat::Secs, true),
        );
    }
    DATE_FORMATS
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
        .and_then(at_midnight)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_and_case() {
        assert_eq!(
            collapse_whitespace("  Ann \t  Marie\nLee "),
            "Ann Marie Lee"
        );
        assert_eq!(title_case("o'brien SMITH-jones"), "O'brien Smith-Jones");
        assert_eq!(title_case("élodie dubois"), "Élodie Dubois");
    }

    #[test]
    fn emails_are_normalized_and_checked() {
        assert_eq!(
            normalize_email("  Ann.Lee0@Example.ORG "),
            "ann.lee0@example.org"
        );
        assert_eq!(normalize_email("MAILTO:a@b.example"), "a@b.example");
        for ok in [
            "ann@example.org",
            "a.b+c@sub.example.co.uk",
            "用户@例子.广告",
        ] {
            assert!(is_email(ok), "{ok}");
        }
        for bad in [
            "bad0 at example.org",
            "a@b",
            "@example.org",
            "a@@example.org",
            "a b@example.org",
            "a@-x.example",
            "a@example..org",
            "",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
    }

    #[test]
    fn phones_become_e164_with_a_default_region() {
        let us = region("us");
        for (raw, want) in [
            ("+1 212-555-0123", "+12125550123"),
            ("(212) 555 0123", "+12125550123"),
            ("0012125550123", "+12125550123"),
            ("  +1.212.555.0123 ", "+12125550123"),
            ("+49 30 901820", "+4930901820"),
        ] {
            assert_eq!(to_e164(raw, us).as_deref(), Some(want), "{raw}");
        }
        assert_eq!(
            to_e164("030 901820", region("DE")).as_deref(),
            Some("+4930901820")
        );
        for bad in ["", "n/a", "12", "+1 212 555 01234567"] {
            assert_eq!(to_e164(bad, us), None, "{bad}");
        }
        // Without a region only international numbers are read.
        assert_eq!(to_e164("(212) 555 0123", None), None);
        assert!(region("XX").is_none());
        assert!(is_e164("+12125550123"));
        assert!(!is_e164("12125550123"));
        assert!(!is_e164("+0212"));
    }

    #[test]
    fn dates_in_usual_forms() {
        assert_eq!(
            parse_date("2019-03-04", None).as_deref(),
            Some("2019-03-04T00:00:00Z")
        );
        assert_eq!(
            parse_date("04.03.2019", None).as_deref(),
            Some("2019-03-04T00:00:00Z")
        );
        assert_eq!(
            parse_date("2019-03-04T05:06:07+02:00", None).as_deref(),
            Some("2019-03-04T03:06:07Z")
        );
        assert_eq!(
            parse_date("03/04/2019", Some("%m/%d/%Y")).as_deref(),
            Some("2019-03-04T00:00:00Z")
        );
        assert_eq!(parse_date("yesterday", None), None);
        assert_eq!(parse_date("2019-13-45", None), None);
    }
}
