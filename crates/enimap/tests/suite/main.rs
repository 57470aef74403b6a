//! The enimap crate's integration tests, in one binary.
//!
//! Hand-written fixtures live in `tests/fixtures/`; the real public examples
//! in `<shared>/data/aws/eni/` are used when present (see `shared.rs`).

mod addresses;
mod classify;
mod errors;
mod json;
mod shared;
mod support;
