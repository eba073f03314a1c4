//! Reading configuration values, with errors that name the key, the value
//! and what was expected (from the environment and from the TOML file).

use std::str::FromStr;

use anyhow::anyhow;
use serde::de::DeserializeOwned;

/// A type an environment variable can hold, and how to say what it takes.
pub trait EnvValue: FromStr {
    const EXPECTED: &'static str;
}

impl EnvValue for u64 {
    const EXPECTED: &'static str = "a whole number, 0 or more";
}

impl EnvValue for u32 {
    const EXPECTED: &'static str = "a whole number from 0 to 4294967295";
}

impl EnvValue for usize {
    const EXPECTED: &'static str = "a whole number, 0 or more";
}

impl EnvValue for i64 {
    const EXPECTED: &'static str = "a whole number";
}

impl EnvValue for f64 {
    const EXPECTED: &'static str = "a number such as 2.5";
}

impl EnvValue for bool {
    const EXPECTED: &'static str = "true or false";
}

/// The value as shown in an error: quoted, and cut short if long.
pub fn shown(value: &str) -> String {
    const MAX: usize = 64;
    if value.chars().count() > MAX {
        let head: String = value.chars().take(MAX).collect();
        format!("{head:?}…")
    } else {
        format!("{value:?}")
    }
}

/// Parses the environment variable `key`; its value is not a secret.
pub fn from_env<T: EnvValue>(key: &str, value: &str) -> anyhow::Result<T> {
    value.trim().parse().map_err(|_| {
        anyhow!(
            "environment variable {key} has an invalid value {}: expected {}",
            shown(value),
            T::EXPECTED
        )
    })
}

/// A range check after loading: `key` is the file's key, `env` the
/// variable that sets it too; the message names both, the value and the bound.
pub fn at_least<T>(key: &str, env: &str, value: T, min: T) -> anyhow::Result<()>
where
    T: PartialOrd + std::fmt::Display,
{
    if value < min {
        anyhow::bail!("{key} ({env}) is {value}: expected at least {min}");
    }
    Ok(())
}

/// Reads a TOML document; a value of the wrong type is reported with its
/// key (`sync.poll_ms`), its line, the value and the type expected.
pub fn from_toml<T: DeserializeOwned>(text: &str) -> anyhow::Result<T> {
    let document = toml::Deserializer::parse(text)?;
    serde_path_to_error::deserialize(document).map_err(|e| {
        let key = e.path().to_string();
        let detail = plain_types(&e.into_inner().to_string());
        if key == "." {
            anyhow!("{detail}")
        } else {
            anyhow!("key {key}: {detail}")
        }
    })
}

/// serde names Rust types ("expected u64"); say what they take.
fn plain_types(message: &str) -> String {
    [
        ("expected u64", "expected a whole number, 0 or more"),
        ("expected usize", "expected a whole number, 0 or more"),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        ("expected u16", "expected a whole number from 0 to 65535"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number such as 2.5"),
    ]
    .iter()
    .fold(message.to_string(), |text, (from, to)| {
        text.replace(from, to)
    })
}

/// The items of a comma-separated environment value, trimmed, blanks dropped.
pub fn comma_list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        #[serde(default)]
        size: u64,
        #[serde(default)]
        inner: Inner,
    }

    #[derive(Debug, Default, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        #[serde(default)]
        share: f64,
    }

    #[test]
    fn env_errors_name_the_key_the_value_and_what_is_expected() {
        let err = from_env::<u64>("SCIMHUB_DEFAULT_PAGE_SIZE", "abc").unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable SCIMHUB_DEFAULT_PAGE_SIZE has an invalid value \"abc\": \
             expected a whole number, 0 or more"
        );
        let err = from_env::<bool>("SCIMHUB_SYNC_ENABLED", "yes").unwrap_err();
        assert!(
            err.to_string().ends_with("\"yes\": expected true or false"),
            "{err}"
        );
        let long = "9".repeat(100);
        let err = from_env::<u32>("K", &long).unwrap_err().to_string();
        assert!(err.contains(&format!("\"{}\"…", "9".repeat(64))), "{err}");
        assert_eq!(from_env::<u64>("K", " 42 ").unwrap(), 42);
    }

    #[test]
    fn range_errors_name_the_key_the_value_and_the_bound() {
        let err = at_least("default_page_size", "SCIMHUB_DEFAULT_PAGE_SIZE", 0u64, 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "default_page_size (SCIMHUB_DEFAULT_PAGE_SIZE) is 0: expected at least 1"
        );
        assert!(at_least("k", "K", 1u64, 1).is_ok());
    }

    #[test]
    fn toml_errors_name_the_key_the_value_and_what_is_expected() {
        let err = from_toml::<Doc>("size = \"abc\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("key size: "), "{err}");
        assert!(err.contains("line 1"), "{err}");
        assert!(
            err.contains("invalid type: string \"abc\", expected a whole number, 0 or more"),
            "{err}"
        );
        let err = from_toml::<Doc>("size = -5\n").unwrap_err().to_string();
        assert!(err.contains("-5"), "{err}");
        assert!(err.contains("expected a whole number, 0 or more"), "{err}");
        let err = from_toml::<Doc>("[inner]\nshare = \"half\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("key inner.share: "), "{err}");
        assert!(err.contains("line 2"), "{err}");
        assert!(err.contains("expected a number such as 2.5"), "{err}");
        let err = from_toml::<Doc>("sise = 1\n").unwrap_err().to_string();
        assert!(err.contains("unknown field `sise`"), "{err}");
        let err = from_toml::<Doc>("size = \n").unwrap_err().to_string();
        assert!(err.contains("line 1"), "{err}");
        assert_eq!(from_toml::<Doc>("size = 3\n").unwrap().size, 3);
    }
}
