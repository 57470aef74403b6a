//! `cargo +nightly fuzz run parse`: the invariants live in
//! `flowlog::fuzz::check`, shared with the stable smoke test
//! (`crates/flowlog/tests/suite/fuzz_smoke.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    flowlog::fuzz::check(data);
});
