//! A xorshift64 generator for the unit tests' random inputs: deterministic,
//! and no dependency.

/// The next value of the sequence seeded by `*state` (which must not be 0).
pub(crate) fn xorshift(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

/// `len` bytes drawn from `alphabet`.
pub(crate) fn random_bytes(state: &mut u64, alphabet: &[u8], len: usize) -> Vec<u8> {
    (0..len)
        .map(|_| alphabet[(xorshift(state) % alphabet.len() as u64) as usize])
        .collect()
}
