//! End-to-end tests of whole exercises live in `tests/it`.
