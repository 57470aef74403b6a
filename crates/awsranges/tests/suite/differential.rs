//! The interval lookup against a linear scan over every entry, on AWS's real
//! ip-ranges.json files: random addresses, addresses inside random prefixes,
//! and every prefix's first and last address and the addresses just outside.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use awsranges::AwsRanges;
use serde_json::Value;

/// `<shared>/data/aws`, or `None` (after a note) when the shared folder is
/// missing; with `FLOWTAG_REQUIRE_SHARED` set its absence fails the test.
fn aws_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("FLOWTAG_SHARED_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    let dir = shared.join("data/aws");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("FLOWTAG_REQUIRE_SHARED").is_none(),
        "FLOWTAG_REQUIRE_SHARED is set but {} is missing",
        dir.display()
    );
    eprintln!(
        "note: {} is missing; differential tests skipped",
        dir.display()
    );
    None
}

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).expect("fits")
    }

    fn wide(&mut self) -> u128 {
        (u128::from(self.next()) << 64) | u128::from(self.next())
    }
}

/// (first, last) of every prefix in `list`, read independently of the crate.
fn prefixes(json: &Value, list: &str, field: &str) -> Vec<(u128, u128, bool)> {
    json[list]
        .as_array()
        .expect("a list")
        .iter()
        .map(|entry| {
            let text = entry[field].as_str().expect("a prefix");
            let (address, len) = text.split_once('/').expect("a CIDR");
            let len: u32 = len.parse().expect("a length");
            let v4 = field == "ip_prefix";
            let (value, bits) = if v4 {
                (
                    u128::from(u32::from(address.parse::<Ipv4Addr>().expect("IPv4"))),
                    32,
                )
            } else {
                (u128::from(address.parse::<Ipv6Addr>().expect("IPv6")), 128)
            };
            let size_minus_one = if len == 0 && bits == 128 {
                u128::MAX
            } else {
                (1u128 << (bits - len)) - 1
            };
            (value, value + size_minus_one, v4)
        })
        .collect()
}

fn to_ip(value: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(u32::try_from(value).expect("32 bits")))
    } else {
        IpAddr::V6(Ipv6Addr::from(value))
    }
}

#[test]
fn interval_lookup_equals_linear_scan_on_real_files() {
    let Some(dir) = aws_dir() else { return };
    for name in ["ip-ranges.json", "ip-ranges-older.json"] {
        let bytes = std::fs::read(dir.join(name)).expect("readable");
        let ranges = AwsRanges::from_json(&bytes).expect("loads");
        let json: Value = serde_json::from_slice(&bytes).expect("JSON");
        assert_eq!(
            ranges.sync_token(),
            json["syncToken"].as_str().expect("syncToken")
        );
        assert_eq!(
            ranges.create_date(),
            json["createDate"].as_str().expect("createDate")
        );
        let v4 = prefixes(&json, "prefixes", "ip_prefix");
        let v6 = prefixes(&json, "ipv6_prefixes", "ipv6_prefix");
        assert_eq!(ranges.ipv4_prefix_count(), v4.len(), "{name}");
        assert_eq!(ranges.ipv6_prefix_count(), v6.len(), "{name}");
        assert!(v4.len() > 1000 && v6.len() > 1000, "{name} looks truncated");

        let mut addresses: Vec<IpAddr> = Vec::new();
        for &(first, last, is_v4) in v4.iter().chain(&v6) {
            let max = if is_v4 {
                u128::from(u32::MAX)
            } else {
                u128::MAX
            };
            addresses.push(to_ip(first, is_v4));
            addresses.push(to_ip(last, is_v4));
            if first > 0 {
                addresses.push(to_ip(first - 1, is_v4));
            }
            if last < max {
                addresses.push(to_ip(last + 1, is_v4));
            }
        }
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        let all: Vec<&(u128, u128, bool)> = v4.iter().chain(&v6).collect();
        for _ in 0..20_000 {
            addresses.push(to_ip(u128::from(rng.next() as u32), true));
            // Random IPv6 in 2000::/3, where AWS's prefixes are.
            addresses.push(to_ip((rng.wide() >> 3) | (1u128 << 125), false));
            let &&(first, last, is_v4) = &all[rng.below(all.len())];
            let span = last - first;
            let offset = if span == u128::MAX {
                rng.wide()
            } else {
                rng.wide() % (span + 1)
            };
            addresses.push(to_ip(first + offset, is_v4));
        }
        let mut matched = 0;
        for ip in &addresses {
            let fast = ranges.lookup(*ip);
            assert_eq!(fast.cloned(), ranges.lookup_naive(*ip), "{name}: {ip}");
            matched += usize::from(fast.is_some());
        }
        // The test means something only if both outcomes occur often.
        assert!(
            matched > addresses.len() / 3,
            "{name}: {matched} of {}",
            addresses.len()
        );
        assert!(matched < addresses.len(), "{name}");
        eprintln!(
            "{name}: {} addresses compared, {matched} in AWS ranges",
            addresses.len()
        );
    }
}

#[test]
fn real_file_answers_follow_the_rule() {
    let Some(dir) = aws_dir() else { return };
    let bytes = std::fs::read(dir.join("ip-ranges.json")).expect("readable");
    let ranges = AwsRanges::from_json(&bytes).expect("loads");
    let json: Value = serde_json::from_slice(&bytes).expect("JSON");
    // For every prefix, its first address's answer: never AMAZON when a
    // specific service lists a prefix containing it, and `services` always
    // holds the entry's own service.
    for entry in json["prefixes"].as_array().expect("a list") {
        let prefix = entry["ip_prefix"].as_str().expect("a prefix");
        let service = entry["service"].as_str().expect("a service");
        let first: IpAddr = prefix
            .split('/')
            .next()
            .expect("an address")
            .parse()
            .expect("IPv4");
        let found = ranges.lookup(first).expect("inside its own prefix");
        assert!(found.services().iter().any(|s| s == service), "{prefix}");
        if found.services().iter().any(|s| s != "AMAZON") {
            assert_ne!(found.service(), "AMAZON", "{prefix}");
        }
        let mut sorted = found.services().to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, found.services(), "{prefix}");
    }
}
