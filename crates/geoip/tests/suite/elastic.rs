//! Elastic's expected outputs (`<shared>/data/flowlogs/elastic-*/**/
//! *-expected.json`) carry `source`/`destination` `geo` and `as` objects
//! made by Elasticsearch's geoip processor with MaxMind's test databases
//! (GeoLite2-City-Test and GeoLite2-ASN-Test). Ours must agree on every
//! address of those files: the same fields where Elastic has them, and no
//! answer where Elastic has none.
//!
//! Deliberate differences (the ECS names aside, which the enrich crate
//! owns):
//!
//! - Elastic gives `continent_name`, we give `continent_code`: compared
//!   through the seven continents' English names.
//! - Elastic's `as.organization` is `{"name": …}`, ours a string.
//! - We add `timezone` and `postal_code`, which Elastic's vpcflow pipeline
//!   leaves out.
//! - [`NOT_FROM_TEST_DBS`]: outputs made with a real GeoLite2 database, not
//!   the test ones; the test databases have no record for them.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use geoip::GeoSet;
use serde_json::{Map, Value};

use crate::common::{parse_object, read, shared_data};
use crate::maxmind::open_test_db;

/// Addresses whose expected `geo`/`as` came from a real database: the
/// 2021 revision of `test-tcp-flag-sequence.log-expected.json` shows
/// 52.213.180.42 (an AWS address) in Dublin, AS16509. MaxMind's test
/// databases do not hold it, so we answer nothing.
const NOT_FROM_TEST_DBS: &[&str] = &["52.213.180.42"];

/// ISO continent codes by English name.
fn continent_code(name: &str) -> &'static str {
    match name {
        "Africa" => "AF",
        "Antarctica" => "AN",
        "Asia" => "AS",
        "Europe" => "EU",
        "North America" => "NA",
        "Oceania" => "OC",
        "South America" => "SA",
        other => panic!("unknown continent {other}"),
    }
}

/// `*-expected.json` files under the `elastic-*` folders, recursively.
fn expected_files(flowlogs: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack: Vec<PathBuf> = std::fs::read_dir(flowlogs)
        .expect("flowlogs is readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("elastic-"))
        })
        .collect();
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with("-expected.json"))
            {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// One address of an expected output with Elastic's `geo` and `as`.
#[derive(Debug)]
struct Seen {
    origin: String,
    ip: IpAddr,
    geo: Option<Map<String, Value>>,
    asn: Option<Map<String, Value>>,
}

fn collect(flowlogs: &Path) -> Vec<Seen> {
    let mut out = Vec::new();
    for path in expected_files(flowlogs) {
        let rel = path
            .strip_prefix(flowlogs)
            .expect("under flowlogs")
            .display()
            .to_string();
        let json: Value =
            serde_json::from_slice(&read(&path)).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let events = match &json {
            Value::Object(map) => map.get("expected").and_then(Value::as_array),
            Value::Array(events) => Some(events),
            _ => None,
        };
        let Some(events) = events else {
            panic!("{rel}: neither a list nor {{\"expected\": [...]}}")
        };
        for (i, event) in events.iter().enumerate() {
            for side in ["source", "destination"] {
                let Some(obj) = event.get(side) else { continue };
                let Some(ip) = obj
                    .get("ip")
                    .or_else(|| obj.get("address"))
                    .and_then(Value::as_str)
                    .and_then(|s| s.parse::<IpAddr>().ok())
                else {
                    continue;
                };
                out.push(Seen {
                    origin: format!("{rel} #{i} {side}"),
                    ip,
                    geo: obj.get("geo").and_then(Value::as_object).cloned(),
                    asn: obj.get("as").and_then(Value::as_object).cloned(),
                });
            }
        }
    }
    out
}

/// Elastic's `geo` in our terms: keys renamed, continent name to code.
fn elastic_geo_as_ours(ctx: &str, geo: &Map<String, Value>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (key, value) in geo {
        match key.as_str() {
            "continent_name" => {
                let name = value.as_str().expect("a string");
                out.insert(
                    "continent_code".to_owned(),
                    Value::from(continent_code(name)),
                );
            }
            "country_iso_code" | "country_name" | "region_iso_code" | "region_name"
            | "city_name" | "location" | "timezone" | "postal_code" => {
                out.insert(key.clone(), value.clone());
            }
            other => panic!("{ctx}: Elastic geo field {other} not known to this test"),
        }
    }
    out
}

fn elastic_as_as_ours(ctx: &str, asn: &Map<String, Value>) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    for (key, value) in asn {
        match key.as_str() {
            "number" => {
                out.insert(key.clone(), value.clone());
            }
            "organization" => {
                let name = value.get("name").cloned().expect("organization.name");
                out.insert(key.clone(), name);
            }
            other => panic!("{ctx}: Elastic as field {other} not known to this test"),
        }
    }
    out
}

/// Checks one fragment of ours against Elastic's: every Elastic field
/// equal, and ours adds only the fields Elastic's pipeline leaves out.
fn agree(ctx: &str, ours: Option<&str>, theirs: Option<BTreeMap<String, Value>>) {
    let (Some(ours), Some(theirs)) = (ours, &theirs) else {
        assert_eq!(
            ours.is_some(),
            theirs.is_some(),
            "{ctx}: ours {ours:?}, Elastic {theirs:?}"
        );
        return;
    };
    let ours = parse_object(ctx, ours);
    for (key, value) in theirs {
        assert_eq!(ours.get(key), Some(value), "{ctx}: {key} (ours {ours:?})");
    }
    let extra: BTreeSet<&str> = ours
        .keys()
        .map(String::as_str)
        .filter(|k| !theirs.contains_key(*k))
        .collect();
    assert!(
        extra
            .iter()
            .all(|k| ["timezone", "postal_code"].contains(k)),
        "{ctx}: fields Elastic lacks: {extra:?} (ours {ours:?}, Elastic {theirs:?})"
    );
}

/// The City + ASN pairs compared: the ones Elastic used, then GeoIP2-City
/// (which agrees on these addresses too).
const PAIRS: [(&str, &str); 2] = [
    ("GeoLite2-City-Test", "GeoLite2-ASN-Test"),
    ("GeoIP2-City-Test", "GeoLite2-ASN-Test"),
];

#[test]
fn elastic_geo_and_as_agree_with_ours() {
    let Some(flowlogs) = shared_data("flowlogs") else {
        return;
    };
    let Some(test_data) = shared_data("mmdb/test-data") else {
        return;
    };
    let seen = collect(&flowlogs);
    let with_geo: BTreeSet<IpAddr> = seen
        .iter()
        .filter(|s| s.geo.is_some() || s.asn.is_some())
        .map(|s| s.ip)
        .collect();
    assert!(
        with_geo.len() >= 10,
        "expected Elastic outputs with geo/as for 10+ addresses, found {with_geo:?}"
    );
    for (city, asn) in PAIRS {
        let mut set = GeoSet::new();
        set.add(open_test_db(&test_data, city)).expect("city");
        set.add(open_test_db(&test_data, asn)).expect("asn");
        let mut compared = BTreeSet::new();
        for s in &seen {
            let ctx = format!("{} {} ({city})", s.origin, s.ip);
            let answer = set.lookup(s.ip).to_owned_answer();
            if NOT_FROM_TEST_DBS.contains(&s.ip.to_string().as_str()) {
                assert!(
                    s.geo.is_some(),
                    "{ctx}: listed as an exception but has no geo"
                );
                assert_eq!(
                    answer,
                    Default::default(),
                    "{ctx}: now in the test databases?"
                );
                continue;
            }
            let geo = s.geo.as_ref().map(|g| elastic_geo_as_ours(&ctx, g));
            let asn = s.asn.as_ref().map(|a| elastic_as_as_ours(&ctx, a));
            agree(&format!("{ctx} geo"), answer.geo.as_deref(), geo);
            agree(&format!("{ctx} as"), answer.asn.as_deref(), asn);
            compared.insert(s.ip);
        }
        assert_eq!(set.lookup_errors(), 0);
        eprintln!(
            "elastic vs {city}+{asn}: {} address mentions, {} distinct addresses agree, \
             {} of them with Elastic geo/as",
            seen.len(),
            compared.len(),
            compared.intersection(&with_geo).count()
        );
    }
}
