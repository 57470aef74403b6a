//! An independent reference: the rule applied step by step, as written in
//! the reference document, over every entry of the file read with
//! serde_json, with its own CIDR arithmetic.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde_json::Value;

/// What a lookup answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub service: String,
    pub region: String,
    pub network_border_group: String,
    pub services: Vec<String>,
}

#[derive(Debug)]
pub struct Prefix {
    /// First and last address (IPv4 in the low 32 bits).
    pub first: u128,
    pub last: u128,
    pub len: u32,
    pub service: String,
    pub region: String,
    pub network_border_group: String,
}

#[derive(Debug)]
pub struct Naive {
    pub v4: Vec<Prefix>,
    pub v6: Vec<Prefix>,
}

/// (first, last, len) of `a.b.c.d/n` or `x::/n`, by counting addresses.
fn bounds(text: &str, v4: bool) -> (u128, u128, u32) {
    let (address, len) = text.split_once('/').expect("a CIDR prefix");
    let len: u32 = len.parse().expect("a prefix length");
    let (first, bits) = if v4 {
        let octets = address.parse::<Ipv4Addr>().expect("IPv4").octets();
        let value = octets
            .iter()
            .fold(0u128, |acc, &octet| acc * 256 + u128::from(octet));
        (value, 32)
    } else {
        let segments = address.parse::<Ipv6Addr>().expect("IPv6").segments();
        let value = segments
            .iter()
            .fold(0u128, |acc, &segment| (acc << 16) + u128::from(segment));
        (value, 128)
    };
    assert!(len <= bits, "{text}");
    let last = if bits - len == 128 {
        u128::MAX
    } else {
        first + ((1u128 << (bits - len)) - 1)
    };
    (first, last, len)
}

impl Naive {
    pub fn from_value(json: &Value) -> Naive {
        let read = |list: &str, field: &str, v4: bool| -> Vec<Prefix> {
            json[list]
                .as_array()
                .map(|a| a.as_slice())
                .unwrap_or_default()
                .iter()
                .map(|entry| {
                    let text = |name: &str| entry[name].as_str().expect("a string").to_owned();
                    let (first, last, len) = bounds(&text(field), v4);
                    Prefix {
                        first,
                        last,
                        len,
                        service: text("service"),
                        region: text("region"),
                        network_border_group: text("network_border_group"),
                    }
                })
                .collect()
        };
        Naive {
            v4: read("prefixes", "ip_prefix", true),
            v6: read("ipv6_prefixes", "ipv6_prefix", false),
        }
    }

    pub fn from_json(text: &str) -> Naive {
        Naive::from_value(&serde_json::from_str(text).expect("JSON"))
    }

    pub fn lookup(&self, address: IpAddr) -> Option<Answer> {
        let (list, key) = match address {
            IpAddr::V4(v4) => (&self.v4, u128::from(u32::from(v4))),
            IpAddr::V6(v6) => {
                let s = v6.segments();
                if s[..5] == [0; 5] && s[5] == 0xffff {
                    // ::ffff:a.b.c.d is the IPv4 address.
                    (&self.v4, (u128::from(s[6]) << 16) | u128::from(s[7]))
                } else {
                    (&self.v6, u128::from(v6))
                }
            }
        };
        let matches: Vec<&Prefix> = list
            .iter()
            .filter(|p| p.first <= key && key <= p.last)
            .collect();
        if matches.is_empty() {
            return None;
        }
        let services: Vec<String> = matches
            .iter()
            .map(|p| p.service.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        // 1. Ignore AMAZON unless it is all there is.
        let mut candidates: Vec<&Prefix> = if matches.iter().all(|p| p.service == "AMAZON") {
            matches
        } else {
            matches
                .into_iter()
                .filter(|p| p.service != "AMAZON")
                .collect()
        };
        // 2. Longest prefix.
        let longest = candidates.iter().map(|p| p.len).max()?;
        candidates.retain(|p| p.len == longest);
        // 3. Not EC2 over EC2.
        if candidates.iter().any(|p| p.service != "EC2") {
            candidates.retain(|p| p.service != "EC2");
        }
        // 4. By name, then region, then network border group.
        candidates.sort_by(|a, b| {
            a.service
                .cmp(&b.service)
                .then_with(|| a.region.cmp(&b.region))
                .then_with(|| a.network_border_group.cmp(&b.network_border_group))
        });
        let winner = candidates.first()?;
        Some(Answer {
            service: winner.service.clone(),
            region: winner.region.clone(),
            network_border_group: winner.network_border_group.clone(),
            services,
        })
    }
}
