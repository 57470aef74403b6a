//! Parsing of AWS VPC Flow Log records (versions 2–11 and Transit Gateway
//! flow logs) into NDJSON, with a typed report for every record that cannot
//! be parsed.
//!
//! The crate is pure Rust with no I/O, built natively for tests and
//! benchmarks and into the flowtag WebAssembly component.
//!
//! ```
//! use flowlog::{Config, Processor};
//!
//! let mut processor = Processor::new(&Config::default()).unwrap();
//! let line = b"2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK\n";
//! let out = processor.process(line, 1, None);
//! assert_eq!(out.records, 1);
//! assert!(out.ndjson.starts_with(br#"{"version":2,"account_id":"123456789010""#));
//! ```

pub mod batch;
pub mod field;
pub mod format;
#[doc(hidden)]
pub mod fuzz;
mod out;
#[cfg(test)]
mod test_rng;
pub mod value;

pub use batch::{
    BatchOutput, Config, Enrich, MAX_LINE_BYTES, PIECE_BYTES, Processor, RecordView, RejectReason,
    Rejected, TOO_LONG_RAW_BYTES,
};
pub use field::{FieldKind, KNOWN_FIELDS, KnownField};
pub use format::{ConfigError, DEFAULT_FORMAT, Format, FormatError, FormatSet, Roles};
pub use out::Out;
