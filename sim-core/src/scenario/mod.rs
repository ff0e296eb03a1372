//! Scenario format v1: types ([`model`]), loading with located diagnostics ([`load`]),
//! source positions for field paths ([`locate`]), semantic checks ([`check`]), the
//! solvability solver ([`solve`]) and variants ([`variant`]).

pub mod check;
pub mod load;
pub mod locate;
pub mod model;
pub mod possible;
pub mod reference;
pub mod solve;
pub mod summary;
pub mod variant;

pub use load::{Diagnostic, Diagnostics, RonDocument, load_file, load_ron_file, load_ron_str, load_str};
pub use model::*;
