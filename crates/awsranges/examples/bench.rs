//! Load time and lookups/s on a real ip-ranges.json:
//! `cargo run --release -p awsranges --example bench -- ip-ranges.json`

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: bench ip-ranges.json");
        std::process::exit(2);
    };
    let bytes = std::fs::read(&path).expect("readable file");
    let started = Instant::now();
    let ranges = awsranges::AwsRanges::from_json(&bytes).expect("a valid file");
    let load = started.elapsed();
    let (v4, v6) = ranges.interval_counts();
    println!(
        "{path}: {} IPv4 + {} IPv6 prefixes -> {v4} + {v6} intervals, loaded in {:.1} ms",
        ranges.ipv4_prefix_count(),
        ranges.ipv6_prefix_count(),
        load.as_secs_f64() * 1e3
    );
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let addresses: Vec<IpAddr> = (0..1_000_000)
        .map(|i| {
            if i % 4 == 3 {
                IpAddr::V6(Ipv6Addr::from(
                    (u128::from(next()) << 64) >> 3 | 1u128 << 125,
                ))
            } else {
                // Truncation to 32 bits is the point.
                IpAddr::V4(Ipv4Addr::from(next() as u32))
            }
        })
        .collect();
    let started = Instant::now();
    let mut found = 0usize;
    for _ in 0..10 {
        for ip in &addresses {
            found += usize::from(ranges.lookup(*ip).is_some());
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{:.1} M lookups/s ({found} of {} matched)",
        10.0 * addresses.len() as f64 / seconds / 1e6,
        10 * addresses.len()
    );
}
