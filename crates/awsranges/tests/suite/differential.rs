//! The interval lookup against the independent linear scan on AWS's real
//! ip-ranges.json files: random addresses, addresses inside random
//! prefixes, every prefix's first and last address and the addresses just
//! outside, and IPv4-mapped forms.

use std::net::{IpAddr, Ipv6Addr};

use awsranges::AwsRanges;
use serde_json::Value;

use crate::naive::Naive;
use crate::support::{Rng, answer_of, aws_dir, to_ip};

const FILES: [&str; 2] = ["ip-ranges.json", "ip-ranges-older.json"];

#[test]
fn real_files_metadata_equals_what_serde_json_reads() {
    let Some(dir) = aws_dir() else { return };
    for name in FILES {
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
        let count = |list: &str| json[list].as_array().expect("a list").len();
        assert_eq!(ranges.ipv4_prefix_count(), count("prefixes"), "{name}");
        assert_eq!(ranges.ipv6_prefix_count(), count("ipv6_prefixes"), "{name}");
        assert!(
            count("prefixes") > 1000 && count("ipv6_prefixes") > 1000,
            "{name} looks truncated"
        );
    }
}

#[test]
fn interval_lookup_equals_linear_scan_on_real_files() {
    let Some(dir) = aws_dir() else { return };
    for name in FILES {
        let bytes = std::fs::read(dir.join(name)).expect("readable");
        let ranges = AwsRanges::from_json(&bytes).expect("loads");
        let naive = Naive::from_value(&serde_json::from_slice(&bytes).expect("JSON"));

        let mut addresses: Vec<IpAddr> = Vec::new();
        let all: Vec<(u128, u128, bool)> = naive
            .v4
            .iter()
            .map(|p| (p.first, p.last, true))
            .chain(naive.v6.iter().map(|p| (p.first, p.last, false)))
            .collect();
        for &(first, last, v4) in &all {
            let max = if v4 { u128::from(u32::MAX) } else { u128::MAX };
            addresses.push(to_ip(first, v4));
            addresses.push(to_ip(last, v4));
            if first > 0 {
                addresses.push(to_ip(first - 1, v4));
            }
            if last < max {
                addresses.push(to_ip(last + 1, v4));
            }
        }
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            addresses.push(to_ip(u128::from(rng.u32()), true));
            // Anywhere, and in 2000::/3 where AWS's prefixes are.
            addresses.push(to_ip(rng.u128(), false));
            addresses.push(to_ip((rng.u128() >> 3) | (1u128 << 125), false));
            let &(first, last, v4) = rng.pick(&all);
            addresses.push(to_ip(rng.within(first, last), v4));
        }
        // IPv4-mapped IPv6 forms of some IPv4 addresses.
        let mapped: Vec<IpAddr> = addresses
            .iter()
            .step_by(5)
            .filter_map(|a| match a {
                IpAddr::V4(v4) => Some(IpAddr::V6(v4.to_ipv6_mapped())),
                IpAddr::V6(_) => None,
            })
            .collect();
        addresses.extend(mapped);
        addresses.push(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        addresses.push(IpAddr::V6(Ipv6Addr::from(u128::MAX)));

        let (mut matched, mut amazon_only, mut many_services) = (0, 0, 0);
        for &address in &addresses {
            let fast = ranges.lookup(address);
            let expected = naive.lookup(address);
            assert_eq!(fast.map(answer_of), expected, "{name}: {address}");
            if let Some(found) = expected {
                matched += 1;
                amazon_only += usize::from(found.service == "AMAZON");
                many_services += usize::from(found.services.len() > 2);
            }
        }
        // The comparison means something only if every outcome is common.
        let total = addresses.len();
        assert!(matched > total / 3, "{name}: {matched} of {total}");
        assert!(matched < total * 9 / 10, "{name}: {matched} of {total}");
        assert!(amazon_only > 1000, "{name}: {amazon_only}");
        assert!(many_services > 100, "{name}: {many_services}");
        eprintln!(
            "{name}: {total} addresses compared, {matched} in AWS ranges, \
             {amazon_only} AMAZON only, {many_services} with 3+ services"
        );
    }
}

#[test]
fn real_file_answers_follow_the_rule() {
    let Some(dir) = aws_dir() else { return };
    let bytes = std::fs::read(dir.join("ip-ranges.json")).expect("readable");
    let ranges = AwsRanges::from_json(&bytes).expect("loads");
    let json: Value = serde_json::from_slice(&bytes).expect("JSON");
    // The first address of every prefix: its answer lists the entry's own
    // service, is never AMAZON when a specific service matches, and the
    // services are sorted and distinct.
    for (list, field) in [("prefixes", "ip_prefix"), ("ipv6_prefixes", "ipv6_prefix")] {
        for entry in json[list].as_array().expect("a list") {
            let prefix = entry[field].as_str().expect("a prefix");
            let service = entry["service"].as_str().expect("a service");
            let first: IpAddr = prefix
                .split('/')
                .next()
                .expect("an address")
                .parse()
                .expect("an address");
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
}
