//! Integration tests of the `geoip` crate, one binary:
//!
//! - `generated`: small City, Country, ASN, ISP and unsupported databases
//!   built here with `mmdb-writer`, checked against fragments written out
//!   by hand. Needs nothing outside the crate.
//! - `maxmind`: MaxMind's test databases, checked network by network
//!   against values computed from the JSON they were built from.
//! - `broken`: every corrupt database of MaxMind's corpus is refused.
//! - `elastic`: the geo and AS fields of Elastic's expected outputs, which
//!   were made with MaxMind's test databases, agree with ours.
//!
//! The last three read `<shared>/data` (`$FLOWTAG_SHARED_DIR`, else the
//! `shared` folder beside the workspace). When it is missing they pass with
//! a note on stderr, unless `FLOWTAG_REQUIRE_SHARED` is set (CI sets it):
//! then they fail.

mod broken;
mod common;
mod elastic;
mod generated;
mod maxmind;
