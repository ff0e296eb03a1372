//! Scenario format v1: types ([`model`]), loading with located diagnostics, and checks.

pub mod model;

pub use model::*;
