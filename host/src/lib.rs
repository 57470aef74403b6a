//! The flowtag reference host: reads flow-log input, runs it through the
//! flowtag component in wasmtime on parallel workers, and writes NDJSON.
//! `main.rs` only parses arguments and maps outcomes to exit codes.

pub mod cache;
pub mod config;
pub mod fuzz;
pub mod input;
mod output_copy;
pub mod pipeline;
pub mod report;
pub mod runtime;
pub mod sched;
pub mod verified;
pub mod worker;
