//! A cache of rendered endpoint objects. Flow logs repeat addresses all the
//! time, and an endpoint's object depends only on the address while the
//! data stays fixed for the enricher's lifetime (a reload builds a new
//! enricher). The exception, an address that ENIs in several VPCs hold, is
//! marked so and rendered afresh each time (the record's VPC decides). A hit costs one hash probe and one copy instead of up to four
//! lookups and the decoding and rendering of GeoIP records.
//!
//! It is a hash map rather than a direct-mapped array because collisions
//! are expensive here (a GeoIP miss costs microseconds); it is bounded by
//! the bytes it holds, and simply emptied when full.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::net::IpAddr;

/// Bytes of rendered objects a cache holds before it is emptied.
pub(crate) const DEFAULT_BUDGET: usize = 32 << 20;

#[derive(Debug)]
struct Entry {
    facts: Facts,
    /// The rendered object, or empty when nothing is known.
    body: Vec<u8>,
}

/// What rendering an endpoint learnt besides its object.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Facts {
    /// The answer depends on the record's VPC: do not reuse the body.
    pub(crate) per_vpc: bool,
    /// The index of the one ENI that holds the address, if one does.
    pub(crate) holder: Option<u32>,
}

/// See the module docs.
#[derive(Debug)]
pub(crate) struct EndpointCache {
    map: HashMap<u128, Entry, BuildHasherDefault<AddressHasher>>,
    bytes: usize,
    budget: usize,
}

impl EndpointCache {
    /// A cache that holds up to about `budget` bytes of rendered objects.
    pub(crate) fn new(budget: usize) -> EndpointCache {
        EndpointCache {
            map: HashMap::default(),
            bytes: 0,
            budget,
        }
    }

    /// The body for `ip` and its facts. On a miss `render` writes it into
    /// an empty buffer and returns the facts; a body that depends on the
    /// record's VPC is rendered again on every call.
    pub(crate) fn get_or_insert(
        &mut self,
        ip: IpAddr,
        mut render: impl FnMut(&mut Vec<u8>) -> Facts,
    ) -> (&[u8], Facts) {
        // IPv4 as its IPv4-mapped IPv6 form: every lookup treats the two
        // spellings of such an address alike.
        let key = match ip {
            IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
            IpAddr::V6(v6) => u128::from(v6),
        };
        if self.bytes > self.budget {
            self.map.clear();
            self.bytes = 0;
        }
        let mut inserted = false;
        let entry = self.map.entry(key).or_insert_with(|| {
            inserted = true;
            Entry {
                facts: Facts::default(),
                body: Vec::new(),
            }
        });
        if inserted || entry.facts.per_vpc {
            self.bytes -= entry.body.len().min(self.bytes);
            entry.body.clear();
            entry.facts = render(&mut entry.body);
            self.bytes += entry.body.len() + 64;
        }
        (&entry.body, entry.facts)
    }
}

/// Hashes the u128 keys with two multiplications; std's SipHash costs more
/// than the rest of a cache hit.
#[derive(Debug, Default)]
pub(crate) struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
    }

    fn write_u128(&mut self, value: u128) {
        // Truncation keeps each half.
        let (high, low) = ((value >> 64) as u64, value as u64);
        let mixed = (low ^ self.0).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ high.wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        self.0 = mixed ^ (mixed >> 29);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_misses_per_vpc_entries_and_budget() {
        let mut cache = EndpointCache::new(1000);
        let ip = |s: &str| -> IpAddr { s.parse().unwrap() };
        let renders = std::cell::Cell::new(0);
        let get = |cache: &mut EndpointCache, address: &str, text: &str, per_vpc: bool| {
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
}
