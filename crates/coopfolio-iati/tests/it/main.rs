//! The integration tests of the IATI reader, in one binary.
//!
//! `fragments` shows what the reader makes of small documents, as snapshots that read like
//! documentation; `hostile` covers input meant to hurt; `real_files` and `schema_suite` read
//! real IATI data and the official schema test suite when the test data is at hand;
//! `robustness` throws random and mangled bytes at the reader.

mod fragments;
mod hostile;
mod real_files;
mod render;
mod robustness;
mod schema_suite;
