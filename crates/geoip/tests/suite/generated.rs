//! Databases built here with `mmdb-writer`; every expected fragment is
//! written out by hand from the crate's documented rules.

use std::net::IpAddr;
use std::time::{Duration, UNIX_EPOCH};

use geoip::{DbKind, Error, GeoDb, GeoSet, OwnedGeoAnswer, Role};
use ipnet::IpNet;
use mmdb_writer::{IpVersion, Ipv4Aliasing, Value, Writer};

use crate::common::{XorShift, ip, parse_object, top_level_keys};

/// 2024-02-29T00:00:00Z.
const EPOCH: u64 = 1_709_164_800;

/// The reader's verification requires a non-empty description (as do
/// MaxMind's other verifiers): every database here has one.
const DESCRIPTION: &[(&str, &str)] = &[("en", "flowtag test database")];

// ---------------------------------------------------------------------------
// Building databases

fn builder_epoch(db_type: &str, epoch: u64) -> Writer {
    Writer::builder(db_type)
        .languages(["en", "de", "ja"])
        .description(&[DESCRIPTION[0], ("de", "flowtag-Testdatenbank")])
        .build_epoch(UNIX_EPOCH + Duration::from_secs(epoch))
        .build()
}

fn writer(db_type: &str) -> Writer {
    builder_epoch(db_type, EPOCH)
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn insert(w: &mut Writer, network: &str, value: Value) {
    w.insert_value(net(network), value)
        .unwrap_or_else(|e| panic!("insert {network}: {e}"));
}

fn bytes(w: &Writer) -> Vec<u8> {
    w.to_bytes().expect("the writer serializes")
}

fn open(w: &Writer, name: &str) -> GeoDb {
    GeoDb::from_bytes(bytes(w), name).unwrap_or_else(|e| panic!("open {name}: {e}"))
}

/// A set holding the given databases.
fn set_of(dbs: impl IntoIterator<Item = GeoDb>) -> GeoSet {
    let mut set = GeoSet::new();
    for db in dbs {
        set.add(db).expect("one database per slot");
    }
    set
}

fn m<const N: usize>(entries: [(&str, Value); N]) -> Value {
    Value::map(entries)
}

fn s(v: &str) -> Value {
    Value::from(v)
}

fn names(pairs: &[(&str, &str)]) -> Value {
    Value::map(pairs.iter().map(|&(l, n)| (l, Value::from(n))))
}

fn country(code: &str, n: &[(&str, &str)]) -> Value {
    m([
        ("geoname_id", Value::from(1_u32)),
        ("iso_code", s(code)),
        ("names", names(n)),
    ])
}

fn city_named(n: &[(&str, &str)]) -> Value {
    m([("city", m([("names", names(n))]))])
}

/// A full GeoIP2-City record (Linköping, as in MaxMind's test data) with
/// extra fields the crate must skip.
fn sweden() -> Value {
    let se = [
        ("en", "Sweden"),
        ("de", "Schweden"),
        ("ja", "スウェーデン王国"),
    ];
    m([
        (
            "continent",
            m([
                ("code", s("EU")),
                ("geoname_id", Value::from(6_255_148_u32)),
                ("names", names(&[("en", "Europe"), ("de", "Europa")])),
            ]),
        ),
        ("country", country("SE", &se)),
        ("registered_country", country("SE", &se)),
        (
            "subdivisions",
            Value::array([
                m([
                    ("iso_code", s("E")),
                    (
                        "names",
                        names(&[
                            ("en", "Östergötland County"),
                            ("ja", "エステルイェータランド県"),
                        ]),
                    ),
                ]),
                m([("iso_code", s("X")), ("names", names(&[("en", "Second")]))]),
            ]),
        ),
        (
            "city",
            m([
                ("geoname_id", Value::from(2_694_762_u32)),
                (
                    "names",
                    names(&[("en", "Linköping"), ("ja", "リンシェーピング")]),
                ),
            ]),
        ),
        (
            "location",
            m([
                ("accuracy_radius", Value::from(76_u16)),
                ("latitude", Value::from(58.4167)),
                ("longitude", Value::from(15.6167)),
                ("time_zone", s("Europe/Stockholm")),
            ]),
        ),
        ("postal", m([("code", s("582 22"))])),
        ("traits", m([("is_anycast", Value::from(true))])),
    ])
}

const SWEDEN_EN: &str = r#"{"continent_code":"EU","country_iso_code":"SE","country_name":"Sweden","region_iso_code":"SE-E","region_name":"Östergötland County","city_name":"Linköping","postal_code":"582 22","timezone":"Europe/Stockholm","location":{"lat":58.4167,"lon":15.6167}}"#;
const SWEDEN_DE: &str = r#"{"continent_code":"EU","country_iso_code":"SE","country_name":"Schweden","region_iso_code":"SE-E","region_name":"Östergötland County","city_name":"Linköping","postal_code":"582 22","timezone":"Europe/Stockholm","location":{"lat":58.4167,"lon":15.6167}}"#;
const SWEDEN_JA: &str = r#"{"continent_code":"EU","country_iso_code":"SE","country_name":"スウェーデン王国","region_iso_code":"SE-E","region_name":"エステルイェータランド県","city_name":"リンシェーピング","postal_code":"582 22","timezone":"Europe/Stockholm","location":{"lat":58.4167,"lon":15.6167}}"#;

fn asn(number: u32, org: &str) -> Value {
    m([
        ("autonomous_system_number", Value::from(number)),
        ("autonomous_system_organization", s(org)),
    ])
}

/// The `geo` fragment of `ip` in a set.
fn geo(set: &mut GeoSet, addr: &str) -> Option<String> {
    set.lookup(ip(addr)).geo.map(str::to_owned)
}

/// The `as` fragment of `ip` in a set.
fn as_of(set: &mut GeoSet, addr: &str) -> Option<String> {
    set.lookup(ip(addr)).asn.map(str::to_owned)
}

// ---------------------------------------------------------------------------
// Kinds and metadata

#[test]
fn kinds_are_detected_from_database_type() {
    for (db_type, kind) in [
        ("GeoIP2-City", DbKind::City),
        ("GeoLite2-City", DbKind::City),
        ("DBIP-City-Lite", DbKind::City),
        ("GeoIP2-Country", DbKind::Country),
        ("GeoLite2-Country", DbKind::Country),
        ("GeoLite2-ASN", DbKind::Asn),
        ("GeoIP2-ISP", DbKind::Asn),
    ] {
        let mut w = writer(db_type);
        insert(&mut w, "89.160.20.0/24", sweden());
        let name = format!("{db_type}.mmdb");
        let db = open(&w, &name);
        assert_eq!(db.kind(), kind, "{db_type}");
        assert_eq!(db.database_type(), db_type);
        assert_eq!(db.source(), name);
        assert_eq!(db.info().kind, kind);
        let role = if kind == DbKind::Asn {
            Role::Asn
        } else {
            Role::Geo
        };
        assert_eq!(kind.role(), role);
    }
    for db_type in [
        "GeoIP2-Domain",
        "GeoIP2-Anonymous-IP",
        "GeoIP2-Connection-Type",
        "GeoIP2-User-Count",
    ] {
        let mut w = writer(db_type);
        insert(&mut w, "89.160.20.0/24", m([("domain", s("example.com"))]));
        let err = GeoDb::from_bytes(bytes(&w), "x.mmdb").expect_err(db_type);
        match &err {
            Error::UnsupportedType { db, database_type } => {
                assert_eq!(db, "x.mmdb");
                assert_eq!(database_type, db_type);
            }
            other => panic!("{db_type}: expected UnsupportedType, got {other:?}"),
        }
        let msg = err.to_string();
        assert!(
            msg.starts_with("x.mmdb: ") && msg.contains(db_type),
            "{msg}"
        );
    }
}

#[test]
fn metadata_and_build_date() {
    let mut w = writer("GeoLite2-City");
    insert(&mut w, "89.160.20.0/24", sweden());
    let db = open(&w, "city.mmdb");
    assert_eq!(db.build_epoch(), EPOCH);
    assert_eq!(db.build_date(), "2024-02-29");
    assert_eq!(db.build_time(), "2024-02-29T00:00:00Z");
    assert_eq!(db.ip_version(), 6);
    assert!([24, 28, 32].contains(&db.record_size()));
    assert!(db.node_count() > 0);
    assert_eq!(db.languages(), ["en", "de", "ja"]);
    assert_eq!(db.description("en"), Some("flowtag test database"));
    assert_eq!(db.description("de"), Some("flowtag-Testdatenbank"));
    assert_eq!(db.description("fr"), None);
    let info = db.info();
    assert_eq!(info.source, "city.mmdb");
    assert_eq!(info.database_type, "GeoLite2-City");
    assert_eq!(info.build_date, "2024-02-29");
    assert_eq!(info.node_count, db.node_count());
    let json = serde_json::to_value(&info).expect("DbInfo serializes");
    assert_eq!(json["kind"], "City");
    assert_eq!(json["build_epoch"], EPOCH);
    assert_eq!(json["languages"], serde_json::json!(["en", "de", "ja"]));

    // The last second of 9999 is accepted, the next refused.
    let last = 253_402_300_799;
    let mut w = builder_epoch("GeoLite2-ASN", last);
    insert(&mut w, "89.160.20.0/24", asn(1, "x"));
    let db = open(&w, "late.mmdb");
    assert_eq!(db.build_time(), "9999-12-31T23:59:59Z");
    let mut w = builder_epoch("GeoLite2-ASN", last + 1);
    insert(&mut w, "89.160.20.0/24", asn(1, "x"));
    match GeoDb::from_bytes(bytes(&w), "later.mmdb") {
        Err(Error::InvalidMetadata { db, reason }) => {
            assert_eq!(db, "later.mmdb");
            assert!(reason.contains("253402300800"), "{reason}");
        }
        other => panic!("expected InvalidMetadata, got {other:?}"),
    }

    // An IPv4-only database.
    let mut w = Writer::builder("GeoLite2-City")
        .ip_version(IpVersion::V4)
        .description(DESCRIPTION)
        .build_epoch(UNIX_EPOCH)
        .build();
    insert(&mut w, "89.160.20.0/24", sweden());
    let db = open(&w, "v4.mmdb");
    assert_eq!(db.ip_version(), 4);
    assert_eq!(db.build_time(), "1970-01-01T00:00:00Z");
}

#[test]
fn a_database_without_description_fails_verification() {
    let mut w = Writer::builder("GeoLite2-City")
        .build_epoch(UNIX_EPOCH)
        .build();
    insert(&mut w, "89.160.20.0/24", sweden());
    match GeoDb::from_bytes(bytes(&w), "nodesc.mmdb") {
        Err(Error::Verify { db, error }) => {
            assert_eq!(db, "nodesc.mmdb");
            assert!(error.to_string().contains("description"), "{error}");
        }
        other => panic!("expected Verify, got {other:?}"),
    }
}

#[test]
fn verified_bytes_skip_the_full_verification_and_nothing_else() {
    // No description: only the full verification refuses it.
    let mut w = Writer::builder("GeoLite2-City")
        .build_epoch(UNIX_EPOCH)
        .build();
    insert(&mut w, "89.160.20.0/24", sweden());
    assert!(matches!(
        GeoDb::from_bytes(bytes(&w), "nodesc.mmdb"),
        Err(Error::Verify { .. })
    ));
    let db = GeoDb::from_verified_bytes(bytes(&w), "nodesc.mmdb").expect("opens unverified");
    let geo = set_of([db])
        .try_lookup(ip("89.160.20.1"))
        .expect("a sound record")
        .geo
        .expect("a geo answer");
    assert!(geo.contains(r#""country_iso_code":"SE""#), "{geo}");

    // A record whose country name is not UTF-8: the verification refuses
    // the file; unverified, the lookup of that network fails as an error
    // (no panic, which in the guest would be a trap) and answers nothing.
    let mut w = writer("GeoLite2-City");
    insert(&mut w, "89.160.20.0/24", sweden());
    insert(
        &mut w,
        "81.2.69.0/24",
        m([("country", country("GB", &[("en", "United Kingdom")]))]),
    );
    let mut corrupt = bytes(&w);
    let mut hits = 0;
    for at in 0..corrupt.len().saturating_sub(5) {
        if &corrupt[at..at + 6] == b"Sweden" {
            corrupt[at] = 0xff;
            hits += 1;
        }
    }
    assert!(hits > 0, "the name is in the data section");
    assert!(matches!(
        GeoDb::from_bytes(corrupt.clone(), "corrupt.mmdb"),
        Err(Error::Verify { .. })
    ));
    let mut set = set_of([GeoDb::from_verified_bytes(corrupt, "corrupt.mmdb")
        .expect("opening does not read the records")]);
    assert!(matches!(
        set.try_lookup(ip("89.160.20.1")),
        Err(Error::Lookup { .. })
    ));
    assert_eq!(set.lookup(ip("89.160.20.1")).geo, None);
    assert_eq!(set.lookup_errors(), 1);
    // The sound record beside it still answers.
    assert!(
        set.try_lookup(ip("81.2.69.1"))
            .expect("sound")
            .geo
            .is_some()
    );

    // The metadata checks stay: a build time after 9999 is refused either way.
    let mut w = builder_epoch("GeoLite2-ASN", 253_402_300_800);
    insert(&mut w, "89.160.20.0/24", asn(1, "x"));
    assert!(matches!(
        GeoDb::from_verified_bytes(bytes(&w), "later.mmdb"),
        Err(Error::InvalidMetadata { .. })
    ));
}

#[test]
fn duplicate_kinds_are_refused() {
    let mut w = writer("GeoIP2-City");
    insert(&mut w, "89.160.20.0/24", sweden());
    let city = open(&w, "city.mmdb");
    let mut w = writer("GeoLite2-Country");
    insert(
        &mut w,
        "89.160.20.0/24",
        m([("country", country("NO", &[("en", "Norway")]))]),
    );
    let country = open(&w, "country.mmdb");
    let mut w = writer("GeoLite2-ASN");
    insert(&mut w, "89.160.20.0/24", asn(29518, "Bredband2 AB"));
    let asn_db = open(&w, "asn.mmdb");
    let mut w = writer("GeoIP2-ISP");
    insert(&mut w, "89.160.20.0/24", asn(1, "ISP"));
    let isp = open(&w, "isp.mmdb");

    let mut set = GeoSet::new();
    assert!(set.is_empty());
    set.add(city).expect("first geo database");
    set.add(asn_db).expect("first ASN database");
    assert!(!set.is_empty());
    let before = set.lookup(ip("89.160.20.112")).to_owned_answer();

    let err = set.add(country).expect_err("a second geo database");
    match &err {
        Error::DuplicateKind {
            role,
            first,
            second,
        } => {
            assert_eq!(*role, Role::Geo);
            assert_eq!(first, "city.mmdb");
            assert_eq!(second, "country.mmdb");
        }
        other => panic!("expected DuplicateKind, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("city.mmdb") && msg.contains("country.mmdb"),
        "{msg}"
    );
    let err = set.add(isp).expect_err("a second ASN database");
    assert!(
        matches!(&err, Error::DuplicateKind { role: Role::Asn, first, second }
            if first == "asn.mmdb" && second == "isp.mmdb"),
        "{err:?}"
    );

    // The set is unchanged.
    assert_eq!(set.geo_db().map(GeoDb::source), Some("city.mmdb"));
    assert_eq!(set.asn_db().map(GeoDb::source), Some("asn.mmdb"));
    set.clear_cache();
    assert_eq!(set.lookup(ip("89.160.20.112")).to_owned_answer(), before);
    assert_eq!(before.geo.as_deref(), Some(SWEDEN_EN));
    assert_eq!(
        before.asn.as_deref(),
        Some(r#"{"number":29518,"organization":"Bredband2 AB"}"#)
    );
}

// ---------------------------------------------------------------------------
// The geo fragment

#[test]
fn full_city_record_renders_every_key_in_order() {
    let mut w = writer("GeoIP2-City");
    insert(&mut w, "89.160.20.0/24", sweden());
    let mut set = set_of([open(&w, "city.mmdb")]);
    let got = geo(&mut set, "89.160.20.112").expect("a geo answer");
    assert_eq!(got, SWEDEN_EN);
    // The same in every spelling of the address.
    for addr in ["89.160.20.0", "89.160.20.255", "::ffff:89.160.20.112"] {
        assert_eq!(geo(&mut set, addr).as_deref(), Some(SWEDEN_EN), "{addr}");
    }
    // Outside the network: nothing.
    assert_eq!(geo(&mut set, "89.160.21.0"), None);
    assert_eq!(set.lookup(ip("89.160.21.0")).asn, None);
    assert_eq!(set.lookup_errors(), 0);
}

#[test]
fn locale_selection_falls_back_to_english() {
    let mut w = writer("GeoIP2-City");
    insert(&mut w, "89.160.20.0/24", sweden());
    // Names in no locale the set asks for, nor in English.
    insert(
        &mut w,
        "81.2.69.0/24",
        m([
            ("country", country("GB", &[("fr", "Royaume-Uni")])),
            ("city", m([("names", names(&[("de", "London (de)")]))])),
        ]),
    );
    let mut set = set_of([open(&w, "city.mmdb")]);
    assert_eq!(set.locale(), "en");
    assert_eq!(geo(&mut set, "89.160.20.112").as_deref(), Some(SWEDEN_EN));
    // Changing the locale must not serve the cached English answer.
    set.set_locale("de");
    assert_eq!(set.locale(), "de");
    assert_eq!(geo(&mut set, "89.160.20.112").as_deref(), Some(SWEDEN_DE));
    set.set_locale("ja");
    assert_eq!(geo(&mut set, "89.160.20.112").as_deref(), Some(SWEDEN_JA));
    // A locale the database lacks: English throughout.
    set.set_locale("pt-BR");
    assert_eq!(geo(&mut set, "89.160.20.112").as_deref(), Some(SWEDEN_EN));
    // The empty locale means English.
    set.set_locale("ja");
    set.set_locale("");
    assert_eq!(set.locale(), "en");
    assert_eq!(geo(&mut set, "89.160.20.112").as_deref(), Some(SWEDEN_EN));

    // No English to fall back to: the name is left out.
    assert_eq!(
        geo(&mut set, "81.2.69.142").as_deref(),
        Some(r#"{"country_iso_code":"GB"}"#)
    );
    set.set_locale("de");
    assert_eq!(
        geo(&mut set, "81.2.69.142").as_deref(),
        Some(r#"{"country_iso_code":"GB","city_name":"London (de)"}"#)
    );
    set.set_locale("fr");
    assert_eq!(
        geo(&mut set, "81.2.69.142").as_deref(),
        Some(r#"{"country_iso_code":"GB","country_name":"Royaume-Uni"}"#)
    );
    assert_eq!(
        set.try_lookup(ip("81.2.69.142"))
            .expect("decodes")
            .geo
            .as_deref(),
        Some(r#"{"country_iso_code":"GB","country_name":"Royaume-Uni"}"#)
    );
}

#[test]
fn names_in_other_locales_are_not_decoded() {
    // A name that is not a string, in a locale nobody asks for.
    let mut w = writer("GeoIP2-City");
    insert(
        &mut w,
        "81.2.69.0/24",
        m([
            ("country", country("GB", &[("en", "United Kingdom")])),
            (
                "city",
                m([(
                    "names",
                    m([
                        ("en", s("London")),
                        ("de", s("London (de)")),
                        ("fr", Value::from(7_u32)),
                    ]),
                )]),
            ),
        ]),
    );
    let mut set = set_of([open(&w, "city.mmdb")]);
    for (locale, city) in [("en", "London"), ("de", "London (de)"), ("ja", "London")] {
        set.set_locale(locale);
        assert_eq!(
            geo(&mut set, "81.2.69.142").as_deref(),
            Some(format!(
                r#"{{"country_iso_code":"GB","country_name":"United Kingdom","city_name":"{city}"}}"#
            ))
            .as_deref(),
            "{locale}"
        );
        assert!(set.try_lookup(ip("81.2.69.142")).is_ok(), "{locale}");
    }
    assert_eq!(set.lookup_errors(), 0);
    // Asked for, the broken name fails the record as before.
    set.set_locale("fr");
    assert_eq!(geo(&mut set, "81.2.69.142"), None);
    assert_eq!(set.lookup_errors(), 1);
    assert!(set.try_lookup(ip("81.2.69.142")).is_err());
}

#[test]
fn registered_country_stands_in_for_a_missing_country() {
    let mut w = writer("GeoIP2-City");
    // No `country`: the registered country stands in, and the subdivision
    // (which would belong to `country`) gives no region.
    insert(
        &mut w,
        "2a02:d500::/29",
        m([
            ("continent", m([("code", s("EU"))])),
            (
                "registered_country",
                country("DE", &[("en", "Germany"), ("de", "Deutschland")]),
            ),
            (
                "subdivisions",
                Value::array([m([
                    ("iso_code", s("BY")),
                    ("names", names(&[("en", "Bavaria")])),
                ])]),
            ),
            ("city", m([("names", names(&[("en", "Munich")]))])),
            (
                "location",
                m([
                    ("latitude", Value::from(48.0)),
                    ("longitude", Value::from(11.5)),
                ]),
            ),
        ]),
    );
    // Both: `country` wins (MaxMind's Milton record is registered in GB).
    insert(
        &mut w,
        "216.160.83.56/29",
        m([
            ("country", country("US", &[("en", "United States")])),
            (
                "registered_country",
                country("GB", &[("en", "United Kingdom")]),
            ),
            (
                "subdivisions",
                Value::array([m([
                    ("iso_code", s("WA")),
                    ("names", names(&[("en", "Washington")])),
                ])]),
            ),
            ("city", m([("names", names(&[("en", "Milton")]))])),
        ]),
    );
    // Only a registered country.
    insert(
        &mut w,
        "67.43.156.0/24",
        m([("registered_country", country("BT", &[("en", "Bhutan")]))]),
    );
    let mut set = set_of([open(&w, "city.mmdb")]);
    assert_eq!(
        geo(&mut set, "2a02:d500::1").as_deref(),
        Some(
            r#"{"continent_code":"EU","country_iso_code":"DE","country_name":"Germany","city_name":"Munich","location":{"lat":48.0,"lon":11.5}}"#
        )
    );
    set.set_locale("de");
    assert_eq!(
        geo(&mut set, "2a02:d500::1").as_deref(),
        Some(
            r#"{"continent_code":"EU","country_iso_code":"DE","country_name":"Deutschland","city_name":"Munich","location":{"lat":48.0,"lon":11.5}}"#
        )
    );
    assert_eq!(
        geo(&mut set, "216.160.83.56").as_deref(),
        Some(
            r#"{"country_iso_code":"US","country_name":"United States","region_iso_code":"US-WA","region_name":"Washington","city_name":"Milton"}"#
        )
    );
    assert_eq!(
        geo(&mut set, "67.43.156.7").as_deref(),
        Some(r#"{"country_iso_code":"BT","country_name":"Bhutan"}"#)
    );
}

#[test]
fn only_present_keys_are_rendered() {
    let mut w = writer("GeoLite2-City");
    let cases: Vec<(&str, Value, Option<&str>)> = vec![
        (
            "1.0.0.0/24",
            m([("continent", m([("code", s("OC"))]))]),
            Some(r#"{"continent_code":"OC"}"#),
        ),
        // Subdivision without a code: a name but no region_iso_code.
        (
            "1.0.1.0/24",
            m([
                ("country", country("CN", &[("en", "China")])),
                (
                    "subdivisions",
                    Value::array([m([("names", names(&[("en", "Jilin Sheng")]))])]),
                ),
            ]),
            Some(r#"{"country_iso_code":"CN","country_name":"China","region_name":"Jilin Sheng"}"#),
        ),
        // Subdivision code but no country code: no region_iso_code.
        (
            "1.0.2.0/24",
            m([
                ("country", m([("names", names(&[("en", "China")]))])),
                ("subdivisions", Value::array([m([("iso_code", s("22"))])])),
            ]),
            Some(r#"{"country_name":"China"}"#),
        ),
        // Several subdivisions: the first (largest) one.
        (
            "1.0.3.0/24",
            m([
                ("country", country("GB", &[("en", "United Kingdom")])),
                (
                    "subdivisions",
                    Value::array([
                        m([
                            ("iso_code", s("ENG")),
                            ("names", names(&[("en", "England")])),
                        ]),
                        m([
                            ("iso_code", s("WBK")),
                            ("names", names(&[("en", "West Berkshire")])),
                        ]),
                    ]),
                ),
            ]),
            Some(
                r#"{"country_iso_code":"GB","country_name":"United Kingdom","region_iso_code":"GB-ENG","region_name":"England"}"#,
            ),
        ),
        // An empty subdivisions array.
        (
            "1.0.4.0/24",
            m([
                ("country", country("GB", &[("en", "United Kingdom")])),
                ("subdivisions", Value::array(Vec::<Value>::new())),
            ]),
            Some(r#"{"country_iso_code":"GB","country_name":"United Kingdom"}"#),
        ),
        // Location without coordinates; latitude without longitude.
        (
            "1.0.5.0/24",
            m([(
                "location",
                m([
                    ("time_zone", s("Asia/Tokyo")),
                    ("latitude", Value::from(35.0)),
                    ("accuracy_radius", Value::from(100_u16)),
                ]),
            )]),
            Some(r#"{"timezone":"Asia/Tokyo"}"#),
        ),
        (
            "1.0.6.0/24",
            m([("postal", m([("code", s("98354"))]))]),
            Some(r#"{"postal_code":"98354"}"#),
        ),
        (
            "1.0.7.0/24",
            city_named(&[("en", "Changchun")]),
            Some(r#"{"city_name":"Changchun"}"#),
        ),
        // Records with nothing the fragment shows: no fragment.
        ("1.0.8.0/24", m([]), None),
        (
            "1.0.9.0/24",
            m([
                ("traits", m([("is_anycast", Value::from(true))])),
                ("city", m([("geoname_id", Value::from(5_u32))])),
                ("location", m([("accuracy_radius", Value::from(5_u16))])),
            ]),
            None,
        ),
    ];
    for (network, record, _) in &cases {
        insert(&mut w, network, record.clone());
    }
    let mut set = set_of([open(&w, "city.mmdb")]);
    for (network, _, expected) in &cases {
        let addr = network.replace(".0/24", ".1");
        assert_eq!(geo(&mut set, &addr).as_deref(), *expected, "{network}");
    }
    assert_eq!(set.lookup_errors(), 0, "none of these is an error");
}

#[test]
fn country_database_gives_country_and_continent_only() {
    let mut w = writer("GeoIP2-Country");
    // A City-shaped record in a Country database: the extra parts are left out.
    insert(&mut w, "89.160.20.0/24", sweden());
    insert(
        &mut w,
        "67.43.156.0/24",
        m([
            ("continent", m([("code", s("AS"))])),
            ("registered_country", country("BT", &[("en", "Bhutan")])),
        ]),
    );
    let mut set = set_of([open(&w, "country.mmdb")]);
    assert_eq!(set.geo_db().map(GeoDb::kind), Some(DbKind::Country));
    assert_eq!(
        geo(&mut set, "89.160.20.112").as_deref(),
        Some(r#"{"continent_code":"EU","country_iso_code":"SE","country_name":"Sweden"}"#)
    );
    set.set_locale("ja");
    assert_eq!(
        geo(&mut set, "89.160.20.112").as_deref(),
        Some(
            r#"{"continent_code":"EU","country_iso_code":"SE","country_name":"スウェーデン王国"}"#
        )
    );
    assert_eq!(
        geo(&mut set, "67.43.156.1").as_deref(),
        Some(r#"{"continent_code":"AS","country_iso_code":"BT","country_name":"Bhutan"}"#)
    );
}

#[test]
fn location_numbers_print_as_serde_json_f64() {
    let mut w = writer("GeoLite2-City");
    let cases: [(&str, Value, Value, &str); 6] = [
        (
            "1.1.0.0/24",
            Value::from(0.0),
            Value::from(0.0),
            r#"{"lat":0.0,"lon":0.0}"#,
        ),
        (
            "1.1.1.0/24",
            Value::from(13.0),
            Value::from(122.0),
            r#"{"lat":13.0,"lon":122.0}"#,
        ),
        (
            "1.1.2.0/24",
            Value::from(51.5142),
            Value::from(-0.0931),
            r#"{"lat":51.5142,"lon":-0.0931}"#,
        ),
        (
            "1.1.3.0/24",
            Value::from(-33.494),
            Value::from(143.2104),
            r#"{"lat":-33.494,"lon":143.2104}"#,
        ),
        // Single precision, as some writers store it.
        (
            "1.1.4.0/24",
            Value::from(47.25_f32),
            Value::from(-122.5_f32),
            r#"{"lat":47.25,"lon":-122.5}"#,
        ),
        (
            "1.1.5.0/24",
            Value::from(-90.0),
            Value::from(180.0),
            r#"{"lat":-90.0,"lon":180.0}"#,
        ),
    ];
    for (network, lat, lon, _) in &cases {
        insert(
            &mut w,
            network,
            m([(
                "location",
                m([("latitude", lat.clone()), ("longitude", lon.clone())]),
            )]),
        );
    }
    let mut set = set_of([open(&w, "city.mmdb")]);
    for (network, _, _, location) in &cases {
        let addr = network.replace(".0/24", ".9");
        let want = format!(r#"{{"location":{location}}}"#);
        assert_eq!(geo(&mut set, &addr), Some(want), "{network}");
    }
}

// ---------------------------------------------------------------------------
// The as fragment

#[test]
fn asn_and_isp_fragments() {
    let mut w = writer("GeoLite2-ASN");
    insert(&mut w, "89.160.20.0/24", asn(29518, "Bredband2 AB"));
    insert(
        &mut w,
        "216.160.83.56/29",
        m([("autonomous_system_number", Value::from(209_u32))]),
    );
    insert(
        &mut w,
        "1.128.0.0/11",
        m([("autonomous_system_organization", s("Telstra Pty Ltd"))]),
    );
    // Other integer widths.
    insert(
        &mut w,
        "2.0.0.0/16",
        m([("autonomous_system_number", Value::from(7_u16))]),
    );
    insert(
        &mut w,
        "2.1.0.0/16",
        m([("autonomous_system_number", Value::from(4_200_000_000_u64))]),
    );
    insert(
        &mut w,
        "2.1.128.0/17",
        m([("autonomous_system_number", Value::U128(64_496))]),
    );
    insert(&mut w, "2.2.0.0/16", m([("network", s("2.2.0.0/16"))]));
    insert(&mut w, "2a02:cf40::/29", asn(4_294_967_295, "Max"));
    let mut set = set_of([open(&w, "asn.mmdb")]);
    for (addr, want) in [
        (
            "89.160.20.112",
            Some(r#"{"number":29518,"organization":"Bredband2 AB"}"#),
        ),
        ("216.160.83.56", Some(r#"{"number":209}"#)),
        ("1.128.0.0", Some(r#"{"organization":"Telstra Pty Ltd"}"#)),
        ("2.0.1.1", Some(r#"{"number":7}"#)),
        ("2.1.1.1", Some(r#"{"number":4200000000}"#)),
        ("2.1.128.1", Some(r#"{"number":64496}"#)),
        ("2.2.1.1", None),
        (
            "2a02:cf40::1",
            Some(r#"{"number":4294967295,"organization":"Max"}"#),
        ),
        ("2.3.0.1", None),
    ] {
        let answer = set.lookup(ip(addr));
        assert_eq!(answer.asn, want, "{addr}");
        assert_eq!(answer.geo, None, "{addr}: an ASN database gives no geo");
    }

    // An ISP database counts as ASN: the AS fields, not isp/organization.
    let mut w = writer("GeoIP2-ISP");
    insert(
        &mut w,
        "216.160.83.56/29",
        m([
            ("autonomous_system_number", Value::from(209_u32)),
            ("autonomous_system_organization", s("CenturyLink")),
            ("isp", s("Century Link")),
            ("organization", s("Lariat Software")),
        ]),
    );
    insert(
        &mut w,
        "1.0.128.0/17",
        m([
            ("isp", s("TOT Public Company Limited")),
            ("organization", s("TOT Public Company Limited")),
        ]),
    );
    let isp = open(&w, "isp.mmdb");
    assert_eq!(isp.kind(), DbKind::Asn);
    let mut set = set_of([isp]);
    assert_eq!(
        as_of(&mut set, "216.160.83.60").as_deref(),
        Some(r#"{"number":209,"organization":"CenturyLink"}"#)
    );
    assert_eq!(as_of(&mut set, "1.0.128.1"), None);
}

// ---------------------------------------------------------------------------
// Which addresses are looked up

/// Non-global blocks given data in the database, with an address in each.
const NOT_GLOBAL: &[(&str, &str)] = &[
    ("0.0.0.0/8", "0.1.2.3"),
    ("10.0.0.0/8", "10.1.2.3"),
    ("100.64.0.0/10", "100.64.1.1"),
    ("127.0.0.0/8", "127.0.0.1"),
    ("169.254.0.0/16", "169.254.169.254"),
    ("172.16.0.0/12", "172.31.255.254"),
    ("192.0.0.0/24", "192.0.0.8"),
    ("192.0.2.0/24", "192.0.2.1"),
    ("192.168.0.0/16", "192.168.1.1"),
    ("198.18.0.0/15", "198.19.0.1"),
    ("198.51.100.0/24", "198.51.100.7"),
    ("203.0.113.0/24", "203.0.113.9"),
    ("224.0.0.0/4", "224.0.0.251"),
    ("240.0.0.0/4", "255.255.255.255"),
    ("fe80::/10", "fe80::1"),
    ("fc00::/7", "fd00:ec2::254"),
    ("2001:db8::/32", "2001:db8::1"),
    ("3fff::/20", "3fff::1"),
    ("ff00::/8", "ff02::1"),
    ("64:ff9b:1::/48", "64:ff9b:1::1"),
];

#[test]
fn non_global_addresses_get_no_answer_even_with_data() {
    let decoy = |what: &str| {
        m([
            ("country", country("ZZ", &[("en", what)])),
            ("autonomous_system_number", Value::from(64_496_u32)),
        ])
    };
    let mut city = writer("GeoIP2-City");
    let mut asn_w = writer("GeoLite2-ASN");
    for (network, _) in NOT_GLOBAL {
        insert(&mut city, network, decoy(network));
        insert(&mut asn_w, network, decoy(network));
    }
    // Global exceptions inside those blocks, and a plain global network.
    let pcp = m([("country", country("PC", &[("en", "PCP anycast")]))]);
    insert(&mut city, "192.0.0.9/32", pcp.clone());
    insert(&mut city, "2001:1::1/128", pcp);
    insert(&mut city, "89.160.20.0/24", sweden());
    insert(&mut asn_w, "89.160.20.0/24", asn(29518, "Bredband2 AB"));
    let city_bytes = bytes(&city);

    // Proof that the database does answer for these addresses.
    let raw = maxminddb::Reader::from_source(city_bytes.clone()).expect("the raw reader opens it");
    let mut probes: Vec<&str> = NOT_GLOBAL.iter().map(|&(_, a)| a).collect();
    // Embedded non-global IPv4 addresses, reached through the writer's
    // IPv4 aliases (6to4 here) or the crate's own mapping.
    probes.extend(["::ffff:10.1.2.3", "2002:a01:203::1", "::1", "::10.1.2.3"]);
    for addr in &probes {
        let has = raw.lookup(ip(addr)).is_ok_and(|r| r.has_data());
        assert!(has, "{addr}: the test database should hold data for it");
        assert!(!geoip::is_global(ip(addr)), "{addr} is not global");
    }
    probes.extend(["64:ff9b::10.1.2.3", "64:ff9b::192.168.0.1"]);

    let mut set = set_of([
        GeoDb::from_bytes(city_bytes, "city.mmdb").expect("opens"),
        open(&asn_w, "asn.mmdb"),
    ]);
    for addr in &probes {
        assert_eq!(
            set.lookup(ip(addr)).to_owned_answer(),
            OwnedGeoAnswer::default(),
            "{addr}"
        );
        assert_eq!(
            set.try_lookup(ip(addr)).expect("no decode error"),
            OwnedGeoAnswer::default(),
            "{addr}"
        );
    }
    for addr in ["192.0.0.9", "2001:1::1"] {
        assert_eq!(
            geo(&mut set, addr).as_deref(),
            Some(r#"{"country_iso_code":"PC","country_name":"PCP anycast"}"#),
            "{addr} is global"
        );
    }
    assert_eq!(geo(&mut set, "89.160.20.112").as_deref(), Some(SWEDEN_EN));
    assert_eq!(
        as_of(&mut set, "89.160.20.112").as_deref(),
        Some(r#"{"number":29518,"organization":"Bredband2 AB"}"#)
    );
    assert_eq!(set.lookup_errors(), 0);
}

#[test]
fn mapped_and_nat64_addresses_are_looked_up_as_ipv4() {
    // No IPv4 aliases in the tree, and decoys where they would be: only
    // the crate's own mapping can find the IPv4 record.
    let mut w = Writer::builder("GeoIP2-City")
        .ipv4_aliasing(Ipv4Aliasing::Disabled)
        .description(DESCRIPTION)
        .build_epoch(UNIX_EPOCH)
        .build();
    insert(&mut w, "89.160.20.0/24", sweden());
    insert(
        &mut w,
        "::ffff:89.160.20.0/120",
        city_named(&[("en", "Decoy mapped")]),
    );
    insert(&mut w, "64:ff9b::/96", city_named(&[("en", "Decoy NAT64")]));
    let city_bytes = bytes(&w);
    let raw = maxminddb::Reader::from_source(city_bytes.clone()).expect("the raw reader opens it");
    for addr in ["::ffff:89.160.20.112", "64:ff9b::89.160.20.112"] {
        assert!(
            raw.lookup(ip(addr)).expect("lookup").has_data(),
            "{addr}: decoy expected"
        );
    }
    let mut set = set_of([GeoDb::from_bytes(city_bytes, "city.mmdb").expect("opens")]);
    for addr in [
        "89.160.20.112",
        "::ffff:89.160.20.112",
        "::ffff:59a0:1470",
        "64:ff9b::89.160.20.112",
        "64:ff9b::59a0:1470",
    ] {
        assert_eq!(geo(&mut set, addr).as_deref(), Some(SWEDEN_EN), "{addr}");
        assert_eq!(
            set.try_lookup(ip(addr)).expect("decodes").geo.as_deref(),
            Some(SWEDEN_EN),
            "{addr}"
        );
    }
    for addr in ["::ffff:10.0.0.1", "64:ff9b::a00:1", "::ffff:89.161.0.1"] {
        assert_eq!(geo(&mut set, addr), None, "{addr}");
    }

    // An IPv4-only database: IPv6 addresses find nothing (and no error),
    // mapped ones find their IPv4 record.
    let mut w = Writer::builder("GeoLite2-City")
        .ip_version(IpVersion::V4)
        .description(DESCRIPTION)
        .build_epoch(UNIX_EPOCH)
        .build();
    insert(&mut w, "89.160.20.0/24", sweden());
    let mut w_asn = Writer::builder("GeoLite2-ASN")
        .ip_version(IpVersion::V4)
        .description(DESCRIPTION)
        .build_epoch(UNIX_EPOCH)
        .build();
    insert(&mut w_asn, "89.160.20.0/24", asn(29518, "Bredband2 AB"));
    let mut set = set_of([open(&w, "v4.mmdb"), open(&w_asn, "v4-asn.mmdb")]);
    for addr in [
        "89.160.20.112",
        "::ffff:89.160.20.112",
        "64:ff9b::89.160.20.112",
    ] {
        assert_eq!(geo(&mut set, addr).as_deref(), Some(SWEDEN_EN), "{addr}");
        assert!(as_of(&mut set, addr).is_some(), "{addr}");
    }
    for addr in ["2a02:cf40::1", "2600:1f18::1"] {
        assert_eq!(
            set.lookup(ip(addr)).to_owned_answer(),
            OwnedGeoAnswer::default()
        );
        assert_eq!(
            set.try_lookup(ip(addr)).expect("no error"),
            OwnedGeoAnswer::default()
        );
    }
    assert_eq!(set.lookup_errors(), 0);
}

// ---------------------------------------------------------------------------
// The cache

#[test]
fn tiny_caches_keep_answers_correct() {
    // 512 IPv4 networks share 64 City records and 96 ASN records, as the
    // networks of one city or one autonomous system do; 256 IPv6 networks
    // have records of their own.
    let mut city = writer("GeoLite2-City");
    let mut asn_w = writer("GeoLite2-ASN");
    let mut cases: Vec<(IpAddr, OwnedGeoAnswer)> = Vec::new();
    for i in 0..512_u32 {
        let network = format!("{}.{}.0.0/16", 45 + i / 256, i % 256);
        let (c, a) = (i % 64, i % 96);
        insert(
            &mut city,
            &network,
            m([
                ("country", m([("iso_code", s("SE"))])),
                (
                    "city",
                    m([("names", names(&[("en", &format!("City {c}"))]))]),
                ),
            ]),
        );
        insert(&mut asn_w, &network, asn(64_512 + a, &format!("Org {a}")));
        let want = OwnedGeoAnswer {
            geo: Some(format!(
                r#"{{"country_iso_code":"SE","city_name":"City {c}"}}"#
            )),
            asn: Some(format!(
                r#"{{"number":{},"organization":"Org {a}"}}"#,
                64_512 + a
            )),
        };
        for host in ["0.1", "255.254"] {
            let addr = ip(&format!("{}.{}.{host}", 45 + i / 256, i % 256));
            cases.push((addr, want.clone()));
        }
        // The same IPv4 address written as IPv4-mapped.
        let mapped = ip(&format!("::ffff:{}.{}.7.7", 45 + i / 256, i % 256));
        cases.push((mapped, want));
    }
    for i in 0..256_u32 {
        let network = format!("2a00:{i:x}::/32");
        insert(
            &mut city,
            &network,
            city_named(&[("en", &format!("V6 City {i}"))]),
        );
        // Every other IPv6 network has no ASN.
        if i % 2 == 0 {
            insert(
                &mut asn_w,
                &network,
                m([("autonomous_system_number", Value::from(i))]),
            );
        }
        let want = OwnedGeoAnswer {
            geo: Some(format!(r#"{{"city_name":"V6 City {i}"}}"#)),
            asn: (i % 2 == 0).then(|| format!(r#"{{"number":{i}}}"#)),
        };
        cases.push((ip(&format!("2a00:{i:x}:1::1")), want.clone()));
        cases.push((ip(&format!("2a00:{i:x}:ffff::")), want));
    }
    for addr in [
        "47.0.0.1",
        "2a01::1",
        "10.45.0.1",
        "::ffff:10.45.0.1",
        "fe80::2d00:1",
    ] {
        cases.push((ip(addr), OwnedGeoAnswer::default()));
    }
    let distinct_records = (64 + 256) + (96 + 128);

    let mut set = set_of([open(&city, "city.mmdb"), open(&asn_w, "asn.mmdb")]);
    let mut rng = XorShift(0x9E37_79B9_7F4A_7C15);
    for record_slots in [1, 2, 8, 1 << 14] {
        set.set_record_cache_slots(record_slots);
        assert_eq!(set.record_cache_slots(), record_slots);
        for slots in [1, 2, 8, 4096] {
            set.set_cache_slots(slots);
            assert_eq!(set.cache_slots(), slots);
            for round in 0..3 {
                rng.shuffle(&mut cases);
                for (addr, want) in &cases {
                    let got = set.lookup(*addr).to_owned_answer();
                    let ctx = format!("{addr}, {slots} slots, {record_slots} record slots");
                    assert_eq!(&got, want, "{ctx}, round {round}");
                    // Straight again (a hit), and without the cache.
                    assert_eq!(&set.lookup(*addr).to_owned_answer(), want, "{ctx} again");
                    let uncached = set.try_lookup(*addr).expect("decodes");
                    assert_eq!(&uncached, want, "{ctx}: try_lookup");
                }
            }
        }
    }
    assert_eq!(set.lookup_errors(), 0);

    // With room for every record, each is decoded once however the
    // addresses come, even with a single address slot.
    let mut set = set_of([open(&city, "city.mmdb"), open(&asn_w, "asn.mmdb")]);
    set.set_cache_slots(1);
    for round in 0..3 {
        rng.shuffle(&mut cases);
        for (addr, want) in &cases {
            assert_eq!(&set.lookup(*addr).to_owned_answer(), want, "{addr}");
        }
        assert_eq!(set.records_decoded(), distinct_records, "round {round}");
    }
    // A new locale renders every record again.
    set.set_locale("de");
    for (addr, want) in &cases {
        assert_eq!(&set.lookup(*addr).to_owned_answer(), want, "{addr}, de");
    }
    assert_eq!(set.records_decoded(), 2 * distinct_records);
}

#[test]
fn adding_a_database_refreshes_cached_answers() {
    let mut w = writer("GeoIP2-City");
    insert(&mut w, "89.160.20.0/24", sweden());
    let mut w_asn = writer("GeoLite2-ASN");
    insert(&mut w_asn, "89.160.20.0/24", asn(29518, "Bredband2 AB"));
    let mut set = GeoSet::new();
    assert_eq!(set.lookup(ip("89.160.20.112")), Default::default());
    set.add(open(&w, "city.mmdb")).expect("geo");
    let first = set.lookup(ip("89.160.20.112")).to_owned_answer();
    assert_eq!(first.geo.as_deref(), Some(SWEDEN_EN));
    assert_eq!(first.asn, None);
    set.add(open(&w_asn, "asn.mmdb")).expect("asn");
    let second = set.lookup(ip("89.160.20.112")).to_owned_answer();
    assert_eq!(second.geo.as_deref(), Some(SWEDEN_EN));
    assert_eq!(
        second.asn.as_deref(),
        Some(r#"{"number":29518,"organization":"Bredband2 AB"}"#)
    );
}

// ---------------------------------------------------------------------------
// Escaping and decode errors

#[test]
fn names_are_json_escaped() {
    let tricky_city = "Say \"hi\" \\ o/";
    let tricky_country = "Tab\there\nnew\u{1}line\u{7f}";
    let tricky_region = "Zürich 東京 😀 \u{2028}";
    let tricky_tz = "x\u{8}\u{c}\r\u{0}\u{1f}y";
    let tricky_org = "Foo \"Bar\" \\ Baz";
    let mut w = writer("GeoIP2-City");
    insert(
        &mut w,
        "89.160.20.0/24",
        m([
            ("country", country("SE", &[("en", tricky_country)])),
            (
                "subdivisions",
                Value::array([m([
                    ("iso_code", s("E\"")),
                    ("names", names(&[("en", tricky_region)])),
                ])]),
            ),
            ("city", m([("names", names(&[("en", tricky_city)]))])),
            ("location", m([("time_zone", s(tricky_tz))])),
            ("postal", m([("code", s("A\"1"))])),
        ]),
    );
    let mut w_asn = writer("GeoLite2-ASN");
    insert(&mut w_asn, "89.160.20.0/24", asn(1, tricky_org));
    let mut set = set_of([open(&w, "city.mmdb"), open(&w_asn, "asn.mmdb")]);
    let answer = set.lookup(ip("89.160.20.1")).to_owned_answer();
    let want = concat!(
        r#"{"country_iso_code":"SE","country_name":"Tab\there\nnew\u0001line"#,
        "\u{7f}",
        r#"","region_iso_code":"SE-E\"","region_name":"Zürich 東京 😀 "#,
        "\u{2028}",
        r#"","city_name":"Say \"hi\" \\ o/","postal_code":"A\"1","timezone":"x\b\f\r\u0000\u001fy"}"#,
    );
    let geo = answer.geo.expect("geo");
    assert_eq!(geo, want);
    let map = parse_object("escaped geo", &geo);
    assert_eq!(map["country_name"], tricky_country);
    assert_eq!(map["region_name"], tricky_region);
    assert_eq!(map["region_iso_code"], "SE-E\"");
    assert_eq!(map["city_name"], tricky_city);
    assert_eq!(map["timezone"], tricky_tz);
    assert_eq!(
        top_level_keys(&geo),
        [
            "country_iso_code",
            "country_name",
            "region_iso_code",
            "region_name",
            "city_name",
            "postal_code",
            "timezone"
        ]
    );
    let asn_json = answer.asn.expect("as");
    assert_eq!(
        asn_json,
        r#"{"number":1,"organization":"Foo \"Bar\" \\ Baz"}"#
    );
    assert_eq!(
        parse_object("escaped as", &asn_json)["organization"],
        tricky_org
    );
}

#[test]
fn undecodable_records_are_counted_or_reported() {
    let mut w = writer("GeoIP2-City");
    insert(&mut w, "89.160.20.0/24", sweden());
    // Valid MaxMind DB data, but not what the crate's records expect.
    insert(
        &mut w,
        "1.2.3.0/24",
        m([("city", m([("names", m([("en", Value::from(5_u32))]))]))]),
    );
    insert(
        &mut w,
        "1.2.4.0/24",
        m([("location", m([("latitude", s("north"))]))]),
    );
    // A record that is not a map at all.
    insert(&mut w, "1.2.6.0/24", s("just a string"));
    let mut w_asn = writer("GeoLite2-ASN");
    insert(&mut w_asn, "1.2.3.0/24", asn(7, "fine"));
    insert(
        &mut w_asn,
        "1.2.5.0/24",
        m([("autonomous_system_number", s("AS7"))]),
    );
    let mut set = set_of([open(&w, "bad.mmdb"), open(&w_asn, "asn.mmdb")]);

    // lookup: the broken part is absent and counted, the rest answered.
    let answer = set.lookup(ip("1.2.3.4")).to_owned_answer();
    assert_eq!(answer.geo, None);
    assert_eq!(
        answer.asn.as_deref(),
        Some(r#"{"number":7,"organization":"fine"}"#)
    );
    assert_eq!(set.lookup_errors(), 1);
    // Cached: not decoded (nor counted) again.
    let _ = set.lookup(ip("1.2.3.4"));
    assert_eq!(set.lookup_errors(), 1);
    let _ = set.lookup(ip("::ffff:1.2.4.4"));
    assert_eq!(set.lookup_errors(), 2);
    let answer = set.lookup(ip("1.2.5.5")).to_owned_answer();
    assert_eq!(answer, OwnedGeoAnswer::default());
    assert_eq!(set.lookup_errors(), 3);
    let _ = set.lookup(ip("1.2.6.6"));
    assert_eq!(set.lookup_errors(), 4);
    // Good records are unaffected.
    assert_eq!(geo(&mut set, "89.160.20.112").as_deref(), Some(SWEDEN_EN));
    assert_eq!(set.lookup_errors(), 4);

    // try_lookup: an error naming the database and the looked-up address.
    for (addr, db_name, looked_up) in [
        ("1.2.3.4", "bad.mmdb", "1.2.3.4"),
        ("::ffff:1.2.4.4", "bad.mmdb", "1.2.4.4"),
        ("64:ff9b::102:505", "asn.mmdb", "1.2.5.5"),
    ] {
        let err = set.try_lookup(ip(addr)).expect_err(addr);
        match &err {
            Error::Lookup { db, ip: at, .. } => {
                assert_eq!(db, db_name, "{addr}");
                assert_eq!(*at, ip(looked_up), "{addr}");
            }
            other => panic!("{addr}: expected Lookup, got {other:?}"),
        }
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("{db_name}: ")), "{msg}");
        assert!(msg.contains(looked_up), "{msg}");
    }
}
