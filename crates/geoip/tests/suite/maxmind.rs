//! MaxMind's test databases (`<shared>/data/mmdb/test-data`), checked
//! against the source data they were built from (`source-data/*.json`).
//!
//! For every network of a source file, its first and last addresses are
//! looked up. The record expected there is the most specific source network
//! holding the address (the later one on a tie), and the fragment expected
//! is computed from that JSON record by the documented rules
//! ([`expected_geo`], [`expected_asn`]), in several locales.
//!
//! Skips: addresses that are not global get no answer by design (checked
//! as such). The source files hold none: every network is public. IPv4
//! networks are written both as `a.b.c.d/n` and as `::a.b.c.d/(96+n)`;
//! both are looked up as IPv4 (`::a.b.c.d` itself is not global).

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use geoip::{DbKind, Error, GeoDb, GeoSet, is_global};
use serde_json::Value;

use crate::common::{check_fragment, expected_asn, expected_geo, read, shared_data};

/// The test databases with source data, and their kinds.
const WITH_SOURCE: [(&str, DbKind); 6] = [
    ("GeoIP2-City-Test", DbKind::City),
    ("GeoLite2-City-Test", DbKind::City),
    ("GeoIP2-Country-Test", DbKind::Country),
    ("GeoLite2-Country-Test", DbKind::Country),
    ("GeoLite2-ASN-Test", DbKind::Asn),
    ("GeoIP2-ISP-Test", DbKind::Asn),
];

/// Every file of `test-data/` and what opening it gives: a kind, or
/// `UnsupportedType` with its `database_type`. Both mean that the full
/// verification passed.
const ALL: &[(&str, Result<DbKind, &str>)] = &[
    ("GeoIP2-City-Test", Ok(DbKind::City)),
    ("GeoLite2-City-Test", Ok(DbKind::City)),
    ("GeoIP2-Country-Test", Ok(DbKind::Country)),
    ("GeoLite2-Country-Test", Ok(DbKind::Country)),
    ("GeoLite2-ASN-Test", Ok(DbKind::Asn)),
    ("GeoIP2-ISP-Test", Ok(DbKind::Asn)),
    // City records plus ISP and other traits: used as a City database.
    ("GeoIP2-Enterprise-Test", Ok(DbKind::City)),
    ("GeoIP2-Anonymous-IP-Test", Err("GeoIP2-Anonymous-IP")),
    ("GeoIP2-Connection-Type-Test", Err("GeoIP2-Connection-Type")),
    ("GeoIP2-Domain-Test", Err("GeoIP2-Domain")),
    (
        "MaxMind-DB-no-ipv4-search-tree",
        Err("MaxMind DB No IPv4 Search Tree"),
    ),
    (
        "MaxMind-DB-string-value-entries",
        Err("MaxMind DB String Value Entries"),
    ),
    ("MaxMind-DB-test-decoder", Err("MaxMind DB Decoder Test")),
    (
        "MaxMind-DB-test-pointer-decoder",
        Err("MaxMind DB Decoder Test"),
    ),
    (
        "MaxMind-DB-test-metadata-pointers",
        Err("Lots of pointers in metadata"),
    ),
    (
        "MaxMind-DB-test-nested",
        Err("MaxMind DB Nested Data Structures"),
    ),
    ("MaxMind-DB-test-ipv4-24", Err("Test")),
    ("MaxMind-DB-test-ipv4-28", Err("Test")),
    ("MaxMind-DB-test-ipv4-32", Err("Test")),
    ("MaxMind-DB-test-ipv6-24", Err("Test")),
    ("MaxMind-DB-test-ipv6-28", Err("Test")),
    ("MaxMind-DB-test-ipv6-32", Err("Test")),
    ("MaxMind-DB-test-mixed-24", Err("Test")),
    ("MaxMind-DB-test-mixed-28", Err("Test")),
    ("MaxMind-DB-test-mixed-32", Err("Test")),
];

/// Build time of MaxMind's generated test databases (2026-02-04).
const TEST_DATA_EPOCH: u64 = 1_770_245_369;

/// Locales checked: MaxMind's eight include `de`, `ja` and `pt-BR`; `ko`
/// and `xx` are missing, so they fall back to English.
const LOCALES: [&str; 5] = ["en", "de", "ja", "pt-BR", "ko"];

fn test_data() -> Option<std::path::PathBuf> {
    shared_data("mmdb/test-data")
}

/// Opens `<dir>/<name>.mmdb`, named by its file name, panicking on error.
pub fn open_test_db(dir: &Path, name: &str) -> GeoDb {
    let file = format!("{name}.mmdb");
    GeoDb::from_bytes(read(&dir.join(&file)), &file).unwrap_or_else(|e| panic!("{e}"))
}

/// A source network in the IPv6 space (IPv4 under `::/96`): start, prefix.
#[derive(Debug, Clone, Copy)]
struct Net {
    start: u128,
    prefix: u8,
}

impl Net {
    fn parse(s: &str) -> Net {
        let (addr, len) = s
            .split_once('/')
            .unwrap_or_else(|| panic!("{s}: no prefix"));
        let len: u8 = len.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
        let (bits, prefix) = match addr
            .parse::<IpAddr>()
            .unwrap_or_else(|e| panic!("{s}: {e}"))
        {
            IpAddr::V4(v4) => (u128::from(u32::from(v4)), len + 96),
            IpAddr::V6(v6) => (u128::from(v6), len),
        };
        assert!(prefix <= 128, "{s}");
        let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
        Net {
            start: bits & mask,
            prefix,
        }
    }

    fn last(self) -> u128 {
        self.start | u128::MAX.checked_shr(u32::from(self.prefix)).unwrap_or(0)
    }

    fn contains(self, addr: u128) -> bool {
        addr >= self.start && addr <= self.last()
    }
}

/// The address a reader is asked for: IPv4 for the IPv4 part (`::/96`).
fn to_ip(bits: u128) -> IpAddr {
    match u32::try_from(bits) {
        Ok(v4) => IpAddr::V4(Ipv4Addr::from(v4)),
        Err(_) => IpAddr::V6(Ipv6Addr::from(bits)),
    }
}

/// A source-data file: (network, record) in file order.
fn load_source(dir: &Path, name: &str) -> Vec<(Net, Value)> {
    let path = dir.join(format!("{name}.json"));
    let json: Value =
        serde_json::from_slice(&read(&path)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let Value::Array(entries) = json else {
        panic!("{}: not an array", path.display())
    };
    let mut out = Vec::new();
    for entry in entries {
        let Value::Object(map) = entry else {
            panic!("{name}: an entry is not an object")
        };
        for (network, record) in map {
            out.push((Net::parse(&network), record));
        }
    }
    out
}

/// The record for `addr`: the most specific network holding it, the later
/// one in the file on a tie.
fn record_at(source: &[(Net, Value)], addr: u128) -> Option<&Value> {
    let mut best: Option<(u8, &Value)> = None;
    for (net, record) in source {
        if net.contains(addr) && best.is_none_or(|(p, _)| net.prefix >= p) {
            best = Some((net.prefix, record));
        }
    }
    best.map(|(_, r)| r)
}

#[test]
fn every_test_database_opens_as_its_kind() {
    let Some(dir) = test_data() else { return };
    let mut listed: Vec<String> = std::fs::read_dir(&dir)
        .expect("test-data is readable")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".mmdb"))
        .collect();
    listed.sort();
    let mut known: Vec<String> = ALL.iter().map(|(n, _)| format!("{n}.mmdb")).collect();
    known.sort();
    assert_eq!(listed, known, "test-data/ changed: review ALL");

    for &(name, expected) in ALL {
        let file = format!("{name}.mmdb");
        let result = GeoDb::from_bytes(read(&dir.join(&file)), &file);
        match (result, expected) {
            (Ok(db), Ok(kind)) => {
                assert_eq!(db.kind(), kind, "{file}");
                assert_eq!(db.source(), file);
                // The Enterprise test database was rebuilt later than the others.
                if !name.starts_with("MaxMind-DB") && name != "GeoIP2-Enterprise-Test" {
                    assert_eq!(db.build_epoch(), TEST_DATA_EPOCH, "{file}");
                    assert_eq!(db.build_date(), "2026-02-04", "{file}");
                }
                assert_eq!(db.ip_version(), 6, "{file}");
            }
            (Err(Error::UnsupportedType { db, database_type }), Err(want)) => {
                assert_eq!(db, file);
                assert_eq!(database_type, want, "{file}");
            }
            (other, _) => panic!("{file}: expected {expected:?}, got {other:?}"),
        }
    }
}

#[test]
fn test_databases_agree_with_their_source_data() {
    let Some(dir) = test_data() else { return };
    let source_dir = dir.with_file_name("source-data");
    for (name, kind) in WITH_SOURCE {
        let source = load_source(&source_dir, name);
        let db = open_test_db(&dir, name);
        assert_eq!(db.kind(), kind, "{name}");
        let mut set = GeoSet::new();
        set.add(db).expect("one database");

        // Addresses to probe: first and last of every network.
        let mut probes: Vec<u128> = Vec::new();
        for (net, _) in &source {
            assert!(
                net.start >> 32 != 0 || net.prefix >= 96,
                "{name}: a network spanning ::/96 and beyond"
            );
            probes.push(net.start);
            probes.push(net.last());
        }
        probes.sort_unstable();
        probes.dedup();

        let mut stats: BTreeMap<&str, usize> = BTreeMap::new();
        let locales: &[&str] = if kind == DbKind::Asn {
            &["en"]
        } else {
            &LOCALES
        };
        for &locale in locales {
            set.set_locale(locale);
            for &bits in &probes {
                let addr = to_ip(bits);
                let answer = set.lookup(addr).to_owned_answer();
                if !is_global(addr) {
                    assert_eq!(answer, Default::default(), "{name}: {addr} is not global");
                    *stats.entry("skipped: not global").or_default() += 1;
                    continue;
                }
                let record = record_at(&source, bits).expect("a probe lies in its network");
                let ctx = format!("{name} {addr} ({locale})");
                let (fragment, other) = match kind {
                    DbKind::Asn => (answer.asn, answer.geo),
                    DbKind::City | DbKind::Country => (answer.geo, answer.asn),
                };
                assert_eq!(other, None, "{ctx}: the other fragment");
                let expected = match kind {
                    DbKind::Asn => expected_asn(record),
                    DbKind::City => expected_geo(record, locale, false),
                    DbKind::Country => expected_geo(record, locale, true),
                };
                check_fragment(&ctx, fragment.as_deref(), &expected);
                let uncached = set.try_lookup(addr).expect("decodes");
                assert_eq!(
                    uncached,
                    set.lookup(addr).to_owned_answer(),
                    "{ctx}: try_lookup"
                );
                let what = if expected.is_empty() {
                    "compared: no fragment expected"
                } else {
                    "compared: fragment"
                };
                *stats.entry(what).or_default() += 1;
            }
        }
        assert_eq!(set.lookup_errors(), 0, "{name}");
        let compared = stats.get("compared: fragment").copied().unwrap_or(0);
        // Sanity: many networks have something to show (in the ISP
        // database, two thirds of the records have no AS number).
        assert!(
            compared * 4 > probes.len() * locales.len(),
            "{name}: only {compared} fragments compared: {stats:?}"
        );
        eprintln!(
            "{name}: {} networks, {} addresses x {} locale(s): {stats:?}",
            source.len(),
            probes.len(),
            locales.len()
        );
    }
}

/// The facts MaxMind's README for the test data lists, checked directly.
#[test]
fn known_addresses_in_the_test_databases() {
    let Some(dir) = test_data() else { return };
    let mut set = GeoSet::new();
    set.add(open_test_db(&dir, "GeoLite2-City-Test"))
        .expect("city");
    set.add(open_test_db(&dir, "GeoLite2-ASN-Test"))
        .expect("asn");
    let linkoping = r#"{"continent_code":"EU","country_iso_code":"SE","country_name":"Sweden","region_iso_code":"SE-E","region_name":"Östergötland County","city_name":"Linköping","timezone":"Europe/Stockholm","location":{"lat":58.4167,"lon":15.6167}}"#;
    let cases: [(&str, Option<&str>, Option<&str>); 6] = [
        (
            "89.160.20.112",
            Some(linkoping),
            Some(r#"{"number":29518,"organization":"Bredband2 AB"}"#),
        ),
        (
            "::ffff:89.160.20.128",
            Some(linkoping),
            Some(r#"{"number":29518,"organization":"Bredband2 AB"}"#),
        ),
        (
            "1.128.0.0",
            None,
            Some(r#"{"number":1221,"organization":"Telstra Pty Ltd"}"#),
        ),
        (
            "2a02:cf40::",
            Some(
                r#"{"continent_code":"EU","country_iso_code":"NO","country_name":"Norway","timezone":"Europe/Oslo","location":{"lat":62.0,"lon":10.0}}"#,
            ),
            None,
        ),
        ("10.0.0.1", None, None),
        ("52.213.180.42", None, None),
    ];
    for (addr, geo, asn) in cases {
        let answer = set.lookup(crate::common::ip(addr));
        assert_eq!(answer.geo, geo, "{addr}");
        assert_eq!(answer.asn, asn, "{addr}");
    }
}
