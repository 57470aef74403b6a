//! A small, fast, non-cryptographic hasher for the crate's own tables.
//!
//! Lookups run several times per flow record, so an IPv4 key must hash in a
//! couple of instructions: each word is folded in with one 64×64→128-bit
//! multiply whose halves are XORed, which spreads entropy into both the low
//! bits (bucket index) and the high bits (hashbrown's control byte).
//!
//! It is not DoS-resistant. That is acceptable here: the keys *inserted* come
//! from the user's own describe-network-interfaces output, and lookups of
//! hostile keys cannot lengthen probe sequences of a table they do not fill.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// The multiplier: 2^64 / φ, odd.
const K: u64 = 0x9E37_79B9_7F4A_7C15;

/// Multiplies and folds the 128-bit product's halves together.
#[inline(always)]
fn fold_mul(a: u64, b: u64) -> u64 {
    let product = u128::from(a) * u128::from(b);
    (product as u64) ^ ((product >> 64) as u64)
}

/// The hasher; see the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FastHasher(u64);

impl FastHasher {
    #[inline(always)]
    fn add(&mut self, word: u64) {
        self.0 = fold_mul(self.0 ^ word, K);
    }
}

impl Hasher for FastHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            // The length keeps "ab" and "ab\0" apart.
            self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
        }
    }

    #[inline(always)]
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    #[inline(always)]
    fn write_u16(&mut self, n: u16) {
        self.add(u64::from(n));
    }

    #[inline(always)]
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }

    #[inline(always)]
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }

    #[inline(always)]
    fn write_u128(&mut self, n: u128) {
        self.add(n as u64);
        self.add((n >> 64) as u64);
    }

    #[inline(always)]
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    #[inline(always)]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// `BuildHasher` for [`FastHasher`].
pub(crate) type FastState = BuildHasherDefault<FastHasher>;

/// A string of up to 23 bytes held inline (zero-padded, length in the last
/// byte), so that a lookup compares three words instead of following a
/// pointer to the key. ENI and VPC ids are 12 or 21 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ShortKey([u64; 3]);

impl ShortKey {
    #[inline]
    fn new(text: &str) -> Option<ShortKey> {
        let bytes = text.as_bytes();
        let len = u8::try_from(bytes.len()).ok().filter(|&n| n <= 23)?;
        let mut buf = [0u8; 24];
        buf[..bytes.len()].copy_from_slice(bytes);
        buf[23] = len;
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&buf[i * 8..i * 8 + 8]);
            u64::from_le_bytes(w)
        };
        Some(ShortKey([word(0), word(1), word(2)]))
    }
}

impl Hash for ShortKey {
    #[inline]
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0[0]);
        state.write_u64(self.0[1]);
        state.write_u64(self.0[2]);
    }
}

/// String → `u32`, with short strings stored inline (see [`ShortKey`]).
#[derive(Debug, Default)]
pub(crate) struct StrTable {
    short: HashMap<ShortKey, u32, FastState>,
    long: HashMap<Box<str>, u32, FastState>,
}

impl StrTable {
    #[inline]
    pub(crate) fn get(&self, key: &str) -> Option<u32> {
        match ShortKey::new(key) {
            Some(short) => self.short.get(&short).copied(),
            None => self.long.get(key).copied(),
        }
    }

    /// Sets `key`'s value; returns the previous one.
    pub(crate) fn insert(&mut self, key: &str, value: u32) -> Option<u32> {
        match ShortKey::new(key) {
            Some(short) => self.short.insert(short, value),
            None => self.long.insert(key.into(), value),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.short.len() + self.long.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::hash::BuildHasher;

    fn hash<T: Hash>(value: T) -> u64 {
        FastState::default().hash_one(value)
    }

    #[test]
    fn consecutive_ipv4_keys_spread_over_low_and_high_bits() {
        let base = u32::from_be_bytes([10, 0, 0, 0]);
        let hashes: Vec<u64> = (0..4096u32).map(|i| hash(base + i)).collect();
        let low: HashSet<u64> = hashes.iter().map(|h| h & 0xfff).collect();
        let high: HashSet<u64> = hashes.iter().map(|h| h >> 57).collect();
        // 4096 keys into 4096 buckets: a decent hash fills well over half.
        assert!(low.len() > 2400, "low bits: {} distinct", low.len());
        // All 128 control-byte values appear.
        assert_eq!(high.len(), 128);
    }

    #[test]
    fn strings_of_different_lengths_differ() {
        assert_ne!(hash("ab"), hash("ab\0"));
        assert_ne!(hash("eni-0123456789abcdef0"), hash("eni-0123456789abcdef1"));
        assert_eq!(
            hash("eni-0123456789abcdef0"),
            hash(String::from("eni-0123456789abcdef0"))
        );
    }

    #[test]
    fn str_table_short_and_long_keys() {
        let mut table = StrTable::default();
        let long = "x".repeat(24);
        for (i, key) in [
            "",
            "a",
            "a\0",
            "eni-0123456789abcdef0",
            &"y".repeat(23),
            &long,
        ]
        .iter()
        .enumerate()
        {
            assert_eq!(table.insert(key, i as u32), None, "{key:?}");
        }
        assert_eq!(table.len(), 6);
        assert_eq!(table.get(""), Some(0));
        assert_eq!(table.get("a"), Some(1));
        assert_eq!(table.get("a\0"), Some(2));
        assert_eq!(table.get("eni-0123456789abcdef0"), Some(3));
        assert_eq!(table.get(&"y".repeat(23)), Some(4));
        assert_eq!(table.get(&long), Some(5));
        assert_eq!(table.get("eni-0123456789abcdef"), None);
        assert_eq!(table.get(&"x".repeat(25)), None);
        assert_eq!(table.insert("a", 9), Some(1));
        assert_eq!(table.get("a"), Some(9));
        assert_eq!(ShortKey::new(&"z".repeat(24)), None);
    }

    #[test]
    fn wide_keys_use_both_halves() {
        let a: u128 = 0x2600_1f18_0000_0000_0000_0000_0000_0001;
        assert_ne!(hash(a), hash(a ^ (1 << 100)));
        assert_ne!(hash(a), hash(a ^ 1));
    }
}
