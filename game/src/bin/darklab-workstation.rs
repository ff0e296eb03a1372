//! Placeholder while the workstation binary is written.
fn main() {}
