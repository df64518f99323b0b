//! The parts of the `coopfolio` program that tests and benchmarks call directly: importing IATI
//! files into the store, the bundled sample, and loading the demo. The command line itself lives in `main.rs`.

#![forbid(unsafe_code)]

pub mod demo;
pub mod export;
pub mod import;
pub mod sample;
pub mod validate;
