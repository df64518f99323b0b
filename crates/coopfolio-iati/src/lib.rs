//! Streaming reader for IATI 2.01-2.03 activity and organisation files.
//!
//! The reader pulls one `<iati-activity>` or `<iati-organisation>` at a time from any
//! `BufRead`, so memory stays bounded by the largest single record, never the document. It
//! knows nothing of storage: it turns bytes into [`model`] values and located [`Diagnostic`]s.
//! The [`writer`] goes the other way, streaming IATI 2.03 out of the same model.

#![forbid(unsafe_code)]

pub mod diagnostic;
pub mod model;
pub mod reader;
pub mod rules;
pub mod writer;

pub use diagnostic::{Diagnostic, Severity};
pub use reader::{read_all, DocumentInfo, IatiReader, Limits, Record};
pub use writer::{IatiWriter, Omissions, WriteError};
