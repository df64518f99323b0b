//! The parts of the `coopfolio` program that tests and benchmarks call directly: importing IATI
//! files into the store, and the bundled sample. The command line itself lives in `main.rs`.

#![forbid(unsafe_code)]

pub mod import;
pub mod sample;
