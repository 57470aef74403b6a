//! Random small prefix sets, dense with nesting, duplicates, shared
//! prefixes and both ends of the address space: the interval lookup
//! against the independent linear scan at every boundary and at random.

use std::net::{IpAddr, Ipv6Addr};

use awsranges::AwsRanges;

use crate::naive::Naive;
use crate::support::{Rng, checked, file_json, to_ip};

const SERVICES: [&str; 8] = [
    "AMAZON",
    "AMAZON",
    "EC2",
    "EC2",
    "S3",
    "ROUTE53",
    "DYNAMODB",
    "CLOUDFRONT",
];
const REGIONS: [&str; 3] = ["GLOBAL", "us-east-1", "eu-west-1"];

/// The text of the prefix of `len` bits containing `value`.
fn prefix_text(value: u128, len: u32, v4: bool) -> String {
    let bits = if v4 { 32 } else { 128 };
    let host = if bits - len == 128 {
        u128::MAX
    } else {
        (1u128 << (bits - len)) - 1
    };
    format!("{}/{len}", to_ip(value & !host, v4))
}

/// A random set of prefixes of one family, most inside a small universe
/// (10.0.0.0/16 or 2600:1f00::/24) so that they overlap.
fn random_set(rng: &mut Rng, v4: bool) -> Vec<(String, String, String, String)> {
    let (base, base_len, bits) = if v4 {
        (0x0A00_0000_u128, 16, 32)
    } else {
        (0x2600_1f00_u128 << 96, 24, 128)
    };
    let count = 1 + rng.below(30);
    let mut out: Vec<(String, String, String, String)> = Vec::new();
    while out.len() < count {
        let prefix = if !out.is_empty() && rng.chance(3) {
            // Another service or region on an existing prefix.
            rng.pick(&out).0.clone()
        } else if rng.chance(15) {
            // The ends of the address space.
            let extremes: [(u128, u32); 5] = [
                (0, 0),
                (0, bits),
                (if v4 { u128::from(u32::MAX) } else { u128::MAX }, bits),
                (if v4 { 0xFF00_0000 } else { 0xFF << 120 }, 8),
                (0, 1),
            ];
            let (value, len) = *rng.pick(&extremes);
            prefix_text(value, len, v4)
        } else {
            let len = base_len
                + u32::try_from(rng.below(usize::try_from(bits - base_len + 1).expect("small")))
                    .expect("small");
            let value = if v4 {
                base | u128::from(rng.u32() & 0xFFFF)
            } else {
                base | (rng.u128() >> base_len)
            };
            prefix_text(value, len, v4)
        };
        let region = *rng.pick(&REGIONS);
        // Usually the region's, sometimes any, so that region and border
        // group orders disagree.
        let nbg = if rng.chance(3) {
            (*rng.pick(&["GLOBAL", "eu-west-1", "us-east-1-wl1-bos-wlz-1"])).to_owned()
        } else {
            region.to_owned()
        };
        out.push((
            prefix,
            (*rng.pick(&SERVICES)).to_owned(),
            region.to_owned(),
            nbg,
        ));
    }
    out
}

#[test]
fn interval_lookup_equals_linear_scan_on_random_sets() {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut compared = 0usize;
    let mut outcomes = std::collections::BTreeMap::<&str, usize>::new();
    for round in 0..600 {
        let mut entries = random_set(&mut rng, true);
        entries.extend(random_set(&mut rng, false));
        let json = file_json(&entries);
        let ranges = AwsRanges::from_json(json.as_bytes())
            .unwrap_or_else(|e| panic!("round {round}: {e}\n{json}"));
        let naive = Naive::from_json(&json);
        let mut addresses: Vec<IpAddr> = Vec::new();
        for (list, v4) in [(&naive.v4, true), (&naive.v6, false)] {
            let max = if v4 { u128::from(u32::MAX) } else { u128::MAX };
            for p in list {
                addresses.extend([to_ip(p.first, v4), to_ip(p.last, v4)]);
                if p.first > 0 {
                    addresses.push(to_ip(p.first - 1, v4));
                }
                if p.last < max {
                    addresses.push(to_ip(p.last + 1, v4));
                }
                for _ in 0..4 {
                    addresses.push(to_ip(rng.within(p.first, p.last), v4));
                }
            }
            for _ in 0..20 {
                addresses.push(to_ip(rng.within(0, max), v4));
            }
        }
        let mapped: Vec<IpAddr> = addresses
            .iter()
            .filter_map(|a| match a {
                IpAddr::V4(v4) => Some(IpAddr::V6(v4.to_ipv6_mapped())),
                IpAddr::V6(_) => None,
            })
            .step_by(3)
            .collect();
        addresses.extend(mapped);
        addresses.push(IpAddr::V6(Ipv6Addr::UNSPECIFIED));
        for address in addresses {
            let answer = checked(&ranges, &naive, address);
            compared += 1;
            let outcome = match &answer {
                None => "none",
                Some(a) if a.service == "AMAZON" => "AMAZON",
                Some(a) if a.service == "EC2" => "EC2",
                Some(a) if a.services.iter().any(|s| s == "EC2") => "other over EC2",
                Some(_) => "other",
            };
            *outcomes.entry(outcome).or_default() += 1;
        }
    }
    eprintln!("{compared} addresses compared: {outcomes:?}");
    // Every kind of outcome must be common for the comparison to mean much.
    for outcome in ["none", "AMAZON", "EC2", "other over EC2", "other"] {
        assert!(
            outcomes.get(outcome).copied().unwrap_or(0) > 1000,
            "{outcome}: {outcomes:?}"
        );
    }
}
