//! Which AWS service and region own an address, from AWS's published
//! `ip-ranges.json`.
//!
//! The file lists CIDR prefixes, IPv4 under `prefixes` (field `ip_prefix`)
//! and IPv6 under `ipv6_prefixes` (field `ipv6_prefix`), each with a
//! `service`, `region` and `network_border_group`. Prefixes overlap: `AMAZON`
//! covers every range, so the same prefix also appears under `EC2`, `S3` …,
//! and one prefix often carries two specific services. A lookup is by
//! containment, never by equality, and picks one entry by this rule
//! (flowtag's contract for `aws.service`):
//!
//! 1. among all entries whose prefix contains the address, ignore `AMAZON`
//!    unless `AMAZON` entries are the only matches;
//! 2. the longest matching prefix wins;
//! 3. among equally long prefixes, a service other than `EC2` wins over
//!    `EC2`;
//! 4. remaining ties by service name, then region, then network border
//!    group, ascending (byte order).
//!
//! [`AwsMatch::region`] and [`AwsMatch::network_border_group`] are those of
//! the winning entry. Every matching service is reported too
//! ([`AwsMatch::services`], sorted, without duplicates, `AMAZON` included),
//! so the rule hides nothing. An IPv4-mapped IPv6 address
//! (`::ffff:a.b.c.d`) is looked up as the IPv4 address.
//!
//! # Design
//!
//! Loading validates every entry: the prefix must be a CIDR of its list's
//! family, with a decimal length in range and no address bits set after the
//! length (AWS's file never has any, so such a prefix is refused rather than
//! silently masked). Service, region and border-group names are interned,
//! with ids in name order, so that the rule compares integers.
//!
//! Then each family is cut into disjoint intervals. CIDR prefixes either
//! nest or are disjoint, so identical prefixes are grouped and the groups,
//! sorted by (first address, length), are swept with a stack of the groups
//! containing the current position: a group's winner and service set are
//! computed once, when it is pushed, from its own entries and the level
//! below it (a deeper level is a longer prefix). Popping a group ends an
//! interval. Each interval stores an index into a deduplicated list of
//! answers ([`AwsMatch`], with its JSON rendered once), or "no match";
//! adjacent intervals with the same answer are merged. Building costs
//! O(n log n) for the sort plus, per group, the size of the service set of
//! its chain of enclosing prefixes (at most 33 IPv4 or 129 IPv6 levels).
//!
//! A lookup is a binary search over the interval starts and an index: no
//! allocation, no scan. IPv4 starts are `u32`; IPv6 starts are stored as
//! separate high and low 64-bit halves, searched by the high half first
//! (AWS's IPv6 prefixes are nearly all /64 or shorter, so the low halves
//! rarely matter). For the real file (about 17 000 prefixes) that is some
//! 11 000 intervals and 900 distinct answers: well under a megabyte.
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

use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Deserialize;
use serde::de::{MapAccess, Visitor};
use serde_json::Value;

/// Why an ip-ranges.json could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not JSON, or not of the expected shape (an object with
    /// lists of objects); serde_json's message gives the line and column.
    #[error("not an ip-ranges.json: {0}")]
    Json(#[source] serde_json::Error),
    /// The top-level `prefixes` list is missing (or `null`).
    #[error("not an ip-ranges.json: there is no \"prefixes\" list")]
    NoPrefixes,
    /// An entry lacks a field (or it is `null`).
    #[error("{list}[{index}]: the field \"{field}\" is missing")]
    MissingField {
        /// `prefixes` or `ipv6_prefixes`.
        list: &'static str,
        /// The entry's position in the list (0-based).
        index: usize,
        /// The missing field.
        field: &'static str,
    },
    /// An entry's field is not a JSON string.
    #[error("{list}[{index}].{field}: {value} is not a string")]
    NotAString {
        /// `prefixes` or `ipv6_prefixes`.
        list: &'static str,
        /// The entry's position in the list (0-based).
        index: usize,
        /// The field.
        field: &'static str,
        /// The refused value, as JSON.
        value: String,
    },
    /// An entry's prefix is not a CIDR prefix of its list's family.
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

/// The answer for one address: the entry chosen by the rule in the crate
/// docs, and every service whose prefixes contain the address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
        let mut json = String::with_capacity(80);
        json.push_str("{\"service\":");
        push_json_string(&mut json, service);
        json.push_str(",\"region\":");
        push_json_string(&mut json, region);
        json.push_str(",\"network_border_group\":");
        push_json_string(&mut json, network_border_group);
        json.push_str(",\"services\":[");
        for (i, name) in services.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            push_json_string(&mut json, name);
        }
        json.push_str("]}");
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

    /// Every service with a prefix that contains the address, sorted
    /// ascending, without duplicates (`AMAZON` included when it matches).
    pub fn services(&self) -> &[String] {
        &self.services
    }

    /// The answer as a compact JSON object, rendered once at load:
    /// `{"service":"S3","region":"us-east-1","network_border_group":"us-east-1","services":["AMAZON","S3"]}`.
    pub fn json(&self) -> &str {
        &self.json
    }
}

/// Appends `text` as a JSON string literal.
fn push_json_string(out: &mut String, text: &str) {
    // Serialising a &str to a String cannot fail.
    match serde_json::to_string(text) {
        Ok(quoted) => out.push_str(&quoted),
        Err(_) => out.push_str("null"),
    }
}

/// One validated entry; names are ids into the sorted name list built by
/// [`Interner::into_sorted`], so their order is the names' order.
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// First and last address of the prefix (IPv4 in the low 32 bits).
    first: u128,
    last: u128,
    len: u8,
    service: u32,
    region: u32,
    network_border_group: u32,
}

/// Interval index value for "no prefix contains these addresses".
const NONE: u32 = u32::MAX;

/// The IPv4 intervals: `starts[i]..starts[i + 1]` answers `answers[i]`
/// ([`NONE`] for no match). `starts[0]` is 0 and the starts increase
/// strictly.
#[derive(Debug, Default)]
struct V4Table {
    starts: Vec<u32>,
    answers: Vec<u32>,
}

impl V4Table {
    fn find(&self, key: u32) -> u32 {
        let after = self.starts.partition_point(|&start| start <= key);
        match after.checked_sub(1).and_then(|i| self.answers.get(i)) {
            Some(&answer) => answer,
            None => NONE,
        }
    }
}

/// The IPv6 intervals, as [`V4Table`] with each start split into its high
/// and low 64 bits: the search runs on the high halves (half the memory
/// traffic of `u128` keys, single-word compares) and looks at the low
/// halves only among the few starts that share the address's high half.
#[derive(Debug, Default)]
struct V6Table {
    high: Vec<u64>,
    low: Vec<u64>,
    answers: Vec<u32>,
}

impl V6Table {
    fn new(starts: &[u128], answers: Vec<u32>) -> V6Table {
        V6Table {
            high: starts.iter().map(|&s| (s >> 64) as u64).collect(),
            // Truncation to the low half is the point.
            low: starts.iter().map(|&s| s as u64).collect(),
            answers,
        }
    }

    fn find(&self, key: u128) -> u32 {
        let (key_high, key_low) = ((key >> 64) as u64, key as u64);
        // Starts before `end` have a high half <= the key's.
        let end = self.high.partition_point(|&h| h <= key_high);
        let after = match end.checked_sub(1).and_then(|last| self.high.get(last)) {
            Some(&h) if h == key_high => {
                // Find where the run of equal high halves begins, galloping
                // back from its end (runs are short), then search the lows.
                let mut begin = end - 1;
                let mut step = 1;
                while begin >= step && self.high.get(begin - step) == Some(&key_high) {
                    begin -= step;
                    step *= 2;
                }
                let floor = begin.saturating_sub(step);
                let begin = floor
                    + self
                        .high
                        .get(floor..begin)
                        .map_or(0, |run| run.partition_point(|&h| h < key_high));
                begin
                    + self
                        .low
                        .get(begin..end)
                        .map_or(0, |run| run.partition_point(|&l| l <= key_low))
            }
            _ => end,
        };
        match after.checked_sub(1).and_then(|i| self.answers.get(i)) {
            Some(&answer) => answer,
            None => NONE,
        }
    }
}

/// A loaded ip-ranges.json; see the crate docs for the rule and the design.
#[derive(Debug)]
pub struct AwsRanges {
    sync_token: String,
    create_date: String,
    v4: V4Table,
    v6: V6Table,
    answers: Vec<AwsMatch>,
    /// Every service, region and border-group name, sorted; [`Entry`] refers
    /// to them by index.
    ipv4_prefix_count: usize,
    ipv6_prefix_count: usize,
}

/// `T` read from a JSON object only: serde's derive also accepts an array
/// of the fields in declaration order, which no ip-ranges.json has.
struct Object<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        deserializer
            .deserialize_map(ObjectVisitor(PhantomData))
            .map(Object)
    }
}

#[derive(Deserialize)]
struct RawFile {
    #[serde(rename = "syncToken", default)]
    sync_token: Option<String>,
    #[serde(rename = "createDate", default)]
    create_date: Option<String>,
    #[serde(default)]
    prefixes: Option<Vec<Object<RawEntry>>>,
    #[serde(default)]
    ipv6_prefixes: Option<Vec<Object<RawEntry>>>,
}

/// Fields are read as any JSON so that a wrong type is reported with the
/// entry's index.
#[derive(Deserialize)]
struct RawEntry {
    #[serde(default)]
    ip_prefix: Option<Value>,
    #[serde(default)]
    ipv6_prefix: Option<Value>,
    #[serde(default)]
    region: Option<Value>,
    #[serde(default)]
    service: Option<Value>,
    #[serde(default)]
    network_border_group: Option<Value>,
}

/// The address family of a list.
#[derive(Clone, Copy, PartialEq, Eq)]
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

    /// The family's last address.
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
    let address = match family {
        Family::V4 => match address.parse::<Ipv4Addr>() {
            Ok(v4) => u128::from(u32::from(v4)),
            Err(_) if address.parse::<Ipv6Addr>().is_ok() => {
                return Err("is an IPv6 prefix in the IPv4 list");
            }
            Err(_) => return Err("is not an IPv4 CIDR prefix"),
        },
        Family::V6 => match address.parse::<Ipv6Addr>() {
            Ok(v6) => u128::from(v6),
            Err(_) if address.parse::<Ipv4Addr>().is_ok() => {
                return Err("is an IPv4 prefix in the IPv6 list");
            }
            Err(_) => return Err("is not an IPv6 CIDR prefix"),
        },
    };
    // Plain decimal only: no sign, no leading zeros, no spaces.
    let decimal = !len.is_empty()
        && len.len() <= 3
        && len.bytes().all(|b| b.is_ascii_digit())
        && (len == "0" || !len.starts_with('0'));
    if !decimal {
        return Err("has no decimal prefix length after the \"/\"");
    }
    let len: u8 = len
        .parse()
        .ok()
        .filter(|&len| len <= family.bits())
        .ok_or(match family {
            Family::V4 => "has a prefix length outside 0–32",
            Family::V6 => "has a prefix length outside 0–128",
        })?;
    // All ones in the host part; `checked_shl` covers /0 of IPv6.
    let host_mask = 1u128
        .checked_shl(u32::from(family.bits() - len))
        .map_or(u128::MAX, |bit| bit - 1);
    if address & host_mask != 0 {
        return Err("has address bits set after the prefix length");
    }
    Ok((address, address | host_mask, len))
}

/// Service, region and border-group names, each stored once.
#[derive(Default)]
struct Interner {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Interner {
    fn intern(&mut self, name: String) -> u32 {
        if let Some(&id) = self.ids.get(&name) {
            return id;
        }
        // More than 4 billion distinct names cannot come from a JSON file
        // that fits in memory.
        let id = u32::try_from(self.names.len()).unwrap_or(NONE);
        self.names.push(name.clone());
        self.ids.insert(name, id);
        id
    }

    /// Sorts the names; returns them and the map from old id to new id.
    fn into_sorted(self) -> (Vec<String>, Vec<u32>) {
        let mut order: Vec<u32> = (0..self.names.len())
            .filter_map(|i| u32::try_from(i).ok())
            .collect();
        order.sort_unstable_by(|&a, &b| self.names[a as usize].cmp(&self.names[b as usize]));
        let mut remap = vec![0; self.names.len()];
        for (new, &old) in order.iter().enumerate() {
            remap[old as usize] = u32::try_from(new).unwrap_or(NONE);
        }
        let mut slots: Vec<Option<String>> = self.names.into_iter().map(Some).collect();
        let names = order
            .iter()
            .filter_map(|&old| slots[old as usize].take())
            .collect();
        (names, remap)
    }
}

fn validate(
    raw: Vec<Object<RawEntry>>,
    family: Family,
    interner: &mut Interner,
) -> Result<Vec<Entry>, Error> {
    let list = family.list();
    let mut entries = Vec::with_capacity(raw.len());
    for (index, Object(entry)) in raw.into_iter().enumerate() {
        let string = |value: Option<Value>, field: &'static str| match value {
            None | Some(Value::Null) => Err(Error::MissingField { list, index, field }),
            Some(Value::String(text)) => Ok(text),
            Some(other) => Err(Error::NotAString {
                list,
                index,
                field,
                value: other.to_string(),
            }),
        };
        let prefix = match family {
            Family::V4 => entry.ip_prefix,
            Family::V6 => entry.ipv6_prefix,
        };
        let prefix = string(prefix, family.field())?;
        let (first, last, len) =
            parse_prefix(&prefix, family).map_err(|reason| Error::InvalidPrefix {
                list,
                index,
                field: family.field(),
                value: prefix.clone(),
                reason,
            })?;
        let service = string(entry.service, "service")?;
        let region = string(entry.region, "region")?;
        let network_border_group = string(entry.network_border_group, "network_border_group")?;
        entries.push(Entry {
            first,
            last,
            len,
            service: interner.intern(service),
            region: interner.intern(region),
            network_border_group: interner.intern(network_border_group),
        });
    }
    Ok(entries)
}

/// State of the sweep for one group of identical prefixes, including
/// everything from the groups that contain it.
struct Level {
    last: u128,
    /// Index into the answers.
    answer: u32,
    /// The best non-`AMAZON` entry of this level or an enclosing one: the
    /// deepest level wins, as its prefix is the longest.
    specific: Option<Entry>,
    /// The same for `AMAZON` entries.
    amazon: Option<Entry>,
    /// Every service of this level and the enclosing ones, sorted ids.
    services: Vec<u32>,
}

/// Builds the answers and tables; holds the deduplication map.
struct Builder<'a> {
    names: &'a [String],
    amazon: Option<u32>,
    ec2: Option<u32>,
    answers: Vec<AwsMatch>,
    dedup: HashMap<(u32, u32, u32, Vec<u32>), u32>,
}

impl Builder<'_> {
    /// The rule's order among non-`AMAZON` entries of equal length: `EC2`
    /// last, then by names (ids are in name order).
    fn specific_key(&self, e: &Entry) -> (bool, u32, u32, u32) {
        (
            Some(e.service) == self.ec2,
            e.service,
            e.region,
            e.network_border_group,
        )
    }

    fn answer_id(&mut self, winner: &Entry, services: &[u32]) -> u32 {
        let key = (
            winner.service,
            winner.region,
            winner.network_border_group,
            services.to_vec(),
        );
        if let Some(&id) = self.dedup.get(&key) {
            return id;
        }
        let name = |id: u32| self.names.get(id as usize).map_or("", String::as_str);
        let found = AwsMatch::new(
            name(winner.service),
            name(winner.region),
            name(winner.network_border_group),
            services.iter().map(|&s| name(s).to_owned()).collect(),
        );
        // More than 4 billion distinct answers cannot come from a JSON file
        // that fits in memory.
        let id = u32::try_from(self.answers.len()).unwrap_or(NONE);
        self.answers.push(found);
        self.dedup.insert(key, id);
        id
    }

    /// The level for `group` (identical prefixes) inside `parent`.
    fn level(&mut self, group: &[Entry], parent: Option<&Level>) -> Level {
        let mut specific: Option<Entry> = None;
        let mut amazon: Option<Entry> = None;
        let mut services: Vec<u32> = parent.map_or_else(Vec::new, |p| p.services.clone());
        for e in group {
            if Some(e.service) == self.amazon {
                if amazon.is_none_or(|a| {
                    (e.region, e.network_border_group) < (a.region, a.network_border_group)
                }) {
                    amazon = Some(*e);
                }
            } else if specific.is_none_or(|s| self.specific_key(e) < self.specific_key(&s)) {
                specific = Some(*e);
            }
            if let Err(at) = services.binary_search(&e.service) {
                services.insert(at, e.service);
            }
        }
        let specific = specific.or_else(|| parent.and_then(|p| p.specific));
        let amazon = amazon.or_else(|| parent.and_then(|p| p.amazon));
        // A group is never empty, so one of the two is set.
        let answer = match specific.or(amazon) {
            Some(winner) => self.answer_id(&winner, &services),
            None => NONE,
        };
        Level {
            last: group.first().map_or(0, |e| e.last),
            answer,
            specific,
            amazon,
            services,
        }
    }

    /// Cuts one family into intervals: (starts, answer ids).
    fn table(&mut self, entries: &[Entry], family: Family) -> (Vec<u128>, Vec<u32>) {
        let mut sorted = entries.to_vec();
        sorted.sort_unstable_by_key(|e| (e.first, e.len));
        let mut starts: Vec<u128> = Vec::new();
        let mut ids: Vec<u32> = Vec::new();
        let mut emit = |start: u128, id: u32| {
            if ids.last() != Some(&id) {
                starts.push(start);
                ids.push(id);
            }
        };
        // The start of the interval not emitted yet.
        let mut cursor: u128 = 0;
        let mut stack: Vec<Level> = Vec::new();
        for group in sorted.chunk_by(|a, b| (a.first, a.len) == (b.first, b.len)) {
            let Some(first) = group.first().map(|e| e.first) else {
                continue;
            };
            // Close the levels that end before this group; prefixes nest or
            // are disjoint, so what remains on the stack contains it.
            while let Some(top) = stack.last()
                && top.last < first
            {
                if cursor <= top.last {
                    emit(cursor, top.answer);
                }
                // No overflow: top.last < first.
                cursor = top.last + 1;
                stack.pop();
            }
            if cursor < first {
                emit(cursor, stack.last().map_or(NONE, |l| l.answer));
            }
            cursor = first;
            let level = self.level(group, stack.last());
            stack.push(level);
        }
        let mut reached_end = false;
        while let Some(top) = stack.pop() {
            if cursor <= top.last {
                emit(cursor, top.answer);
            }
            if top.last == family.max() {
                // The enclosing levels end there too.
                reached_end = true;
                break;
            }
            cursor = top.last + 1;
        }
        if !reached_end {
            emit(cursor, NONE);
        }
        (starts, ids)
    }
}

impl AwsRanges {
    /// Reads, checks and indexes an ip-ranges.json.
    ///
    /// # Errors
    ///
    /// [`Error::Json`] for bytes that are not JSON of the right shape (with
    /// line and column), [`Error::NoPrefixes`] without a `prefixes` list,
    /// [`Error::MissingField`], [`Error::NotAString`] and
    /// [`Error::InvalidPrefix`] naming the list, entry index, field and
    /// value. `ipv6_prefixes`, `syncToken` and `createDate` may be missing
    /// (files filtered with `jq` often lose them); unknown fields are
    /// ignored.
    pub fn from_json(bytes: &[u8]) -> Result<AwsRanges, Error> {
        let Object(raw): Object<RawFile> = serde_json::from_slice(bytes).map_err(Error::Json)?;
        let mut interner = Interner::default();
        let mut v4_entries = validate(
            raw.prefixes.ok_or(Error::NoPrefixes)?,
            Family::V4,
            &mut interner,
        )?;
        let mut v6_entries = validate(
            raw.ipv6_prefixes.unwrap_or_default(),
            Family::V6,
            &mut interner,
        )?;
        let (names, remap) = interner.into_sorted();
        for e in v4_entries.iter_mut().chain(v6_entries.iter_mut()) {
            for id in [&mut e.service, &mut e.region, &mut e.network_border_group] {
                *id = remap.get(*id as usize).copied().unwrap_or(NONE);
            }
        }
        let find = |name: &str| {
            names
                .binary_search_by(|n| n.as_str().cmp(name))
                .ok()
                .and_then(|i| u32::try_from(i).ok())
        };
        let (amazon, ec2) = (find("AMAZON"), find("EC2"));
        let mut builder = Builder {
            names: &names,
            amazon,
            ec2,
            answers: Vec::new(),
            dedup: HashMap::new(),
        };
        let (v4_starts, v4_ids) = builder.table(&v4_entries, Family::V4);
        let (v6_starts, v6_ids) = builder.table(&v6_entries, Family::V6);
        let answers = builder.answers;
        Ok(AwsRanges {
            sync_token: raw.sync_token.unwrap_or_else(|| "-".to_owned()),
            create_date: raw.create_date.unwrap_or_else(|| "-".to_owned()),
            v4: V4Table {
                // IPv4 interval starts are 32-bit values.
                starts: v4_starts
                    .into_iter()
                    .map(|s| u32::try_from(s).unwrap_or(u32::MAX))
                    .collect(),
                answers: v4_ids,
            },
            v6: V6Table::new(&v6_starts, v6_ids),
            answers,
            ipv4_prefix_count: v4_entries.len(),
            ipv6_prefix_count: v6_entries.len(),
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

    /// Number of entries in `prefixes` (IPv4).
    pub fn ipv4_prefix_count(&self) -> usize {
        self.ipv4_prefix_count
    }

    /// Number of entries in `ipv6_prefixes`.
    pub fn ipv6_prefix_count(&self) -> usize {
        self.ipv6_prefix_count
    }

    /// Number of disjoint intervals the lookup searches (IPv4, IPv6), after
    /// merging neighbours with the same answer.
    pub fn interval_counts(&self) -> (usize, usize) {
        (self.v4.starts.len(), self.v6.answers.len())
    }

    /// Number of distinct answers.
    pub fn answer_count(&self) -> usize {
        self.answers.len()
    }

    /// The answer for `ip` by the rule in the crate docs, or `None` when no
    /// prefix contains it. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is
    /// looked up as IPv4.
    pub fn lookup(&self, ip: IpAddr) -> Option<&AwsMatch> {
        let id = match canonical(ip) {
            IpAddr::V4(v4) => self.v4.find(u32::from(v4)),
            IpAddr::V6(v6) => self.v6.find(u128::from(v6)),
        };
        self.answers.get(id as usize)
    }
}

/// IPv4-mapped IPv6 addresses as IPv4.
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
            parse_prefix("255.255.255.255/32", Family::V4),
            Ok((u128::from(u32::MAX), u128::from(u32::MAX), 32))
        );
        assert_eq!(parse_prefix("::/0", Family::V6), Ok((0, u128::MAX, 0)));
        assert_eq!(
            parse_prefix("2600:1f18::/33", Family::V6),
            Ok((
                0x2600_1f18_u128 << 96,
                (0x2600_1f18_u128 << 96) | (u128::MAX >> 33),
                33
            ))
        );
        assert_eq!(
            parse_prefix("::1/128", Family::V6),
            Ok((1, 1, 128)),
            "a host prefix"
        );
        for (bad, family) in [
            ("10.0.0.1/8", Family::V4),
            ("10.0.0.0/33", Family::V4),
            ("10.0.0.0/", Family::V4),
            ("10.0.0.0/+8", Family::V4),
            ("10.0.0.0/08", Family::V4),
            ("10.0.0.0/ 8", Family::V4),
            ("10.0.0.0/1000", Family::V4),
            ("10.0.0.0", Family::V4),
            ("::/0", Family::V4),
            ("10.0.0.0/8", Family::V6),
            ("::/129", Family::V6),
            ("::1/127", Family::V6),
        ] {
            assert!(parse_prefix(bad, family).is_err(), "{bad}");
        }
    }

    /// The split IPv6 search against a plain `u128` search, on starts that
    /// share high halves in runs of every length.
    #[test]
    fn v6_table_search_equals_u128_search() {
        let mut state = 0x9E37_79B9_7F4A_7C15_u64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for round in 0..200 {
            let mut starts: Vec<u128> = vec![0];
            let highs = [0, 1, 5, 6, u64::MAX - 1, u64::MAX];
            for _ in 0..(next() % 200) {
                let high = highs[(next() % 6) as usize];
                let low = match next() % 8 {
                    0 => 0,
                    1 => u64::MAX,
                    2 => next(),
                    _ => next() % 128,
                };
                starts.push((u128::from(high) << 64) | u128::from(low));
            }
            starts.sort_unstable();
            starts.dedup();
            let answers: Vec<u32> = (0..starts.len())
                .map(|i| u32::try_from(i).expect("small"))
                .collect();
            let table = V6Table::new(&starts, answers);
            let mut keys: Vec<u128> = vec![0, u128::MAX];
            for &s in &starts {
                keys.extend([s, s.saturating_sub(1), s.saturating_add(1)]);
                keys.push((s & !u128::from(u64::MAX)) | u128::from(next()));
            }
            for key in keys {
                let expected = starts.partition_point(|&s| s <= key) - 1;
                assert_eq!(
                    table.find(key) as usize,
                    expected,
                    "round {round}: {key:#x} in {starts:x?}"
                );
            }
        }
    }

    #[test]
    fn interner_ids_follow_name_order() {
        let mut interner = Interner::default();
        let ids: Vec<u32> = ["S3", "AMAZON", "EC2", "S3", "AMAZON"]
            .into_iter()
            .map(|s| interner.intern(s.to_owned()))
            .collect();
        assert_eq!(ids, [0, 1, 2, 0, 1]);
        let (names, remap) = interner.into_sorted();
        assert_eq!(names, ["AMAZON", "EC2", "S3"]);
        assert_eq!(remap, [2, 0, 1]);
    }

    #[test]
    fn json_is_escaped() {
        let m = AwsMatch::new("A\"B", "r\\", "n", vec!["x\ny".to_owned()]);
        let parsed: Value = serde_json::from_str(m.json()).expect("valid JSON");
        assert_eq!(parsed["service"], "A\"B");
        assert_eq!(parsed["region"], "r\\");
        assert_eq!(parsed["services"][0], "x\ny");
    }
}
