//! Caches of rendered objects, keyed by 128-bit keys: the endpoint cache
//! (address → `{geo, as, aws, resource}`) and the interface cache (packed
//! interface id → its own address and its resource object). Flow logs
//! repeat addresses and interfaces all the time, and an object depends only
//! on its key while the data stays fixed for the enricher's lifetime (a
//! reload builds a new enricher). The exception, an address that ENIs in
//! several VPCs hold, is marked so and rendered afresh each time (the
//! record's VPC decides).
//!
//! The layout is for memory latency, which is what a hit costs at line rate
//! (tens of thousands of distinct addresses, megabytes of rendered text):
//! a hash table of 8-byte slots (a tag and an offset), small enough to stay
//! in the CPU's caches, over one byte arena in which an entry's key and
//! facts are followed by its body (or point at an equal body kept by an
//! earlier entry, below). A hit is then one slot load and one run of the
//! arena, where a general map took a control byte, a bucket and a separate
//! body allocation, each a dependent miss. Lookups take `&self`
//! and allocate nothing, so a caller can look up every end of a record
//! before copying any body, letting the CPU overlap their misses.
//!
//! Bodies are shared: many addresses get the same object (the addresses of
//! one network have the same geo, AS and AWS answer), so an entry whose
//! body is already in the arena points at it instead of holding a copy.
//! On the benchmark's traffic that shrinks the arena from 7.13 to 4.24 MB
//! for 26,500 addresses, so more hits find their lines in the CPU's
//! caches; that outweighs what sharing costs: a hit on a shared body one
//! more dependent load, an insert one hash of the body and one comparison.
//!
//! It is bounded by the bytes it holds and simply emptied when full.

/// Bytes of rendered objects the endpoint cache holds before it is emptied.
pub(crate) const DEFAULT_BUDGET: usize = 32 << 20;

/// Arena entry header: key (16), per-VPC flag (1), holder present (1), two
/// spare bytes, holder (4), body length (4), body offset in the arena (4):
/// right after the header, or another entry's body with the same bytes.
const HEADER: usize = 32;

/// What rendering an object learnt besides its body.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Facts {
    /// The answer depends on the record's VPC: do not reuse the body.
    pub(crate) per_vpc: bool,
    /// The index of the one ENI that holds the address (or is the
    /// interface), if one does.
    pub(crate) holder: Option<u32>,
}

/// An entry found by [`ObjectCache::find`]: valid until the cache is next
/// changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit(u32);

/// See the module docs.
#[derive(Debug)]
pub(crate) struct ObjectCache {
    /// Open addressing with linear probing; 0 is empty, else the key hash's
    /// upper half (the tag) above the entry's offset in `arena`.
    slots: Vec<u64>,
    /// Entries; starts with padding so that no entry sits at offset 0.
    arena: Vec<u8>,
    entries: usize,
    /// Open addressing over the distinct non-empty bodies: 0 is empty, else
    /// the body hash's upper half above the offset of the entry that holds
    /// the body. Used only on inserts.
    bodies: Vec<u64>,
    distinct_bodies: usize,
    budget: usize,
    /// Where a body that must not be kept (a per-VPC answer) is rendered.
    scratch: Vec<u8>,
}

/// The endpoint cache's key for an address: IPv4 as its IPv4-mapped IPv6
/// form, so that both spellings of such an address share an entry.
pub(crate) fn address_key(ip: std::net::IpAddr) -> u128 {
    match ip {
        std::net::IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        std::net::IpAddr::V6(v6) => u128::from(v6),
    }
}

/// The interface cache's key for an interface id: `eni-` and 1 to 17
/// lowercase hex digits (every id AWS issues) pack into 128 bits without
/// loss; any other id has no key and is looked up in the ENI map itself.
/// The two lengths AWS issues, 17 and 8 digits, are decoded eight at a time:
/// every record needs this key, and a loop a digit at a time pays an epoch
/// check per digit in the guest.
#[inline]
pub(crate) fn interface_key(id: &[u8]) -> Option<u128> {
    let digits = id.strip_prefix(b"eni-")?;
    let value = match digits.len() {
        17 => {
            (u128::from(hex_digit(digits[0])?) << 64)
                | (u128::from(eight_hex_digits(&digits[1..9])?) << 32)
                | u128::from(eight_hex_digits(&digits[9..])?)
        }
        8 => u128::from(eight_hex_digits(digits)?),
        _ => hex_digits_one_by_one(digits)?,
    };
    // The digit count keeps `eni-0a` and `eni-a` apart.
    Some(value | ((digits.len() as u128) << 96))
}

/// 1 to 17 lowercase hex digits as a number.
fn hex_digits_one_by_one(digits: &[u8]) -> Option<u128> {
    if digits.is_empty() || digits.len() > 17 {
        return None;
    }
    digits.iter().try_fold(0u128, |value, &digit| {
        Some((value << 4) | u128::from(hex_digit(digit)?))
    })
}

#[inline(always)]
fn hex_digit(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        _ => None,
    }
}

/// Exactly eight lowercase hex digits (the first most significant) as a
/// number, decoded in one 64-bit word.
#[inline(always)]
fn eight_hex_digits(digits: &[u8]) -> Option<u32> {
    const LANES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let word = u64::from_le_bytes(digits.try_into().ok()?);
    // For ASCII lanes, adding 0x80 - low sets a lane's top bit exactly
    // when the lane is at least `low`, and never carries into the next.
    let at_least = |low: u8| word.wrapping_add(LANES * u64::from(0x80 - low)) & HIGH;
    let decimal = at_least(b'0') & !at_least(b'9' + 1);
    let letter = at_least(b'a') & !at_least(b'f' + 1);
    if word & HIGH != 0 || (decimal | letter) != HIGH {
        return None;
    }
    // The low nibble, plus 9 for letters (bit 6 set): 0-9 and 10-15.
    let nibbles = (word & (LANES * 0x0F)) + 9 * ((word >> 6) & LANES);
    // Pairs of lanes into bytes, bytes into 16-bit halves, halves into 32
    // bits; the first digit (the lowest lane) ends up most significant.
    let bytes = ((nibbles & 0x000F_000F_000F_000F) << 4) | ((nibbles >> 8) & 0x000F_000F_000F_000F);
    let halves = ((bytes & 0x0000_00FF_0000_00FF) << 8) | ((bytes >> 16) & 0x0000_00FF_0000_00FF);
    // Truncation keeps the 32 bits assembled.
    Some((((halves & 0xFFFF) << 16) | ((halves >> 32) & 0xFFFF)) as u32)
}

/// Mixes a key with 64-bit multiplications only: a 128-bit product is a
/// software routine in the wasm guest.
#[inline(always)]
fn hash(key: u128) -> u64 {
    // Truncation keeps each half.
    let (high, low) = ((key >> 64) as u64, key as u64);
    let mixed =
        (low ^ high.wrapping_mul(0xC2B2_AE3D_27D4_EB4F)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    mixed ^ (mixed >> 31)
}

/// Hashes a body eight bytes at a time, with 64-bit multiplications only
/// (see [`hash`]). Runs once per insert, never on a hit.
fn body_hash(body: &[u8]) -> u64 {
    let mut chunks = body.chunks_exact(8);
    let mut state = body.len() as u64;
    let mut mix = |word: u64| {
        state = (state.rotate_left(23) ^ word).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    };
    for chunk in chunks.by_ref() {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        mix(u64::from_le_bytes(word));
    }
    let mut last = [0u8; 8];
    last[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    mix(u64::from_le_bytes(last));
    hash(u128::from(state))
}

/// Probes an open-addressing table of `tag << 32 | offset` slots (0 is
/// empty), where the tag is the upper half of `hash`, until
/// `matches(offset)` or an empty slot: the index where the probe stopped
/// and the offset found there, if it matched. The tag alone picks the
/// first index, so that growing a table never reads the arena.
#[inline(always)]
fn probe(table: &[u64], hash: u64, mut matches: impl FnMut(u32) -> bool) -> (usize, Option<u32>) {
    let tag = hash >> 32;
    let mask = table.len() - 1;
    // Tables stay far below 2^32 slots.
    let mut index = tag as usize & mask;
    loop {
        let slot = table[index];
        if slot == 0 {
            return (index, None);
        }
        // Truncation keeps the offset half.
        if slot >> 32 == tag && matches(slot as u32) {
            return (index, Some(slot as u32));
        }
        index = (index + 1) & mask;
    }
}

/// `table` twice as long, every slot placed again by its tag.
fn doubled(table: &[u64]) -> Vec<u64> {
    let mut grown = vec![0; table.len() * 2];
    for &slot in table.iter().filter(|&&slot| slot != 0) {
        // The slot's upper half is the tag, all that `probe` uses of a hash.
        let (index, _) = probe(&grown, slot, |_| false);
        grown[index] = slot;
    }
    grown
}

#[inline(always)]
fn read_u32(bytes: &[u8], at: usize) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&bytes[at..at + 4]);
    u32::from_le_bytes(word)
}

impl ObjectCache {
    /// A cache that holds up to about `budget` bytes of rendered objects.
    pub(crate) fn new(budget: usize) -> ObjectCache {
        ObjectCache {
            slots: vec![0; 1024],
            arena: vec![0; 8],
            entries: 0,
            bodies: vec![0; 1024],
            distinct_bodies: 0,
            // Offsets are 32-bit.
            budget: budget.min(u32::MAX as usize / 2),
            scratch: Vec::new(),
        }
    }

    /// The entry for `key`, if there is one.
    #[inline(always)]
    pub(crate) fn find(&self, key: u128) -> Option<Hit> {
        probe(&self.slots, hash(key), |offset| self.key_at(offset) == key)
            .1
            .map(Hit)
    }

    #[inline(always)]
    fn key_at(&self, offset: u32) -> u128 {
        let at = offset as usize;
        let mut stored = [0u8; 16];
        stored.copy_from_slice(&self.arena[at..at + 16]);
        u128::from_le_bytes(stored)
    }

    /// What rendering the entry learnt.
    #[inline(always)]
    pub(crate) fn facts(&self, hit: Hit) -> Facts {
        let at = hit.0 as usize;
        let flags = &self.arena[at + 16..at + 18];
        Facts {
            per_vpc: flags[0] != 0,
            holder: (flags[1] != 0).then(|| read_u32(&self.arena, at + 20)),
        }
    }

    /// The entry's rendered object; empty when nothing is known.
    #[inline(always)]
    pub(crate) fn body(&self, hit: Hit) -> &[u8] {
        self.body_at(hit.0)
    }

    #[inline(always)]
    fn body_at(&self, offset: u32) -> &[u8] {
        let at = offset as usize;
        let len = read_u32(&self.arena, at + 24) as usize;
        let start = read_u32(&self.arena, at + 28) as usize;
        &self.arena[start..start + len]
    }

    /// The body for `key` and its facts. On a miss `render` writes it into
    /// an empty buffer and returns the facts; a body that depends on the
    /// record's VPC is rendered again on every call and not kept.
    pub(crate) fn get_or_insert(
        &mut self,
        key: u128,
        mut render: impl FnMut(&mut Vec<u8>) -> Facts,
    ) -> (&[u8], Facts) {
        if let Some(hit) = self.find(key) {
            let facts = self.facts(hit);
            if !facts.per_vpc {
                return (self.body(hit), facts);
            }
            self.scratch.clear();
            let facts = render(&mut self.scratch);
            return (&self.scratch, facts);
        }
        self.scratch.clear();
        let facts = render(&mut self.scratch);
        let body = if facts.per_vpc {
            0..0
        } else {
            0..self.scratch.len()
        };
        let hit = self.insert(key, facts, body.clone());
        if facts.per_vpc {
            (&self.scratch, facts)
        } else {
            (self.body(hit), facts)
        }
    }

    /// Adds an entry for a key that is not present, with `scratch[body]`.
    fn insert(&mut self, key: u128, facts: Facts, body: std::ops::Range<usize>) -> Hit {
        if self.arena.len() + HEADER + body.len() > self.budget {
            self.slots.iter_mut().for_each(|slot| *slot = 0);
            self.bodies.iter_mut().for_each(|slot| *slot = 0);
            self.arena.truncate(8);
            self.entries = 0;
            self.distinct_bodies = 0;
        }
        if (self.entries + 1) * 2 > self.slots.len() {
            self.slots = doubled(&self.slots);
        }
        if (self.distinct_bodies + 1) * 2 > self.bodies.len() {
            self.bodies = doubled(&self.bodies);
        }
        // Within the budget, which is below u32::MAX.
        let offset = self.arena.len() as u32;
        let new_body = &self.scratch[body];
        let mut body_start = offset + HEADER as u32;
        // Where the bodies table is to list a body not seen before.
        let mut new_distinct = None;
        if !new_body.is_empty() {
            let hash = body_hash(new_body);
            match probe(&self.bodies, hash, |holder| {
                self.body_at(holder) == new_body
            }) {
                (_, Some(holder)) => body_start = read_u32(&self.arena, holder as usize + 28),
                (index, None) => new_distinct = Some((index, hash)),
            }
        }
        self.arena.extend_from_slice(&key.to_le_bytes());
        self.arena.push(u8::from(facts.per_vpc));
        self.arena.push(u8::from(facts.holder.is_some()));
        self.arena.extend_from_slice(&[0, 0]);
        self.arena
            .extend_from_slice(&facts.holder.unwrap_or(0).to_le_bytes());
        self.arena
            .extend_from_slice(&(new_body.len() as u32).to_le_bytes());
        self.arena.extend_from_slice(&body_start.to_le_bytes());
        if let Some((index, hash)) = new_distinct {
            self.arena.extend_from_slice(new_body);
            self.bodies[index] = ((hash >> 32) << 32) | u64::from(offset);
            self.distinct_bodies += 1;
        }
        let key_hash = hash(key);
        let (index, _) = probe(&self.slots, key_hash, |_| false);
        self.slots[index] = ((key_hash >> 32) << 32) | u64::from(offset);
        self.entries += 1;
        Hit(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::xorshift;
    use std::net::IpAddr;

    fn ip(s: &str) -> u128 {
        address_key(s.parse::<IpAddr>().unwrap())
    }

    #[test]
    fn hits_misses_per_vpc_entries_and_budget() {
        let mut cache = ObjectCache::new(1000);
        let renders = std::cell::Cell::new(0);
        let get = |cache: &mut ObjectCache, address: &str, text: &str, per_vpc: bool| {
            let (body, facts) = cache.get_or_insert(ip(address), |body| {
                renders.set(renders.get() + 1);
                body.extend_from_slice(text.as_bytes());
                Facts {
                    per_vpc,
                    holder: Some(renders.get()),
                }
            });
            // The facts are those of the render that made the body.
            assert_eq!(facts.per_vpc, per_vpc);
            assert!(facts.holder.is_some_and(|h| h <= renders.get()));
            body.to_vec()
        };
        assert_eq!(get(&mut cache, "10.0.0.1", "A", false), b"A");
        assert_eq!(get(&mut cache, "10.0.0.1", "ignored", false), b"A");
        assert_eq!(get(&mut cache, "10.0.0.2", "B", false), b"B");
        assert_eq!(get(&mut cache, "10.0.0.1", "ignored", false), b"A");
        // An empty body (nothing known) is cached too.
        assert_eq!(get(&mut cache, "192.0.2.1", "", false), b"");
        assert_eq!(get(&mut cache, "192.0.2.1", "late", false), b"");
        // IPv4 and its IPv4-mapped spelling share an entry.
        assert_eq!(get(&mut cache, "::ffff:10.0.0.2", "other", false), b"B");
        assert_eq!(renders.get(), 3);
        // A VPC-dependent answer is rendered every time.
        assert_eq!(get(&mut cache, "10.0.0.5", "in-a", true), b"in-a");
        assert_eq!(get(&mut cache, "10.0.0.5", "in-b", true), b"in-b");
        assert_eq!(renders.get(), 5);
        // Over the budget the cache starts again.
        let big = "x".repeat(2000);
        assert_eq!(get(&mut cache, "10.0.0.4", &big, false), big.as_bytes());
        assert_eq!(get(&mut cache, "10.0.0.1", "A again", false), b"A again");
        assert_eq!(renders.get(), 7);
    }

    /// Differential test against a map: many keys that share hash bits and
    /// tags, through growth and emptying, every body and fact intact.
    #[test]
    fn agrees_with_a_map_through_growth_and_emptying() {
        let mut cache = ObjectCache::new(200_000);
        let mut reference = std::collections::HashMap::new();
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for step in 0..60_000u32 {
            xorshift(&mut state);
            // Few distinct keys in both halves, so that they repeat.
            let key = u128::from(state % 5000) | (u128::from(state % 3) << 100);
            // A third of the bodies are shared by many keys.
            let text = if key % 3 == 0 {
                format!("{{\"n\":{}}}", key % 97)
            } else {
                format!("{{\"k\":{key},\"n\":{}}}", key % 97)
            };
            let holder = (key % 4 != 0).then_some((key % 1000) as u32);
            let (body, facts) = cache.get_or_insert(key, |body| {
                body.extend_from_slice(text.as_bytes());
                Facts {
                    per_vpc: false,
                    holder,
                }
            });
            assert_eq!(body, text.as_bytes(), "step {step}");
            assert_eq!(facts.holder, holder);
            reference.insert(key, text);
            if let Some(hit) = cache.find(key) {
                assert_eq!(cache.body(hit), reference[&key].as_bytes());
            } else {
                panic!("step {step}: {key} just inserted but not found");
            }
        }
        // The budget forced emptying: fewer bytes than all bodies together.
        let all: usize = reference.values().map(|t| t.len() + HEADER).sum();
        assert!(cache.arena.len() <= 200_000 && all > 200_000);
    }

    /// Entries with equal bodies hold one copy; bodies that differ, even
    /// by a byte or only in length, stay apart; sharing survives growth and
    /// starts again after the cache is emptied.
    #[test]
    fn equal_bodies_are_stored_once() {
        let distinct: Vec<String> = (0..40)
            .map(|n| match n % 4 {
                0 => format!("{{\"geo\":{{\"city\":\"c{}\"}}}}", n / 4),
                1 => format!("{{\"geo\":{{\"city\":\"d{}\"}}}}", n / 4),
                2 => format!("{{\"geo\":{{\"city\":\"c{}\"}}}}x", n / 4),
                _ => "y".repeat(n),
            })
            .collect();
        let mut cache = ObjectCache::new(1 << 20);
        for key in 0..5000u128 {
            let text = &distinct[(key % 40) as usize];
            let (body, _) = cache.get_or_insert(key << 64, |body| {
                body.extend_from_slice(text.as_bytes());
                Facts::default()
            });
            assert_eq!(body, text.as_bytes());
        }
        for key in 0..5000u128 {
            let hit = cache.find(key << 64).expect("kept");
            assert_eq!(cache.body(hit), distinct[(key % 40) as usize].as_bytes());
        }
        let stored_once: usize = distinct.iter().map(String::len).sum();
        assert_eq!(cache.arena.len(), 8 + 5000 * HEADER + stored_once);
        assert_eq!(cache.distinct_bodies, 40);

        // After emptying, a body seen before is stored again, then shared.
        let mut small = ObjectCache::new(400);
        for key in 0..30u128 {
            small.get_or_insert(key, |body| {
                body.extend_from_slice(b"{\"same\":1}");
                Facts::default()
            });
            let stored = small.arena.len() - 8;
            let entries = small.entries;
            assert_eq!(stored, entries * HEADER + 10, "key {key}");
            assert_eq!(small.body(small.find(key).unwrap()), b"{\"same\":1}");
        }
        assert!(small.entries < 30, "the budget never emptied the cache");
    }

    /// The word-at-a-time decoding against the digit-at-a-time one, for
    /// ids of every length with each position holding a digit, a letter or
    /// a byte next to those ranges.
    #[test]
    fn interface_keys_match_digit_by_digit_decoding() {
        let reference = |id: &str| {
            let digits = id.strip_prefix("eni-")?.as_bytes();
            let value = hex_digits_one_by_one(digits)?;
            Some(value | ((digits.len() as u128) << 96))
        };
        let alphabet = b"0123456789abcdef/:`gAF\x7f\x80\xff ";
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = || xorshift(&mut state);
        let mut accepted = 0;
        for round in 0..200_000 {
            let len = (next() % 20) as usize;
            // Mostly valid digits, so that most ids decode.
            let bad_at = (round % 3 == 0).then(|| next() as usize % len.max(1));
            let bytes: Vec<u8> = (0..len)
                .map(|i| {
                    let choices = if Some(i) == bad_at {
                        alphabet.len()
                    } else {
                        16
                    };
                    alphabet[next() as usize % choices]
                })
                .collect();
            let mut id = b"eni-".to_vec();
            id.extend_from_slice(&bytes);
            // Ids come from `&str`; invalid UTF-8 cannot reach the key.
            let Ok(id) = String::from_utf8(id) else {
                continue;
            };
            let key = interface_key(id.as_bytes());
            assert_eq!(key, reference(&id), "{id:?}");
            accepted += usize::from(key.is_some());
        }
        assert!(accepted > 50_000, "too few valid ids: {accepted}");
        for digit in 0..=255u8 {
            let mut id = *b"eni-0123456789abcdef0";
            for at in 4..id.len() {
                let keep = id[at];
                id[at] = digit;
                if let Ok(id) = std::str::from_utf8(&id) {
                    assert_eq!(interface_key(id.as_bytes()), reference(id), "{id:?}");
                }
                id[at] = keep;
            }
        }
    }

    #[test]
    fn interface_keys_are_injective_on_aws_ids() {
        let ids = [
            "eni-0",
            "eni-00",
            "eni-a",
            "eni-0a",
            "eni-12345678",
            "eni-012345678",
            "eni-0123456789abcdef0",
            "eni-123456789abcdef01",
            "eni-fffffffffffffffff",
        ];
        let keys: Vec<u128> = ids
            .iter()
            .map(|id| interface_key(id.as_bytes()).unwrap())
            .collect();
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                assert_ne!(a, b);
            }
        }
        for other in [
            "eni-",
            "eni-0123456789abcdef01",
            "eni-0ABC",
            "eni-0g",
            "ENI-0a",
            "x",
            "",
        ] {
            assert_eq!(interface_key(other.as_bytes()), None, "{other}");
        }
    }
}
