//! Helpers shared by the test modules.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;

use awsranges::AwsRanges;

use crate::naive::{Answer, Naive};

/// `<shared>/data/aws`, holding ip-ranges.json, or `None` when the shared
/// data is missing (see the `shared-data` crate).
pub fn aws_dir() -> Option<PathBuf> {
    shared_data::locate("aws/ip-ranges.json").and_then(|file| file.parent().map(PathBuf::from))
}

/// xorshift64: deterministic, good enough to pick test addresses.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform enough in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n).expect("fits in u64")).expect("below n")
    }

    pub fn chance(&mut self, one_in: u64) -> bool {
        self.next().is_multiple_of(one_in)
    }

    pub fn u32(&mut self) -> u32 {
        u32::try_from(self.next() >> 32).expect("32 bits")
    }

    pub fn u128(&mut self) -> u128 {
        (u128::from(self.next()) << 64) | u128::from(self.next())
    }

    /// Uniform in `first..=last`.
    pub fn within(&mut self, first: u128, last: u128) -> u128 {
        let span = last - first;
        if span == u128::MAX {
            self.u128()
        } else {
            first + self.u128() % (span + 1)
        }
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// An address of the family (`v4`) from its integer value.
pub fn to_ip(value: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(
            u32::try_from(value).expect("an IPv4 value fits in 32 bits"),
        ))
    } else {
        IpAddr::V6(Ipv6Addr::from(value))
    }
}

pub fn ip(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

/// An ip-ranges.json from (prefix, service, region, network border group);
/// IPv6 prefixes (with a `:`) go to `ipv6_prefixes`.
pub fn file_json(entries: &[(String, String, String, String)]) -> String {
    let item = |(prefix, service, region, nbg): &(String, String, String, String)| {
        let field = if prefix.contains(':') {
            "ipv6_prefix"
        } else {
            "ip_prefix"
        };
        serde_json::json!({
            field: prefix,
            "service": service,
            "region": region,
            "network_border_group": nbg,
        })
    };
    let (v6, v4): (Vec<_>, Vec<_>) = entries.iter().partition(|e| e.0.contains(':'));
    serde_json::json!({
        "syncToken": "42",
        "createDate": "2026-11-25-00-00-00",
        "prefixes": v4.into_iter().map(item).collect::<Vec<_>>(),
        "ipv6_prefixes": v6.into_iter().map(item).collect::<Vec<_>>(),
    })
    .to_string()
}

/// The crate's answer in the reference's terms, after checking that its
/// JSON rendering says the same.
pub fn answer_of(found: &awsranges::AwsMatch) -> Answer {
    let answer = Answer {
        service: found.service().to_owned(),
        region: found.region().to_owned(),
        network_border_group: found.network_border_group().to_owned(),
        services: found.services().to_vec(),
    };
    let json: serde_json::Value = serde_json::from_str(found.json()).expect("json() is JSON");
    let expected = serde_json::json!({
        "service": answer.service,
        "region": answer.region,
        "network_border_group": answer.network_border_group,
        "services": answer.services,
    });
    assert_eq!(json, expected, "json() disagrees with the accessors");
    answer
}

/// Looks `address` up in `ranges`, asserts that the reference agrees, and
/// returns the answer.
pub fn checked(ranges: &AwsRanges, naive: &Naive, address: IpAddr) -> Option<Answer> {
    let expected = naive.lookup(address);
    assert_eq!(ranges.lookup(address).map(answer_of), expected, "{address}");
    expected
}
