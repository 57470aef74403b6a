//! Deterministic flow-log generator for benchmarks:
//! `cargo run --release -p flowlog --example generate -- FORMAT LINES [SEED]`
//! where FORMAT is `v2` (the default format) or `v5` (every field of
//! versions 2–5, in the order of the AWS field table). Writes to stdout,
//! without a header line; the v5 format string is printed by `v5-format`.

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

fn main() -> io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("v5-format") {
        println!("{V5_FORMAT}");
        return Ok(());
    }
    let (Some(format), Some(lines)) = (args.first(), args.get(1).and_then(|n| n.parse().ok()))
    else {
        eprintln!("usage: generate v2|v5 LINES [SEED] | generate v5-format");
        std::process::exit(2);
    };
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(7);
    let v5 = match format.as_str() {
        "v2" => false,
        "v5" => true,
        other => {
            eprintln!("unknown format {other}: use v2 or v5");
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
            write!(
                out,
                "{} 123456789012 {eni} {src} {dst} {} {} {} {} {} {start} {} {} OK",
                if v5 { 5 } else { 2 },
                1024 + rng.below(64_000),
                rng.pick(&["443", "80", "22", "53", "5432", "6379"]),
                rng.pick(&["6", "6", "6", "17", "1"]),
                1 + rng.below(500),
                40 + rng.below(900_000),
                start + 60,
                rng.pick(&["ACCEPT", "ACCEPT", "ACCEPT", "REJECT"]),
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
