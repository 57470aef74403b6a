//! Helpers shared by the test modules: locating the shared data, reading a
//! fragment's keys in order, and the expected fragments computed from a
//! MaxMind source-data record by the rules of the crate's documentation
//! (independently of its rendering code).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};

/// The keys of a `geo` fragment, in the documented order.
pub const GEO_KEYS: [&str; 9] = [
    "continent_code",
    "country_iso_code",
    "country_name",
    "region_iso_code",
    "region_name",
    "city_name",
    "postal_code",
    "timezone",
    "location",
];

/// `<shared>/data/<sub>`, or `None` when the shared data is missing (see
/// the `shared-data` crate).
pub fn shared_data(sub: &str) -> Option<PathBuf> {
    shared_data::locate(sub)
}

/// Reads a file, panicking with its name.
pub fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Parses an address, panicking on a typo.
pub fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// The keys of the top-level JSON object `json`, in the order written. A
/// small scanner: `serde_json` is built without `preserve_order`.
pub fn top_level_keys(json: &str) -> Vec<String> {
    assert!(
        json.starts_with('{') && json.ends_with('}'),
        "not an object: {json}"
    );
    let mut keys = Vec::new();
    let mut depth = 0_usize;
    let mut expect_key = false;
    let mut chars = json.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let mut s = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => s.extend(chars.next()),
                        Some(c) => s.push(c),
                        None => panic!("unterminated string in {json}"),
                    }
                }
                if depth == 1 && expect_key {
                    keys.push(s);
                }
                expect_key = false;
            }
            '{' => {
                depth += 1;
                expect_key = depth == 1;
            }
            '[' => depth += 1,
            '}' | ']' => depth -= 1,
            ',' => expect_key = depth == 1,
            _ => {}
        }
    }
    keys
}

/// Parses a fragment as a JSON object, panicking with `ctx`.
pub fn parse_object(ctx: &str, json: &str) -> Map<String, Value> {
    match serde_json::from_str::<Value>(json) {
        Ok(Value::Object(map)) => map,
        other => panic!("{ctx}: not a JSON object: {json} ({other:?})"),
    }
}

/// Checks a fragment against the expected keys and values: `None` when
/// `expected` is empty, else exactly these keys in this order, each with
/// its value.
pub fn check_fragment(ctx: &str, actual: Option<&str>, expected: &[(&str, Value)]) {
    if expected.is_empty() {
        assert_eq!(actual, None, "{ctx}: expected no fragment");
        return;
    }
    let Some(actual) = actual else {
        panic!("{ctx}: no fragment, expected {expected:?}");
    };
    let keys = top_level_keys(actual);
    let want: Vec<&str> = expected.iter().map(|(k, _)| *k).collect();
    assert_eq!(keys, want, "{ctx}: keys of {actual}");
    let map = parse_object(ctx, actual);
    for (key, value) in expected {
        assert_eq!(map.get(*key), Some(value), "{ctx}: field {key} of {actual}");
    }
    if map.contains_key("location") {
        assert!(
            actual.contains("\"location\":{\"lat\":") && actual.contains(",\"lon\":"),
            "{ctx}: location not as {{\"lat\":…,\"lon\":…}}: {actual}"
        );
    }
}

/// `names[locale]`, else `names.en`.
fn pick_name(names: Option<&Value>, locale: &str) -> Option<Value> {
    let names = names?;
    names
        .get(locale)
        .or_else(|| names.get("en"))
        .filter(|v| v.is_string())
        .cloned()
}

/// The `geo` fragment the documentation promises for a City (or, with
/// `country_only`, Country) record given as JSON, in key order.
pub fn expected_geo(
    record: &Value,
    locale: &str,
    country_only: bool,
) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    let mut push = |key: &'static str, value: Option<Value>| {
        if let Some(value) = value {
            out.push((key, value));
        }
    };
    push("continent_code", record.pointer("/continent/code").cloned());
    // `registered_country` stands in for a missing `country`.
    let (country, located) = match record.get("country") {
        Some(country) => (Some(country), true),
        None => (record.get("registered_country"), false),
    };
    let country_code = country.and_then(|c| c.get("iso_code")).cloned();
    push("country_iso_code", country_code.clone());
    push(
        "country_name",
        country.and_then(|c| pick_name(c.get("names"), locale)),
    );
    if country_only {
        return out;
    }
    let first_sub = record
        .get("subdivisions")
        .and_then(|s| s.get(0))
        .filter(|_| located);
    if let Some(sub) = first_sub {
        let code = match (&country_code, sub.get("iso_code")) {
            (Some(Value::String(cc)), Some(Value::String(sc))) => Some(json!(format!("{cc}-{sc}"))),
            _ => None,
        };
        push("region_iso_code", code);
        push("region_name", pick_name(sub.get("names"), locale));
    }
    push(
        "city_name",
        pick_name(record.pointer("/city/names"), locale),
    );
    push("postal_code", record.pointer("/postal/code").cloned());
    push("timezone", record.pointer("/location/time_zone").cloned());
    let lat = record.pointer("/location/latitude").and_then(Value::as_f64);
    let lon = record
        .pointer("/location/longitude")
        .and_then(Value::as_f64);
    if let (Some(lat), Some(lon)) = (lat, lon) {
        push("location", Some(json!({ "lat": lat, "lon": lon })));
    }
    out
}

/// The `as` fragment the documentation promises for an ASN or ISP record
/// given as JSON.
pub fn expected_asn(record: &Value) -> Vec<(&'static str, Value)> {
    let mut out = Vec::new();
    if let Some(n) = record.get("autonomous_system_number") {
        out.push(("number", n.clone()));
    }
    if let Some(o) = record.get("autonomous_system_organization") {
        out.push(("organization", o.clone()));
    }
    out
}

/// A xorshift64 generator: deterministic shuffles without a dependency.
#[derive(Debug)]
pub struct XorShift(pub u64);

impl XorShift {
    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    /// Fisher–Yates.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = usize::try_from(self.next_u64() % (i as u64 + 1)).expect("index fits usize");
            items.swap(i, j);
        }
    }
}

#[test]
fn key_scanner_reads_top_level_keys_in_order() {
    assert_eq!(
        top_level_keys(r#"{"b":1,"a":{"z":"x,\"y\":","y":[1,{"q":2}]},"c\"d":"}"}"#),
        ["b", "a", "c\"d"]
    );
    assert_eq!(top_level_keys("{}"), Vec::<String>::new());
}

#[test]
fn expected_geo_orders_keys_as_documented() {
    let record = json!({
        "continent": {"code": "EU"},
        "country": {"iso_code": "SE", "names": {"en": "Sweden"}},
        "subdivisions": [{"iso_code": "E", "names": {"en": "Östergötland County"}}],
        "city": {"names": {"en": "Linköping"}},
        "postal": {"code": "582 22"},
        "location": {"latitude": 58.4167, "longitude": 15.6167, "time_zone": "Europe/Stockholm"}
    });
    let keys: Vec<&str> = expected_geo(&record, "en", false)
        .iter()
        .map(|(k, _)| *k)
        .collect();
    assert_eq!(keys, GEO_KEYS);
}

#[test]
fn expected_geo_follows_the_documented_rules() {
    let record = json!({
        "registered_country": {"iso_code": "DE", "names": {"en": "Germany", "de": "Deutschland"}},
        "subdivisions": [{"iso_code": "BY", "names": {"en": "Bavaria"}}],
        "city": {"names": {"en": "Munich", "de": "München"}},
        "location": {"latitude": 48, "longitude": 11.5}
    });
    let got = expected_geo(&record, "de", false);
    assert_eq!(
        got,
        [
            ("country_iso_code", json!("DE")),
            ("country_name", json!("Deutschland")),
            ("city_name", json!("München")),
            ("location", json!({"lat": 48.0, "lon": 11.5})),
        ]
    );
}
