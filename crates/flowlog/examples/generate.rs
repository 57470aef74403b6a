//! Deterministic flow-log generator for benchmarks:
//! `cargo run --release -p flowlog --example generate -- FORMAT LINES [SEED]`
//! where FORMAT is `v2` (the default format) or `v5` (every field of
//! versions 2–5, in the order of the AWS field table). Writes to stdout,
//! without a header line; the v5 format string is printed by `v5-format`.
//!
//! For the enrichment benchmark: `generate enriched LINES [SEED]` writes
//! default-format lines whose addresses mix the ENIs of `generate enis`
//! (a describe-network-interfaces output of [`ENIS`] ENIs of every kind),
//! AWS addresses (prefixes of the real ip-ranges.json) and other public
//! addresses, drawn from fixed pools so that addresses repeat as they do in
//! real flow logs. `generate enriched-hot LINES [SEED]` is the same mix with
//! a hundred times fewer AWS and other public addresses ([`HOT_POOLS`]).

use std::io::{self, BufWriter, Write};

/// All fields of versions 2 to 5.
const V5_FORMAT: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// A mix like real VPC traffic: half private, the rest AWS-ish and other public.
    fn address(&mut self) -> String {
        match self.below(10) {
            0..=4 => format!(
                "10.{}.{}.{}",
                self.below(256),
                self.below(256),
                1 + self.below(254)
            ),
            5..=7 => format!(
                "{}.{}.{}.{}",
                [3, 13, 18, 52, 54, 35][self.below(6) as usize],
                self.below(256),
                self.below(256),
                1 + self.below(254)
            ),
            _ => format!(
                "{}.{}.{}.{}",
                1 + self.below(223),
                self.below(256),
                self.below(256),
                1 + self.below(254)
            ),
        }
    }
}

/// ENIs in `generate enis`.
const ENIS: u64 = 2000;

/// The private address of ENI `i`.
fn eni_address(i: u64) -> String {
    format!("10.{}.{}.{}", i / 62_500, i / 250 % 250, 1 + i % 250)
}

fn eni_id(i: u64) -> String {
    format!("eni-{:017x}", 0x0abc_0000_0000_0000 + i)
}

/// A describe-network-interfaces page with [`ENIS`] ENIs: mostly
/// instances, and NAT gateways, load balancers, Lambda functions and VPC
/// endpoints.
fn write_enis(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{{\"NetworkInterfaces\": [")?;
    for i in 0..ENIS {
        let (kind_type, description, attachment) = match i % 20 {
            0 => (
                "nat_gateway",
                format!("Interface for NAT Gateway nat-{:017x}", i),
                String::new(),
            ),
            1 => (
                "interface",
                format!("ELB app/alb-{i}/{:016x}", i * 7919),
                String::new(),
            ),
            2 => (
                "lambda",
                format!(
                    "AWS Lambda VPC ENI-fn-{i}-4b1a2c3d-1111-2222-3333-{:012x}",
                    i
                ),
                String::new(),
            ),
            3 => (
                "vpc_endpoint",
                format!("VPC Endpoint Interface vpce-{:017x}", i),
                String::new(),
            ),
            _ => (
                "interface",
                "Primary network interface".to_owned(),
                format!(
                    ", \"Attachment\": {{\"InstanceId\": \"i-{:017x}\", \"DeviceIndex\": 0, \"Status\": \"attached\"}}",
                    i
                ),
            ),
        };
        let address = eni_address(i);
        writeln!(
            out,
            "  {{\"NetworkInterfaceId\": \"{}\", \"InterfaceType\": \"{kind_type}\", \"Description\": \"{description}\", \"VpcId\": \"vpc-0a1b2c3d4e5f67890\", \"SubnetId\": \"subnet-{:017x}\", \"AvailabilityZone\": \"us-east-1a\", \"PrivateIpAddress\": \"{address}\", \"PrivateIpAddresses\": [{{\"PrivateIpAddress\": \"{address}\", \"Primary\": true}}], \"Groups\": [{{\"GroupId\": \"sg-{:017x}\", \"GroupName\": \"g\"}}], \"TagSet\": [{{\"Key\": \"Name\", \"Value\": \"res-{i}\"}}]{attachment}}}{}",
            eni_id(i),
            i % 16,
            i % 32,
            if i + 1 < ENIS { "," } else { "" }
        )?;
    }
    writeln!(out, "]}}")
}

/// Distinct AWS and other public addresses in `enriched` lines.
const POOLS: (u64, u64) = (5_000, 20_000);

/// The same for `enriched-hot`: a hundred times fewer, so that every
/// rendered endpoint fits in the CPU's caches. It separates what the
/// enrichment costs in memory latency from what it costs in instructions.
const HOT_POOLS: (u64, u64) = (50, 200);

/// Default-format lines for the enrichment benchmark (see the module docs).
fn write_enriched(
    out: &mut impl Write,
    lines: u64,
    (aws_pool, public_pool): (u64, u64),
    rng: &mut Rng,
) -> io::Result<()> {
    // Prefixes AWS lists in ip-ranges.json (S3, EC2, DynamoDB, CloudFront …).
    const AWS: &[(u8, u8)] = &[
        (52, 216),
        (52, 217),
        (54, 231),
        (3, 5),
        (52, 94),
        (13, 32),
        (35, 71),
        (18, 208),
    ];
    let aws: Vec<String> = (0..aws_pool)
        .map(|_| {
            let (a, b) = AWS[rng.below(AWS.len() as u64) as usize];
            format!("{a}.{b}.{}.{}", rng.below(256), 1 + rng.below(254))
        })
        .collect();
    let public: Vec<String> = (0..public_pool)
        .map(|_| {
            format!(
                "{}.{}.{}.{}",
                [81, 89, 175, 216, 2, 31, 46, 78, 91, 185, 200, 201][rng.below(12) as usize],
                rng.below(256),
                rng.below(256),
                1 + rng.below(254)
            )
        })
        .collect();
    for i in 0..lines {
        let start = 1_700_000_000 + i / 1000;
        let eni = rng.below(ENIS);
        let local = eni_address(eni);
        let remote = match rng.below(10) {
            0..=3 => aws[rng.below(aws.len() as u64) as usize].clone(),
            4..=7 => public[rng.below(public.len() as u64) as usize].clone(),
            _ => eni_address(rng.below(ENIS)),
        };
        let (src, dst) = if rng.below(2) == 0 {
            (&local, &remote)
        } else {
            (&remote, &local)
        };
        write_record(out, rng, 2, &eni_id(eni), src, dst, start)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The 14 default-format fields of an accepted record, without a newline:
/// random ports, protocol, counts and action around the given ones.
fn write_record(
    out: &mut impl Write,
    rng: &mut Rng,
    version: u8,
    eni: &str,
    src: &str,
    dst: &str,
    start: u64,
) -> io::Result<()> {
    write!(
        out,
        "{version} 123456789012 {eni} {src} {dst} {} {} {} {} {} {start} {} {} OK",
        1024 + rng.below(64_000),
        rng.pick(&["443", "80", "22", "53", "5432", "6379"]),
        rng.pick(&["6", "6", "6", "17", "1"]),
        1 + rng.below(500),
        40 + rng.below(900_000),
        start + 60,
        rng.pick(&["ACCEPT", "ACCEPT", "ACCEPT", "REJECT"]),
    )
}

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("v5-format") {
        println!("{V5_FORMAT}");
        return Ok(());
    }
    if args.first().map(String::as_str) == Some("enis") {
        let stdout = io::stdout();
        let mut out = BufWriter::new(stdout.lock());
        write_enis(&mut out)?;
        return out.flush();
    }
    let (Some(format), Some(lines)) = (args.first(), args.get(1).and_then(|n| n.parse().ok()))
    else {
        eprintln!(
            "usage: generate v2|v5|enriched|enriched-hot LINES [SEED] | generate v5-format | generate enis"
        );
        std::process::exit(2);
    };
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(7);
    let v5 = match format.as_str() {
        "v2" => false,
        "v5" => true,
        "enriched" | "enriched-hot" => {
            let pools = if format == "enriched" {
                POOLS
            } else {
                HOT_POOLS
            };
            let stdout = io::stdout();
            let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
            write_enriched(&mut out, lines, pools, &mut Rng(seed | 1))?;
            return out.flush();
        }
        other => {
            eprintln!("unknown format {other}: use v2, v5, enriched or enriched-hot");
            std::process::exit(2);
        }
    };
    let mut rng = Rng(seed | 1);
    let stdout = io::stdout();
    let mut out = BufWriter::with_capacity(1 << 20, stdout.lock());
    let enis: Vec<String> = (0..2000)
        .map(|_| format!("eni-{:017x}", rng.next() >> 4))
        .collect();
    for i in 0..lines {
        let start = 1_700_000_000 + i / 1000;
        let eni = &enis[rng.below(enis.len() as u64) as usize];
        let (src, dst) = (rng.address(), rng.address());
        let nodata = rng.below(100) == 0;
        if nodata {
            write!(
                out,
                "2 123456789012 {eni} - - - - - - - {start} {} - NODATA",
                start + 60
            )?;
        } else {
            write_record(
                &mut out,
                &mut rng,
                if v5 { 5 } else { 2 },
                eni,
                &src,
                &dst,
                start,
            )?;
        }
        if v5 {
            if nodata {
                out.write_all(b" - - - - - - - - - - - - - - -")?;
            } else {
                write!(
                    out,
                    " vpc-0a1b2c3d4e5f67890 subnet-0123456789abcdef0 i-{:017x} {} IPv4 {src} {dst} us-east-1 use1-az{} - - {} - {} {}",
                    rng.next() >> 4,
                    rng.pick(&["2", "18", "19", "3", "0", "1"]),
                    1 + rng.below(6),
                    rng.pick(&["S3", "-", "-", "DYNAMODB", "EC2"]),
                    rng.pick(&["ingress", "egress"]),
                    1 + rng.below(8),
                )?;
            }
        }
        out.write_all(b"\n")?;
    }
    out.flush()
}
