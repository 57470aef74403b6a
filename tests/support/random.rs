//! Deterministic pseudo-random numbers (xorshift) for the host's tests, so
//! that failures reproduce.

/// A xorshift generator; the seed must not be zero.
pub struct Random(pub u64);

impl Random {
    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
