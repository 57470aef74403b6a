//! Small GeoIP City and ASN databases written by the tests (no binary
//! fixtures in the repository). The networks and values are made up for the
//! golden files: the addresses in `tests/golden/enriched.log` get answers,
//! and so does `10.0.0.0/8`, to show that private addresses are never
//! looked up.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use ipnet::IpNet;
use mmdb_writer::Writer;
use serde::Serialize;

/// 2026-11-01T00:00:00Z, so the databases are the same on every run.
const BUILD_EPOCH: u64 = 1_793_491_200;

type Names = BTreeMap<&'static str, &'static str>;

#[derive(Serialize)]
struct Code {
    code: &'static str,
}

#[derive(Serialize)]
struct Country {
    iso_code: &'static str,
    names: Names,
}

#[derive(Serialize)]
struct Subdivision {
    iso_code: &'static str,
    names: Names,
}

#[derive(Serialize)]
struct Place {
    names: Names,
}

#[derive(Serialize)]
struct Location {
    latitude: f64,
    longitude: f64,
    time_zone: &'static str,
    accuracy_radius: u16,
}

#[derive(Serialize)]
struct Postal {
    code: &'static str,
}

#[derive(Serialize)]
struct City {
    continent: Code,
    country: Country,
    registered_country: Country,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    subdivisions: Vec<Subdivision>,
    #[serde(skip_serializing_if = "Option::is_none")]
    city: Option<Place>,
    location: Location,
    #[serde(skip_serializing_if = "Option::is_none")]
    postal: Option<Postal>,
}

#[derive(Serialize)]
struct Asn {
    autonomous_system_number: u32,
    autonomous_system_organization: &'static str,
}

fn names(pairs: &[(&'static str, &'static str)]) -> Names {
    pairs.iter().copied().collect()
}

fn united_states() -> Country {
    Country {
        iso_code: "US",
        names: names(&[("en", "United States"), ("de", "Vereinigte Staaten")]),
    }
}

fn sweden() -> Country {
    Country {
        iso_code: "SE",
        names: names(&[("en", "Sweden"), ("de", "Schweden")]),
    }
}

fn ashburn() -> City {
    City {
        continent: Code { code: "NA" },
        country: united_states(),
        registered_country: united_states(),
        subdivisions: vec![Subdivision {
            iso_code: "VA",
            names: names(&[("en", "Virginia")]),
        }],
        city: Some(Place {
            names: names(&[("en", "Ashburn")]),
        }),
        location: Location {
            latitude: 39.0469,
            longitude: -77.4903,
            time_zone: "America/New_York",
            accuracy_radius: 20,
        },
        postal: Some(Postal { code: "20149" }),
    }
}

fn us_country_level() -> City {
    City {
        continent: Code { code: "NA" },
        country: united_states(),
        registered_country: united_states(),
        subdivisions: Vec::new(),
        city: None,
        location: Location {
            latitude: 37.751,
            longitude: -97.822,
            time_zone: "America/Chicago",
            accuracy_radius: 1000,
        },
        postal: None,
    }
}

fn linkoping() -> City {
    City {
        continent: Code { code: "EU" },
        country: sweden(),
        registered_country: sweden(),
        subdivisions: vec![Subdivision {
            iso_code: "E",
            names: names(&[("en", "Östergötland County"), ("de", "Östergötlands län")]),
        }],
        city: Some(Place {
            names: names(&[("en", "Linköping")]),
        }),
        location: Location {
            latitude: 58.4167,
            longitude: 15.6167,
            time_zone: "Europe/Stockholm",
            accuracy_radius: 76,
        },
        postal: Some(Postal { code: "582 24" }),
    }
}

fn net(text: &str) -> IpNet {
    text.parse().expect("a valid network")
}

fn writer(database_type: &str) -> Writer {
    Writer::builder(database_type)
        .description(&[("en", "flowtag test database")])
        .build_epoch(SystemTime::UNIX_EPOCH + Duration::from_secs(BUILD_EPOCH))
        .build()
}

fn write(path: &Path, writer: &Writer) {
    let bytes = writer.to_bytes().expect("the database serializes");
    std::fs::write(path, bytes).expect("the database is written");
}

fn generate(dir: &Path) {
    std::fs::create_dir_all(dir).expect("the database directory is created");
    let mut city = writer("GeoIP2-City");
    for (network, record) in [
        ("52.95.110.0/24", ashburn()),
        ("54.80.0.0/13", us_country_level()),
        ("2600:1f18::/32", us_country_level()),
        ("89.160.20.112/28", linkoping()),
        ("10.0.0.0/8", linkoping()),
    ] {
        city.insert(net(network), &record).expect("a City record");
    }
    write(&dir.join("City.mmdb"), &city);

    let mut asn = writer("GeoLite2-ASN");
    for (network, number, organization) in [
        ("52.95.110.0/24", 16509, "AMAZON-02"),
        ("54.80.0.0/13", 14618, "AMAZON-AES"),
        ("2600:1f18::/32", 14618, "AMAZON-AES"),
        ("89.160.0.0/17", 29518, "Bredband2 AB"),
        ("10.0.0.0/8", 64512, "private use"),
    ] {
        let record = Asn {
            autonomous_system_number: number,
            autonomous_system_organization: organization,
        };
        asn.insert(net(network), &record).expect("an ASN record");
    }
    write(&dir.join("ASN.mmdb"), &asn);
}

/// The directory holding `City.mmdb` and `ASN.mmdb`, written once per run.
pub fn generated_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = crate::scratch("generated-mmdb");
        generate(&dir);
        dir
    })
}
