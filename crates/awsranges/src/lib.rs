//! Which AWS service and region own an address, from AWS's published
//! `ip-ranges.json`.
//!
//! The file lists CIDR prefixes, IPv4 under `prefixes` and IPv6 under
//! `ipv6_prefixes`, each with a `service`, `region` and
//! `network_border_group`. Prefixes overlap: `AMAZON` covers every range, so
//! the same prefix also appears under `EC2`, `S3` …, and one prefix often
//! carries two specific services. A lookup is by containment, and picks one
//! entry by this rule (flowtag's contract for `aws.service`):
//!
//! 1. ignore `AMAZON` unless it is the only service that matches;
//! 2. the longest matching prefix wins;
//! 3. among equally long prefixes, a service other than `EC2` wins over `EC2`;
//! 4. remaining ties by service name, then region, then network border
//!    group, ascending.
//!
//! Every matching service is reported too ([`AwsMatch::services`]), so the
//! rule hides nothing.
//!
//! Design: at load time each address family is cut into disjoint intervals
//! at every prefix boundary, each interval gets its answer (computed once,
//! and shared between intervals with the same answer), and adjacent
//! intervals with the same answer are merged. A lookup is one binary search
//! over the interval starts. Answers are rendered to JSON once, at load.
//!
//! ```
//! let json = br#"{"syncToken":"1","createDate":"2026-01-01-00-00-00",
//!   "prefixes":[
//!     {"ip_prefix":"52.95.0.0/16","region":"us-east-1","service":"AMAZON","network_border_group":"us-east-1"},
//!     {"ip_prefix":"52.95.110.0/24","region":"us-east-1","service":"S3","network_border_group":"us-east-1"}],
//!   "ipv6_prefixes":[]}"#;
//! let ranges = awsranges::AwsRanges::from_json(json).unwrap();
//! let found = ranges.lookup("52.95.110.1".parse().unwrap()).unwrap();
//! assert_eq!(found.service(), "S3");
//! assert_eq!(found.services(), ["AMAZON", "S3"]);
//! assert_eq!(ranges.lookup("52.95.1.1".parse().unwrap()).unwrap().service(), "AMAZON");
//! assert!(ranges.lookup("8.8.8.8".parse().unwrap()).is_none());
//! ```

use std::cmp::Reverse;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Deserialize;

/// Why an ip-ranges.json could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not JSON of the expected shape.
    #[error("not an ip-ranges.json: {0}")]
    Json(#[source] serde_json::Error),
    /// The top-level `prefixes` list is missing.
    #[error("not an ip-ranges.json: there is no \"prefixes\" list")]
    NoPrefixes,
    /// An entry lacks a field.
    #[error("{list}[{index}]: the field \"{field}\" is missing")]
    MissingField {
        /// `prefixes` or `ipv6_prefixes`.
        list: &'static str,
        /// The entry's position in the list (0-based).
        index: usize,
        /// The missing field.
        field: &'static str,
    },
    /// An entry's prefix is not a CIDR of its list's family.
    #[error("{list}[{index}].{field}: {value:?} {reason}")]
    InvalidPrefix {
        /// `prefixes` or `ipv6_prefixes`.
        list: &'static str,
        /// The entry's position in the list (0-based).
        index: usize,
        /// `ip_prefix` or `ipv6_prefix`.
        field: &'static str,
        /// The refused value.
        value: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// The answer for one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsMatch {
    service: String,
    region: String,
    network_border_group: String,
    services: Vec<String>,
    json: String,
}

impl AwsMatch {
    fn new(
        service: &str,
        region: &str,
        network_border_group: &str,
        services: Vec<String>,
    ) -> AwsMatch {
        let string = |s: &str| serde_json::Value::from(s).to_string();
        let json = format!(
            "{{\"service\":{},\"region\":{},\"network_border_group\":{},\"services\":[{}]}}",
            string(service),
            string(region),
            string(network_border_group),
            services
                .iter()
                .map(|s| string(s))
                .collect::<Vec<_>>()
                .join(",")
        );
        AwsMatch {
            service: service.to_owned(),
            region: region.to_owned(),
            network_border_group: network_border_group.to_owned(),
            services,
            json,
        }
    }

    /// The service chosen by the rule in the crate docs.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The region of the chosen entry (`GLOBAL` for global services).
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The network border group of the chosen entry.
    pub fn network_border_group(&self) -> &str {
        &self.network_border_group
    }

    /// Every service with a prefix that contains the address, sorted,
    /// without duplicates (`AMAZON` included when it matches).
    pub fn services(&self) -> &[String] {
        &self.services
    }

    /// The answer as a JSON object: `service`, `region`,
    /// `network_border_group`, `services`.
    pub fn json(&self) -> &str {
        &self.json
    }
}

/// One entry of the file, validated.
#[derive(Debug, Clone)]
struct Entry {
    /// First and last address of the prefix (IPv4 in the low 32 bits).
    first: u128,
    last: u128,
    len: u8,
    service: String,
    region: String,
    network_border_group: String,
}

/// Disjoint intervals of one family: `starts[i]..starts[i + 1]` answers
/// `answers[i]` ([`NONE`] for no match). `starts[0]` is 0.
#[derive(Debug, Default)]
struct Table<K> {
    starts: Vec<K>,
    answers: Vec<u32>,
}

const NONE: u32 = u32::MAX;

impl<K: Ord + Copy> Table<K> {
    fn find(&self, key: K) -> u32 {
        let after = self.starts.partition_point(|&start| start <= key);
        match after.checked_sub(1).and_then(|i| self.answers.get(i)) {
            Some(&answer) => answer,
            None => NONE,
        }
    }
}

/// A loaded ip-ranges.json; see the crate docs.
#[derive(Debug)]
pub struct AwsRanges {
    sync_token: String,
    create_date: String,
    ipv4_prefixes: usize,
    ipv6_prefixes: usize,
    v4: Table<u32>,
    v6: Table<u128>,
    answers: Vec<AwsMatch>,
    /// The validated entries, for [`AwsRanges::lookup_naive`].
    v4_entries: Vec<Entry>,
    v6_entries: Vec<Entry>,
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(rename = "syncToken", default)]
    sync_token: Option<String>,
    #[serde(rename = "createDate", default)]
    create_date: Option<String>,
    #[serde(default)]
    prefixes: Option<Vec<RawEntry>>,
    #[serde(default)]
    ipv6_prefixes: Option<Vec<RawEntry>>,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(default)]
    ip_prefix: Option<String>,
    #[serde(default)]
    ipv6_prefix: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    service: Option<String>,
    #[serde(default)]
    network_border_group: Option<String>,
}

/// The address family of a list.
#[derive(Clone, Copy)]
enum Family {
    V4,
    V6,
}

impl Family {
    fn list(self) -> &'static str {
        match self {
            Family::V4 => "prefixes",
            Family::V6 => "ipv6_prefixes",
        }
    }

    fn field(self) -> &'static str {
        match self {
            Family::V4 => "ip_prefix",
            Family::V6 => "ipv6_prefix",
        }
    }

    fn bits(self) -> u8 {
        match self {
            Family::V4 => 32,
            Family::V6 => 128,
        }
    }

    fn max(self) -> u128 {
        match self {
            Family::V4 => u128::from(u32::MAX),
            Family::V6 => u128::MAX,
        }
    }
}

/// Parses `a.b.c.d/n` or `x::/n` of `family` into (first, last, len).
fn parse_prefix(text: &str, family: Family) -> Result<(u128, u128, u8), &'static str> {
    let (address, len) = text
        .split_once('/')
        .ok_or("is not a CIDR prefix (no \"/\")")?;
    let len: u8 = len
        .parse()
        .ok()
        .filter(|&len| len <= family.bits())
        .ok_or(match family {
            Family::V4 => "has a prefix length outside 0–32",
            Family::V6 => "has a prefix length outside 0–128",
        })?;
    let address = match family {
        Family::V4 => u128::from(u32::from(
            address
                .parse::<Ipv4Addr>()
                .map_err(|_| "is not an IPv4 CIDR prefix")?,
        )),
        Family::V6 => u128::from(
            address
                .parse::<Ipv6Addr>()
                .map_err(|_| "is not an IPv6 CIDR prefix")?,
        ),
    };
    let host_bits = family.bits() - len;
    // All ones in the host part; `checked_shl` covers /0 of IPv6.
    let host_mask = 1u128
        .checked_shl(u32::from(host_bits))
        .map_or(u128::MAX, |bit| bit - 1);
    if address & host_mask != 0 {
        return Err("has bits set after the prefix length");
    }
    Ok((address, address | host_mask, len))
}

fn validate(raw: Vec<RawEntry>, family: Family) -> Result<Vec<Entry>, Error> {
    raw.into_iter()
        .enumerate()
        .map(|(index, entry)| {
            let missing = |field| Error::MissingField {
                list: family.list(),
                index,
                field,
            };
            let prefix = match family {
                Family::V4 => entry.ip_prefix,
                Family::V6 => entry.ipv6_prefix,
            }
            .ok_or_else(|| missing(family.field()))?;
            let (first, last, len) =
                parse_prefix(&prefix, family).map_err(|reason| Error::InvalidPrefix {
                    list: family.list(),
                    index,
                    field: family.field(),
                    value: prefix.clone(),
                    reason,
                })?;
            Ok(Entry {
                first,
                last,
                len,
                service: entry.service.ok_or_else(|| missing("service"))?,
                region: entry.region.ok_or_else(|| missing("region"))?,
                network_border_group: entry
                    .network_border_group
                    .ok_or_else(|| missing("network_border_group"))?,
            })
        })
        .collect()
}

/// The answer for an address covered by exactly `matching`, by the rule.
fn answer<'a>(matching: impl Iterator<Item = &'a Entry> + Clone) -> Option<AwsMatch> {
    let specific = matching.clone().any(|e| e.service != "AMAZON");
    let winner = matching
        .clone()
        .filter(|e| !specific || e.service != "AMAZON")
        .min_by(|a, b| {
            let key = |e: &'a Entry| {
                (
                    Reverse(e.len),
                    e.service == "EC2",
                    e.service.as_str(),
                    e.region.as_str(),
                    e.network_border_group.as_str(),
                )
            };
            key(a).cmp(&key(b))
        })?;
    let mut services: Vec<String> = matching.map(|e| e.service.clone()).collect();
    services.sort();
    services.dedup();
    Some(AwsMatch::new(
        &winner.service,
        &winner.region,
        &winner.network_border_group,
        services,
    ))
}

/// Cuts one family into intervals; answers are added to `answers`.
fn build(
    entries: &[Entry],
    family: Family,
    answers: &mut Vec<AwsMatch>,
    dedup: &mut HashMap<AwsMatch, u32>,
) -> (Vec<u128>, Vec<u32>) {
    // Each prefix opens at `first` and closes after `last`.
    let mut opens: Vec<usize> = (0..entries.len()).collect();
    opens.sort_by_key(|&i| entries[i].first);
    let mut closes: Vec<(u128, usize)> = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e.last < family.max())
        .map(|(i, e)| (e.last + 1, i))
        .collect();
    closes.sort_unstable();
    let mut points: Vec<u128> = entries.iter().map(|e| e.first).collect();
    points.extend(closes.iter().map(|&(point, _)| point));
    points.push(0);
    points.sort_unstable();
    points.dedup();

    let (mut next_open, mut next_close) = (0, 0);
    let mut active: Vec<usize> = Vec::new();
    let mut starts = Vec::with_capacity(points.len());
    let mut ids: Vec<u32> = Vec::with_capacity(points.len());
    for point in points {
        while let Some(&(at, i)) = closes.get(next_close)
            && at == point
        {
            if let Some(pos) = active.iter().position(|&a| a == i) {
                active.swap_remove(pos);
            }
            next_close += 1;
        }
        while let Some(&i) = opens.get(next_open)
            && entries[i].first == point
        {
            active.push(i);
            next_open += 1;
        }
        let id = match answer(active.iter().map(|&i| &entries[i])) {
            None => NONE,
            Some(found) => *dedup.entry(found).or_insert_with_key(|found| {
                answers.push(found.clone());
                // More than 4 billion distinct answers cannot come from a
                // JSON file that fits in memory.
                u32::try_from(answers.len() - 1).unwrap_or(NONE)
            }),
        };
        if ids.last() != Some(&id) {
            starts.push(point);
            ids.push(id);
        }
    }
    (starts, ids)
}

impl std::hash::Hash for AwsMatch {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.json.hash(state);
    }
}

impl AwsRanges {
    /// Reads and checks an ip-ranges.json.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] for bytes that are not JSON of the right shape (with
    /// line and column), [`Error::NoPrefixes`] without a `prefixes` list,
    /// [`Error::MissingField`] and [`Error::InvalidPrefix`] naming the entry,
    /// field and value. `ipv6_prefixes`, `syncToken` and `createDate` may be
    /// missing (files filtered with `jq` often lose them).
    pub fn from_json(bytes: &[u8]) -> Result<AwsRanges, Error> {
        let raw: RawFile = serde_json::from_slice(bytes).map_err(Error::Json)?;
        let v4_entries = validate(raw.prefixes.ok_or(Error::NoPrefixes)?, Family::V4)?;
        let v6_entries = validate(raw.ipv6_prefixes.unwrap_or_default(), Family::V6)?;
        let mut answers = Vec::new();
        let mut dedup = HashMap::new();
        let (v4_starts, v4_ids) = build(&v4_entries, Family::V4, &mut answers, &mut dedup);
        let (v6_starts, v6_ids) = build(&v6_entries, Family::V6, &mut answers, &mut dedup);
        Ok(AwsRanges {
            sync_token: raw.sync_token.unwrap_or_else(|| "-".to_owned()),
            create_date: raw.create_date.unwrap_or_else(|| "-".to_owned()),
            ipv4_prefixes: v4_entries.len(),
            ipv6_prefixes: v6_entries.len(),
            v4: Table {
                // IPv4 interval starts come from 32-bit values.
                starts: v4_starts
                    .into_iter()
                    .map(|s| u32::try_from(s).unwrap_or(u32::MAX))
                    .collect(),
                answers: v4_ids,
            },
            v6: Table {
                starts: v6_starts,
                answers: v6_ids,
            },
            answers,
            v4_entries,
            v6_entries,
        })
    }

    /// The file's `syncToken` (`-` when it has none).
    pub fn sync_token(&self) -> &str {
        &self.sync_token
    }

    /// The file's `createDate` (`-` when it has none).
    pub fn create_date(&self) -> &str {
        &self.create_date
    }

    /// Entries in `prefixes`.
    pub fn ipv4_prefix_count(&self) -> usize {
        self.ipv4_prefixes
    }

    /// Entries in `ipv6_prefixes`.
    pub fn ipv6_prefix_count(&self) -> usize {
        self.ipv6_prefixes
    }

    /// Number of disjoint intervals the lookup searches (IPv4, IPv6).
    pub fn interval_counts(&self) -> (usize, usize) {
        (self.v4.starts.len(), self.v6.starts.len())
    }

    /// The answer for `ip`, or `None` when no prefix contains it. An
    /// IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is looked up as IPv4.
    pub fn lookup(&self, ip: IpAddr) -> Option<&AwsMatch> {
        let id = match canonical(ip) {
            IpAddr::V4(v4) => self.v4.find(u32::from(v4)),
            IpAddr::V6(v6) => self.v6.find(u128::from(v6)),
        };
        self.answers.get(usize::try_from(id).ok()?)
    }

    /// The same answer as [`lookup`](Self::lookup), by a linear scan over
    /// every entry: the reference the fast lookup is tested against.
    #[doc(hidden)]
    pub fn lookup_naive(&self, ip: IpAddr) -> Option<AwsMatch> {
        let (entries, key) = match canonical(ip) {
            IpAddr::V4(v4) => (&self.v4_entries, u128::from(u32::from(v4))),
            IpAddr::V6(v6) => (&self.v6_entries, u128::from(v6)),
        };
        answer(entries.iter().filter(|e| e.first <= key && key <= e.last))
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_parse_with_their_bounds() {
        assert_eq!(
            parse_prefix("10.0.0.0/8", Family::V4),
            Ok((0x0A00_0000, 0x0AFF_FFFF, 8))
        );
        assert_eq!(
            parse_prefix("0.0.0.0/0", Family::V4),
            Ok((0, u128::from(u32::MAX), 0))
        );
        assert_eq!(
            parse_prefix("1.2.3.4/32", Family::V4),
            Ok((0x0102_0304, 0x0102_0304, 32))
        );
        assert_eq!(parse_prefix("::/0", Family::V6), Ok((0, u128::MAX, 0)));
        assert!(parse_prefix("10.0.0.1/8", Family::V4).is_err());
        assert!(parse_prefix("10.0.0.0/33", Family::V4).is_err());
        assert!(parse_prefix("10.0.0.0", Family::V4).is_err());
        assert!(parse_prefix("::/0", Family::V4).is_err());
        assert!(parse_prefix("10.0.0.0/8", Family::V6).is_err());
    }
}
