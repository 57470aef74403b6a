//! Load and lookup speed of an `EniMap` built from synthetic
//! describe-network-interfaces output.
//!
//! ```text
//! cargo run --release -p enimap --example enimap_bench [ENIS] [QUERIES]
//! ```
//!
//! ENIS (default 50 000) interfaces in two VPCs whose private ranges overlap
//! in part, each with two private IPv4 addresses, a third with a public
//! address and a fifth with an IPv6 address. The queries (default 4 000 000)
//! mix what a flow log's endpoints look like: mostly held private addresses,
//! some ambiguous ones (resolved with the VPC), some public addresses
//! nobody holds, some IPv6.

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use enimap::EniMap;

/// xorshift64*: reproducible, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn private(i: u32) -> Ipv4Addr {
    // 10.0.0.0/8, spread out.
    Ipv4Addr::from_bits(0x0A00_0000 | (i.wrapping_mul(2_654_435_761) & 0x00FF_FFFF))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let enis: u32 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(50_000);
    let queries: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(4_000_000);

    let mut json = String::from("{\"NetworkInterfaces\":[");
    let mut held = Vec::new();
    for i in 0..enis {
        if i > 0 {
            json.push(',');
        }
        // One in ten of VPC B's interfaces reuses VPC A's addresses.
        let vpc = if i % 2 == 0 {
            "vpc-0aaaaaaaaaaaaaaaa"
        } else {
            "vpc-0bbbbbbbbbbbbbbbb"
        };
        let base = if i % 20 == 1 { 2 * (i - 1) } else { 2 * i };
        let (a, b) = (private(base), private(base + 1));
        json.push_str(&format!(
            r#"{{"NetworkInterfaceId":"eni-{i:017x}","InterfaceType":"interface","Description":"Primary network interface","VpcId":"{vpc}","SubnetId":"subnet-{i:017x}","AvailabilityZone":"us-east-1a","Attachment":{{"InstanceId":"i-{i:017x}"}},"Groups":[{{"GroupId":"sg-0123456789abcdef0"}}],"TagSet":[{{"Key":"Name","Value":"host-{i}"}}],"PrivateIpAddress":"{a}","PrivateIpAddresses":[{{"PrivateIpAddress":"{a}"}},{{"PrivateIpAddress":"{b}"}}]"#
        ));
        held.push((IpAddr::V4(a), vpc, format!("eni-{i:017x}")));
        if i % 3 == 0 {
            let public = Ipv4Addr::from_bits(0x3400_0000 | i);
            json.push_str(&format!(r#","Association":{{"PublicIp":"{public}"}}"#));
            held.push((IpAddr::V4(public), vpc, format!("eni-{i:017x}")));
        }
        if i % 5 == 0 {
            let v6 = Ipv6Addr::from_bits(0x2600_1f18_0000_0000_0000_0000_0000_0000 | u128::from(i));
            json.push_str(&format!(r#","Ipv6Addresses":[{{"Ipv6Address":"{v6}"}}]"#));
            held.push((IpAddr::V6(v6), vpc, format!("eni-{i:017x}")));
        }
        json.push('}');
    }
    json.push_str("]}");

    let start = Instant::now();
    let mut map = EniMap::default();
    map.add_json(json.as_bytes(), "synthetic")?;
    let load = start.elapsed();
    println!(
        "load: {} ENIs, {} addresses, {:.1} MB JSON in {:.1} ms ({:.0} ENIs/s)",
        map.eni_count(),
        map.address_count(),
        json.len() as f64 / 1e6,
        load.as_secs_f64() * 1e3,
        f64::from(enis) / load.as_secs_f64()
    );

    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut ips: Vec<(IpAddr, Option<&str>)> = Vec::with_capacity(queries);
    // The interface ids side by side in one buffer, as in a batch of
    // flow-log lines.
    let mut id_text = String::with_capacity(queries * 21);
    let mut id_ends = Vec::with_capacity(queries);
    for _ in 0..queries {
        let (ip, vpc, id) = &held[rng.below(held.len() as u64) as usize];
        id_text.push_str(id);
        id_ends.push(id_text.len());
        let query = match rng.below(100) {
            // An internet address nobody holds.
            0..25 => (
                IpAddr::V4(Ipv4Addr::from_bits(rng.next() as u32 | 0x8000_0000)),
                Some(*vpc),
            ),
            25..30 => (
                IpAddr::V6(Ipv6Addr::from_bits(u128::from(rng.next()) << 64)),
                Some(*vpc),
            ),
            _ => (*ip, Some(*vpc)),
        };
        ips.push(query);
    }
    let mut ids: Vec<&str> = Vec::with_capacity(queries);
    let mut from = 0;
    for &end in &id_ends {
        ids.push(&id_text[from..end]);
        from = end;
    }

    let time = |what: &str, f: &mut dyn FnMut() -> usize| {
        let _ = f(); // warm up
        let start = Instant::now();
        let found = f();
        let secs = start.elapsed().as_secs_f64();
        println!(
            "{what}: {:.1} M lookups/s ({:.1} ns each, {found} of {queries} found)",
            queries as f64 / secs / 1e6,
            secs * 1e9 / queries as f64
        );
    };
    time("lookup_ip_in (75% held, 25% misses)", &mut || {
        ips.iter()
            .filter(|(ip, vpc)| map.lookup_ip_in(black_box(*ip), black_box(*vpc)).is_some())
            .count()
    });
    time("lookup_ip (no VPC)", &mut || {
        ips.iter()
            .filter(|(ip, _)| map.lookup_ip(black_box(*ip)).is_some())
            .count()
    });
    time("lookup_eni", &mut || {
        ids.iter()
            .filter(|id| map.lookup_eni(black_box(id)).is_some())
            .count()
    });
    time("eni_holds", &mut || {
        ids.iter()
            .zip(&ips)
            .filter(|(id, (ip, _))| map.eni_holds(black_box(id), black_box(*ip)))
            .count()
    });
    Ok(())
}
