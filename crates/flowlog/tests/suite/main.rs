//! The flowlog crate's integration tests, in one binary.

mod conformance;
mod fuzz_smoke;
mod parser;
