//! `cargo +nightly fuzz run host`: the whole host path (framing, parallel
//! workers, header guesses, ordering, accounting) through the embedded
//! component. The invariants live in `flowtag::fuzz::check`, shared with the
//! smoke test (`host/tests/fuzz_smoke.rs`).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    flowtag::fuzz::check(data);
});
