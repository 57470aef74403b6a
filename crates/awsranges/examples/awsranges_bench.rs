//! Load time and lookups/s on a real ip-ranges.json:
//! `cargo run --release -p awsranges --example awsranges_bench -- ip-ranges.json`

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use serde_json::Value;

/// Runs `lookup` over `addresses` `rounds` times; returns (M lookups/s, hits).
fn measure(ranges: &awsranges::AwsRanges, addresses: &[IpAddr], rounds: usize) -> (f64, usize) {
    let started = Instant::now();
    let mut found = 0usize;
    for _ in 0..rounds {
        for ip in addresses {
            found += usize::from(black_box(ranges.lookup(black_box(*ip))).is_some());
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let total = rounds * addresses.len();
    (total as f64 / seconds / 1e6, found / rounds)
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: bench ip-ranges.json");
        std::process::exit(2);
    };
    let bytes = std::fs::read(&path).expect("readable file");

    // Best of 5 loads, and serde_json alone for comparison.
    let mut load = f64::MAX;
    let mut ranges = None;
    for _ in 0..5 {
        let started = Instant::now();
        let loaded = awsranges::AwsRanges::from_json(&bytes).expect("a valid file");
        load = load.min(started.elapsed().as_secs_f64());
        ranges = Some(loaded);
    }
    let ranges = ranges.expect("loaded");
    let mut parse = f64::MAX;
    for _ in 0..5 {
        let started = Instant::now();
        black_box(serde_json::from_slice::<Value>(&bytes).expect("JSON"));
        parse = parse.min(started.elapsed().as_secs_f64());
    }
    let (v4, v6) = ranges.interval_counts();
    println!(
        "{path}: {} IPv4 + {} IPv6 prefixes -> {v4} + {v6} intervals, {} distinct answers; \
         loaded in {:.1} ms (serde_json::Value parse alone {:.1} ms)",
        ranges.ipv4_prefix_count(),
        ranges.ipv6_prefix_count(),
        ranges.answer_count(),
        load * 1e3,
        parse * 1e3
    );

    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    // Uniform IPv4 (mostly misses) and IPv6 in 2000::/3.
    let uniform: Vec<IpAddr> = (0..1_000_000)
        .map(|i| {
            if i % 4 == 3 {
                IpAddr::V6(Ipv6Addr::from(
                    ((u128::from(next()) << 64) >> 3) | (1u128 << 125),
                ))
            } else {
                // Truncation to 32 bits is the point.
                IpAddr::V4(Ipv4Addr::from(next() as u32))
            }
        })
        .collect();
    // Addresses inside random prefixes of the file (mostly hits).
    let json: Value = serde_json::from_slice(&bytes).expect("JSON");
    let prefixes: Vec<(IpAddr, u32)> = ["prefixes", "ipv6_prefixes"]
        .iter()
        .zip(["ip_prefix", "ipv6_prefix"])
        .flat_map(|(list, field)| {
            json[*list]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(move |e| e[field].as_str())
        })
        .filter_map(|p| {
            let (a, l) = p.split_once('/')?;
            Some((a.parse().ok()?, l.parse().ok()?))
        })
        .collect();
    let inside: Vec<IpAddr> = (0..1_000_000)
        .map(|_| {
            let (base, len) = prefixes[(next() % prefixes.len() as u64) as usize];
            match base {
                IpAddr::V4(b) => {
                    let host = u32::MAX.checked_shr(len).unwrap_or(0);
                    IpAddr::V4(Ipv4Addr::from(u32::from(b) | (next() as u32 & host)))
                }
                IpAddr::V6(b) => {
                    let host = u128::MAX.checked_shr(len).unwrap_or(0);
                    let r = (u128::from(next()) << 64) | u128::from(next());
                    IpAddr::V6(Ipv6Addr::from(u128::from(b) | (r & host)))
                }
            }
        })
        .collect();
    let inside_v4: Vec<IpAddr> = inside.iter().copied().filter(IpAddr::is_ipv4).collect();
    let inside_v6: Vec<IpAddr> = inside.iter().copied().filter(IpAddr::is_ipv6).collect();
    for (name, addresses) in [
        ("uniform", &uniform),
        ("inside AWS prefixes", &inside),
        ("inside AWS IPv4 prefixes", &inside_v4),
        ("inside AWS IPv6 prefixes", &inside_v6),
    ] {
        let (rate, found) = measure(&ranges, addresses, 10);
        println!(
            "{name}: {rate:.1} M lookups/s on one core ({found} of {} matched)",
            addresses.len()
        );
    }
}
