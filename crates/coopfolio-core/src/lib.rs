//! Coopfolio's domain: codelists, money and identifiers. No I/O lives here.

#![forbid(unsafe_code)]

pub mod codelists;
pub mod value;
