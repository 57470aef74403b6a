//! A xorshift64 generator for the tests' random inputs (the unit tests, and
//! the integration suite, which includes this file): deterministic, and no
//! dependency.

/// The next value of the sequence seeded by `*state` (which must not be 0).
pub(crate) fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}
