//! The pure SCIM 2.0 protocol core (RFC 7643 / RFC 7644): schemas, validation,
//! rendering, listing, discovery and PATCH. No HTTP, database, async runtime or IO here.

pub mod agents;
pub mod bulk;
pub mod discovery;
pub mod error;
pub mod etag;
pub mod event_uris;
pub mod extension_schema;
pub mod filter;
pub mod json;
pub mod list;
pub mod patch;
pub mod path;
pub mod projection;
pub mod references;
pub mod registry;
pub mod render;
pub mod resource;
pub mod schema;
pub mod sort;

pub use error::{ScimError, ScimType};
pub use registry::ResourceKind;
