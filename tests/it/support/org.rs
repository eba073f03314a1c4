//! The seeded organizations of `tests/data/make_org.py` (an HR export, its
//! department tree, the same people as LDIF) and the truth a correct import
//! must reach.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;

use serde_json::{Map, Value};

/// A file under `tests/data/`.
pub fn data(name: &str) -> String {
    format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// One row of make_org.py's departments.csv.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentRow {
    pub parent: Option<String>,
    pub name: String,
    pub code: String,
}

pub struct Org {
    pub dir: tempfile::TempDir,
    pub truth: Value,
}

impl Org {
    /// `make_org.py DIR --people N --departments D` (seed 7, 1% to refuse).
    pub fn make(people: usize, departments: usize) -> Org {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("python3")
            .arg(data("make_org.py"))
            .arg(dir.path())
            .args(["--people", &people.to_string()])
            .args(["--departments", &departments.to_string()])
            .output()
            .expect("python3 runs make_org.py");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let truth = std::fs::read_to_string(dir.path().join("truth.json")).unwrap();
        Org {
            truth: serde_json::from_str(&truth).unwrap(),
            dir,
        }
    }

    pub fn path(&self, file: &str) -> String {
        self.file(file).to_string_lossy().into_owned()
    }

    pub fn file(&self, file: &str) -> PathBuf {
        self.dir.path().join(file)
    }

    /// employee_id → what the import must end with.
    pub fn valid(&self) -> &Map<String, Value> {
        self.truth["valid"].as_object().unwrap()
    }

    /// (employee_id, reason code) of every row that must be refused.
    pub fn rejected(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = self.truth["rejected"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let code = match r["reason"].as_str().unwrap() {
                    "invalid email" => "invalid_email",
                    "duplicate email" => "duplicate_email",
                    "duplicate employee_id" => "duplicate_id",
                    "unknown department" => "unknown_department",
                    "unknown manager" => "unknown_manager",
                    "missing last name" => "missing_attribute",
                    other => panic!("a reason make_org.py has grown: {other}"),
                };
                (
                    r["employee_id"].as_str().unwrap().to_string(),
                    code.to_string(),
                )
            })
            .collect();
        out.sort();
        out
    }

    /// departments.csv: id → the department's row.
    pub fn departments(&self) -> BTreeMap<String, DepartmentRow> {
        let text = std::fs::read_to_string(self.file("departments.csv")).unwrap();
        text.lines()
            .skip(1)
            .map(|line| {
                let cells: Vec<&str> = line.split(',').collect();
                let row = DepartmentRow {
                    parent: Some(cells[1].to_string()).filter(|p| !p.is_empty()),
                    name: cells[2].to_string(),
                    code: cells[3].to_string(),
                };
                (cells[0].to_string(), row)
            })
            .collect()
    }

    /// The CSV lines (header first).
    pub fn people_lines(&self) -> Vec<String> {
        std::fs::read_to_string(self.file("people.csv"))
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    pub fn write_people(&self, lines: &[String]) {
        std::fs::write(self.file("people.csv"), lines.join("\n") + "\n").unwrap();
    }
}
