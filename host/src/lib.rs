//! The flowtag reference host: reads flow-log input, runs it through the
//! flowtag component in wasmtime, and writes NDJSON. `main.rs` only parses
//! arguments and maps outcomes to exit codes.

pub mod config;
pub mod input;
pub mod pipeline;
pub mod report;
pub mod runtime;
