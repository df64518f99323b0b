//! The demo generator's integration tests: one binary (see STYLE.md), one module per concern. The
//! calibrated figures are recomputed here from the generated records with the definitions of the crate's
//! contract, independently of the crate's own `figures` module.

mod calibration;
mod determinism;
mod iati;
mod shape;

use std::sync::LazyLock;

use coopfolio_demo::{generate, DemoOptions, Workspace};

/// The default workspace (seed 2024, scale 1), generated once for all the tests that read it.
pub(crate) static WORKSPACE: LazyLock<Workspace> =
    LazyLock::new(|| generate(&DemoOptions::default()));
