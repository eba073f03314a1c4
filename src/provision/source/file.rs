//! HR export files: CSV (any delimiter, quoted fields, UTF-8 with or
//! without a byte-order mark) and JSON (an array of objects, or NDJSON).
//! A line that cannot be one record becomes a record with a defect (it is
//! refused with its reason); a file that cannot be read at all (not UTF-8,
//! a JSON syntax error) fails the run, naming the file, line and field.

use std::collections::VecDeque;
use std::path::Path;

use futures_util::future::BoxFuture;
use serde_json::{Map, Value};

use super::reader::{Page, RawRecord, ReadError, SourceReader};
use super::settings::{FileFormat, SourceSettings};
use crate::scim::ResourceKind;

/// Records handed out per page.
const PAGE: usize = 1000;

/// A file's bytes and the name errors call it by.
#[derive(Debug, Clone)]
pub struct FileInput {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl FileInput {
    pub fn read(path: &str) -> Result<Self, ReadError> {
        let bytes = std::fs::read(path)
            .map_err(|e| ReadError::Config(format!("cannot read {path}: {e}")))?;
        let name = Path::new(path)
            .file_name()
            .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned());
        Ok(Self { name, bytes })
    }
}

impl From<crate::blocking::TaskFailed> for ReadError {
    fn from(e: crate::blocking::TaskFailed) -> Self {
        ReadError::Config(e.to_string())
    }
}

fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// The most frequent of `, ; TAB |` outside quotes on the header line.
fn guess_delimiter(bytes: &[u8]) -> u8 {
    let line = bytes.split(|b| *b == b'\n').next().unwrap_or_default();
    let mut counts = [0usize; 4];
    let candidates = [b',', b';', b'\t', b'|'];
    let mut quoted = false;
    for b in line {
        if *b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(i) = candidates.iter().position(|c| c == b) {
            counts[i] += 1;
        }
    }
    let best = (0..4)
        .max_by_key(|&i| (counts[i], std::cmp::Reverse(i)))
        .unwrap_or(0);
    if counts[best] == 0 {
        b','
    } else {
        candidates[best]
    }
}

fn utf8<'a>(name: &str, line: u64, field: &str, bytes: &'a [u8]) -> Result<&'a str, ReadError> {
    std::str::from_utf8(bytes).map_err(|e| {
        ReadError::Malformed(format!(
            "{name} line {line}, field {field:?}: not UTF-8 (byte {} of the field); \
             save the export as UTF-8",
            e.valid_up_to() + 1
        ))
    })
}

/// Reads a CSV export: the first line names the fields.
pub fn parse_csv(
    kind: ResourceKind,
    input: &FileInput,
    delimiter: Option<char>,
) -> Result<Vec<RawRecord>, ReadError> {
    let bytes = without_bom(&input.bytes);
    let delimiter = delimiter.map_or_else(|| guess_delimiter(bytes), |d| d as u8);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .has_headers(false)
        .from_reader(bytes);
    let mut rows = reader.byte_records();
    let name = &input.name;
    let header = match rows.next() {
        None => return Ok(Vec::new()),
        Some(row) => row.map_err(|e| ReadError::Malformed(format!("{name} line 1: {e}")))?,
    };
    let mut fields = Vec::with_capacity(header.len());
    for (i, h) in header.iter().enumerate() {
        let h = utf8(name, 1, &format!("column {}", i + 1), h)?
            .trim()
            .to_string();
        if h.is_empty() {
            return Err(ReadError::Malformed(format!(
                "{name} line 1: column {} has no name in the header",
                i + 1
            )));
        }
        if fields.iter().any(|f: &String| f.eq_ignore_ascii_case(&h)) {
            return Err(ReadError::Malformed(format!(
                "{name} line 1: the header names {h:?} twice"
            )));
        }
        fields.push(h);
    }
    let mut out = Vec::new();
    for row in rows {
        let row = row.map_err(|e| ReadError::Malformed(format!("{name}: {e}")))?;
        let line = row.position().map_or(0, |p| p.line());
        let mut record = Map::new();
        for (i, cell) in row.iter().enumerate() {
            let field = fields
                .get(i)
                .map_or_else(|| format!("column {}", i + 1), Clone::clone);
            let text = utf8(name, line, &field, cell)?;
            if !text.trim().is_empty() {
                record.insert(field, Value::String(text.to_string()));
            }
        }
        if record.is_empty() && row.len() <= 1 {
            continue; // a blank line
        }
        let mut raw = RawRecord::new(kind, format!("{name} line {line}"), record);
        if row.len() != fields.len() {
            raw.defect = Some(format!(
                "{name} line {line} has {} fields, the header has {} (a stray delimiter or quote?)",
                row.len(),
                fields.len()
            ));
        }
        out.push(raw);
    }
    Ok(out)
}

/// Null and empty strings are no value.
fn object_fields(v: Map<String, Value>) -> Map<String, Value> {
    v.into_iter()
        .filter(|(_, v)| !v.is_null() && v.as_str().is_none_or(|s| !s.trim().is_empty()))
        .collect()
}

fn json_record(kind: ResourceKind, locator: String, value: Value) -> RawRecord {
    match value {
        Value::Object(o) => RawRecord::new(kind, locator, object_fields(o)),
        other => {
            let mut fields = Map::new();
            fields.insert("value".into(), other);
            let mut r = RawRecord::new(kind, locator.clone(), fields);
            r.defect = Some(format!("{locator} is not a JSON object"));
            r
        }
    }
}

/// Reads a JSON array of objects, or NDJSON (one object per line).
pub fn parse_json(kind: ResourceKind, input: &FileInput) -> Result<Vec<RawRecord>, ReadError> {
    let name = &input.name;
    let bytes = without_bom(&input.bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|b| **b == b'\n')
            .count()
            + 1;
        ReadError::Malformed(format!(
            "{name} line {line}: not UTF-8; save the export as UTF-8"
        ))
    })?;
    if text.trim_start().starts_with('[') {
        let items: Vec<Value> = serde_json::from_str(text).map_err(|e| {
            ReadError::Malformed(format!(
                "{name} line {} column {}: {e}",
                e.line(),
                e.column()
            ))
        })?;
        return Ok(items
            .into_iter()
            .enumerate()
            .map(|(i, v)| json_record(kind, format!("{name} record {}", i + 1), v))
            .collect());
    }
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line)
            .map_err(|e| ReadError::Malformed(format!("{name} line {}: {e}", i + 1)))?;
        out.push(json_record(kind, format!("{name} line {}", i + 1), value));
    }
    Ok(out)
}

/// Reads a file in the configured format (`auto`: JSON when it starts with `[` or `{`).
pub fn parse(
    kind: ResourceKind,
    input: &FileInput,
    format: FileFormat,
    delimiter: Option<char>,
) -> Result<Vec<RawRecord>, ReadError> {
    let json = match format {
        FileFormat::Json => true,
        FileFormat::Csv => false,
        FileFormat::Auto => {
            let first = without_bom(&input.bytes)
                .iter()
                .find(|b| !b.is_ascii_whitespace());
            matches!(first, Some(b'[' | b'{'))
        }
    };
    if json {
        parse_json(kind, input)
    } else {
        parse_csv(kind, input, delimiter)
    }
}

/// A file source's reader: the departments file, the groups file, then the
/// users file (or an upload in its place). Files are always read whole.
pub struct FileReader {
    pages: VecDeque<Page>,
    kinds: Vec<ResourceKind>,
}

impl FileReader {
    /// Reads and parses the files (blocking IO: call it off the async workers).
    pub fn open(settings: &SourceSettings, users: Option<FileInput>) -> Result<Self, ReadError> {
        let mut records = Vec::new();
        let mut kinds = Vec::new();
        for (kind, path) in [
            (ResourceKind::Department, &settings.departments_path),
            (ResourceKind::Group, &settings.groups_path),
        ] {
            if let Some(path) = path.as_ref().filter(|_| settings.reads(kind)) {
                let input = FileInput::read(path)?;
                records.extend(parse(kind, &input, settings.format, settings.delimiter)?);
                kinds.push(kind);
            }
        }
        if settings.reads(ResourceKind::User) {
            kinds.push(ResourceKind::User);
            let input = match users {
                Some(input) => input,
                None => {
                    let path = settings.path.as_deref().ok_or_else(|| {
                        ReadError::Config(
                            "this file source has no path: upload a file, or set one with \
                             `scimhub source update NAME --path FILE`"
                                .into(),
                        )
                    })?;
                    FileInput::read(path)?
                }
            };
            records.extend(parse(
                ResourceKind::User,
                &input,
                settings.format,
                settings.delimiter,
            )?);
        }
        let mut pages = VecDeque::new();
        let mut rest = records.into_iter().peekable();
        while rest.peek().is_some() {
            pages.push_back(rest.by_ref().take(PAGE).collect());
        }
        Ok(Self { pages, kinds })
    }
}

impl SourceReader for FileReader {
    fn next_page(&mut self) -> BoxFuture<'_, Result<Option<Page>, ReadError>> {
        Box::pin(async { Ok(self.pages.pop_front()) })
    }

    fn watermark(&self) -> Option<String> {
        None
    }

    fn complete(&self) -> bool {
        true
    }

    fn reads(&self, kind: ResourceKind) -> bool {
        self.kinds.contains(&kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn input(text: &[u8]) -> FileInput {
        FileInput {
            name: "people.csv".into(),
            bytes: text.to_vec(),
        }
    }

    fn fields(r: &RawRecord) -> Value {
        Value::Object(r.fields.clone())
    }

    #[test]
    fn csv_with_bom_quotes_and_any_delimiter() {
        let text = "\u{FEFF}id;name;note\n1;\"Lee; Ann\";\"said \"\"hi\"\"\"\n2;Bob;\n".as_bytes();
        let rows = parse(ResourceKind::User, &input(text), FileFormat::Auto, None).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(
            fields(&rows[0]),
            json!({"id": "1", "name": "Lee; Ann", "note": "said \"hi\""})
        );
        assert_eq!(fields(&rows[1]), json!({"id": "2", "name": "Bob"}));
        assert_eq!(rows[1].locator, "people.csv line 3");
        let tabs = parse_csv(ResourceKind::User, &input(b"a\tb\nx\ty\n"), None).unwrap();
        assert_eq!(fields(&tabs[0]), json!({"a": "x", "b": "y"}));
        let pipes = parse_csv(ResourceKind::User, &input(b"a,b\nx|1,y\n"), Some(',')).unwrap();
        assert_eq!(fields(&pipes[0]), json!({"a": "x|1", "b": "y"}));
    }

    #[test]
    fn a_short_or_long_line_is_a_defective_record_not_a_failed_file() {
        let rows = parse_csv(
            ResourceKind::User,
            &input(b"id,name\n1,Ann,extra\n2,Bob\n"),
            None,
        )
        .unwrap();
        assert_eq!(
            rows[0].defect.as_deref(),
            Some("people.csv line 2 has 3 fields, the header has 2 (a stray delimiter or quote?)")
        );
        assert_eq!(rows[1].defect, None);
    }

    #[test]
    fn wrong_encoding_names_the_line_and_field() {
        let e = parse_csv(
            ResourceKind::User,
            &input(b"id,name\n1,Ann\n2,Ren\xE9e\n"),
            None,
        )
        .unwrap_err();
        assert_eq!(
            e,
            ReadError::Malformed(
                "people.csv line 3, field \"name\": not UTF-8 (byte 4 of the field); save the export as UTF-8".into()
            )
        );
        assert!(parse_csv(ResourceKind::User, &input(b"id,id\n1,2\n"), None).is_err());
    }

    #[test]
    fn json_arrays_and_ndjson() {
        let named = |t: &str| FileInput {
            name: "people.json".into(),
            bytes: t.as_bytes().to_vec(),
        };
        let rows = parse(
            ResourceKind::User,
            &named("[{\"id\": 1, \"x\": null, \"y\": \"\"}, 7]"),
            FileFormat::Auto,
            None,
        )
        .unwrap();
        assert_eq!(fields(&rows[0]), json!({"id": 1}));
        assert_eq!(
            rows[1].defect.as_deref(),
            Some("people.json record 2 is not a JSON object")
        );
        let nd = parse(
            ResourceKind::User,
            &named("{\"id\":\"a\"}\n\n{\"id\":\"b\"}\n"),
            FileFormat::Auto,
            None,
        )
        .unwrap();
        assert_eq!(nd.len(), 2);
        assert_eq!(nd[1].locator, "people.json line 3");
        let e = parse(
            ResourceKind::User,
            &named("[{\"id\": 1},\n {\"id\" 2}]"),
            FileFormat::Auto,
            None,
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("people.json line 2 column 8:"),
            "{e}"
        );
        let e = parse(
            ResourceKind::User,
            &named("{\"id\":1}\n{oops}\n"),
            FileFormat::Json,
            None,
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("people.json line 2:"), "{e}");
    }
}
