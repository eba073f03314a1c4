//! The organization center's inbound half: upstream sources (HR files,
//! another SCIM server, LDAP / Active Directory) read, cleansed, validated
//! and imported through the service layer, symmetric to the outbound
//! targets. Engines here never import `service` or `config` beyond the
//! secret key: writes go through `IntakeWrites`.
//!
//! `reader` (one trait) → `file` / `scim` / `ldap`; `headers` (SCIM-path
//! CSV headers) or the mapping; `intake` (one record: id, cleansing,
//! required attributes, schema); `plan` (the batch: duplicates, references,
//! create / update / no-op / deprovision); `apply` (through `writes`);
//! `engine` (runs, approval, preview); `manage` (the sources themselves).

mod apply;
pub mod authority;
mod engine;
mod error;
pub mod file;
pub mod headers;
mod index;
pub mod intake;
pub mod ldap;
mod ldap_tree;
mod live;
mod loaded;
pub mod manage;
pub mod plan;
pub mod reader;
pub mod report;
pub mod scim;
pub mod settings;
mod tree;
pub mod writes;

pub use engine::{ImportEngine, ImportOptions, Preview, PreviewRecord, actor_of};
pub use error::SourceError;
pub use file::FileInput;
pub use manage::{NewSource, SourceChanges, SourceView, SourceWithStatus};
pub use report::{ImportReport, RunStatus, render};
pub use settings::{RunMode, SourceKind, SourceSettings};
pub use writes::{IntakeWrites, WriteError, WritesFor, Written};
