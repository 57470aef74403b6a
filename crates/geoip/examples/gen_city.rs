//! Generates a full-size, realistic GeoIP2-City database and a GeoLite2-ASN
//! database for benchmarks, checks them, and with `--bench` measures
//! lookups through a [`GeoSet`].
//!
//! ```text
//! cargo run --release -p geoip --example gen_city -- CITY.mmdb ASN.mmdb \
//!     [--v4 N] [--v6 N] [--records N] [--asn-v4 N] [--asn-v6 N] \
//!     [--seed S] [--bench LOOKUPS] [--no-check]
//! ```
//!
//! Defaults: 1,500,000 IPv4 and 500,000 IPv6 City networks over 300,000
//! distinct records, and 400,000 IPv4 and 100,000 IPv6 ASN networks over
//! 60,000 autonomous systems.
//!
//! The City data: MaxMind's 7 continents, 240 countries, about 1,700
//! subdivisions and 6,000 cities, names in 2 to 8 locales (MaxMind's
//! eight, in Latin, Cyrillic, kana and CJK script), time zones, postal
//! codes, coordinates with jitter, accuracy radii and metro codes; some
//! records have a second subdivision, a registered country other than the
//! country, only a country, or only a registered country. IPv4 networks
//! (`/12` to `/32`) tile the public space with gaps; IPv6 ones (`/32` to
//! `/64`) sit in random `/32` allocations of the RIR blocks. The IPv4
//! subtree is aliased from `::ffff:0:0/96` and `2002::/16`, as in MaxMind's
//! files.
//!
//! The files are written by a compact encoder here rather than by
//! `mmdb-writer`, whose value pool keeps two or three owned copies of every
//! distinct record (several GB at this size). As MaxMind's writer does,
//! each continent, country, subdivision and city is stored once and
//! records point to it, and strings of 4 bytes or more are stored once.
//!
//! Everything comes from one xorshift generator and the build time is
//! fixed, so a seed always gives the same bytes (see the printed FNV-1a
//! hash). Unless `--no-check`, both files are then opened with
//! [`GeoDb::from_bytes`] (timed: the reader's open, its verification, and
//! the whole), and 20,000 random networks are decoded back with the reader
//! and compared with the records they were given.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Instant;

use geoip::{GeoDb, GeoSet, is_global};
use serde_json::{Map, Value as Json, json};

type Result<T> = std::result::Result<T, Box<dyn StdError>>;

/// 2026-01-01T00:00:00Z: a fixed build time keeps the output reproducible.
const BUILD_EPOCH: u64 = 1_767_225_600;

/// MaxMind's locales, English first.
const LOCALES: [&str; 8] = ["en", "de", "es", "fr", "ja", "pt-BR", "ru", "zh-CN"];

/// Continents: code and names in [`LOCALES`] order.
#[rustfmt::skip]
const CONTINENTS: [(&str, [&str; 8]); 7] = [
    ("AF", ["Africa", "Afrika", "África", "Afrique", "アフリカ", "África", "Африка", "非洲"]),
    ("AN", ["Antarctica", "Antarktis", "Antártida", "Antarctique", "南極大陸", "Antártica", "Антарктида", "南极洲"]),
    ("AS", ["Asia", "Asien", "Asia", "Asie", "アジア", "Ásia", "Азия", "亚洲"]),
    ("EU", ["Europe", "Europa", "Europa", "Europe", "ヨーロッパ", "Europa", "Европа", "欧洲"]),
    ("NA", ["North America", "Nordamerika", "Norteamérica", "Amérique du Nord", "北アメリカ", "América do Norte", "Северная Америка", "北美洲"]),
    ("OC", ["Oceania", "Ozeanien", "Oceanía", "Océanie", "オセアニア", "Oceania", "Океания", "大洋洲"]),
    ("SA", ["South America", "Südamerika", "Sudamérica", "Amérique du Sud", "南アメリカ", "América do Sul", "Южная Америка", "南美洲"]),
];

/// Time zones per continent, in [`CONTINENTS`] order.
#[rustfmt::skip]
const TIME_ZONES: [&[&str]; 7] = [
    &["Africa/Cairo", "Africa/Lagos", "Africa/Nairobi", "Africa/Johannesburg", "Africa/Casablanca", "Africa/Accra", "Africa/Algiers", "Africa/Kinshasa"],
    &["Antarctica/McMurdo", "Antarctica/Casey", "Antarctica/Troll"],
    &["Asia/Tokyo", "Asia/Shanghai", "Asia/Kolkata", "Asia/Singapore", "Asia/Dubai", "Asia/Seoul", "Asia/Jakarta", "Asia/Manila", "Asia/Bangkok", "Asia/Karachi", "Asia/Thimphu", "Asia/Harbin"],
    &["Europe/London", "Europe/Stockholm", "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Rome", "Europe/Warsaw", "Europe/Oslo", "Europe/Vaduz", "Europe/Kyiv", "Europe/Lisbon", "Europe/Helsinki"],
    &["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Toronto", "America/Mexico_City", "America/Anchorage", "America/Phoenix", "America/Halifax"],
    &["Australia/Sydney", "Australia/Perth", "Australia/Adelaide", "Pacific/Auckland", "Pacific/Fiji", "Pacific/Port_Moresby"],
    &["America/Sao_Paulo", "America/Buenos_Aires", "America/Bogota", "America/Lima", "America/Santiago", "America/Caracas"],
];

/// Rough centres (lat, lon) of the continents, for coordinates.
const CENTRES: [(f64, f64); 7] = [
    (5.0, 20.0),
    (-80.0, 0.0),
    (30.0, 100.0),
    (50.0, 10.0),
    (40.0, -100.0),
    (-25.0, 140.0),
    (-15.0, -60.0),
];

#[rustfmt::skip]
const SYLLABLES: [&str; 40] = [
    "ka", "lo", "ri", "na", "to", "mi", "sa", "ve", "dor", "lin", "ko", "ping", "berg", "ster",
    "ma", "ra", "ta", "bel", "an", "es", "vik", "holm", "ga", "no", "su", "ze", "quo", "pol",
    "mar", "ten", "dal", "rio", "chu", "yan", "bo", "ul", "fen", "gor", "ish", "wa",
];

/// xorshift64*.
#[derive(Debug)]
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform index into a collection of `n > 0` items.
    fn index(&mut self, n: usize) -> usize {
        // usize is at most 64 bits, and the result is below n.
        self.below(n as u64) as usize
    }

    /// Uniform in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }

    fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Skewed towards 0: a few items are picked very often, as big cities
    /// and big networks are.
    fn skewed(&mut self, n: usize) -> usize {
        let u = self.unit();
        ((u * u * u) * n as f64) as usize % n
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }
}

// ---------------------------------------------------------------------------
// Names

fn latin_name(rng: &mut Rng, min: u64, max: u64) -> String {
    let n = min + rng.below(max - min + 1);
    let mut s = String::new();
    for _ in 0..n {
        let syllable = *rng.pick(&SYLLABLES[..]);
        s.push_str(syllable);
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => s,
    }
}

/// The name in `locale`, derived from the English one so that locales
/// differ in script and length as real ones do.
fn localize(en: &str, locale: &str, seed: u64) -> String {
    match locale {
        "de" => en.replace('c', "k").replace('v', "w"),
        "es" => en.replace("ng", "ñ"),
        "fr" => format!("{en}e").replace('o', "ô"),
        "pt-BR" => en.replace("an", "ã").replace("es", "ês"),
        "ja" => en
            .chars()
            .filter(char::is_ascii_alphabetic)
            .map(|c| {
                let k = (u32::from(c) * 7 + (seed % 5) as u32) % 80;
                char::from_u32(0x30A2 + k).unwrap_or('ア')
            })
            .collect(),
        "ru" => en
            .chars()
            .map(|c| {
                let lower = c.to_ascii_lowercase();
                if !lower.is_ascii_lowercase() {
                    return c;
                }
                let cyr = char::from_u32(0x0430 + (u32::from(lower) - u32::from('a')) % 32)
                    .unwrap_or('а');
                if c.is_ascii_uppercase() {
                    cyr.to_uppercase().next().unwrap_or(cyr)
                } else {
                    cyr
                }
            })
            .collect(),
        "zh-CN" => {
            let mut h = seed ^ 0x9E37_79B9;
            (0..2 + seed % 2)
                .map(|_| {
                    h = h.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    char::from_u32(0x4E00 + ((h >> 33) % 0x5000) as u32).unwrap_or('中')
                })
                .collect()
        }
        _ => en.to_owned(),
    }
}

/// A `names` map: English plus `extra` (0 to 7) other locales.
fn names(rng: &mut Rng, en: &str, extra: usize) -> Json {
    let seed = rng.next();
    let mut others: Vec<&str> = LOCALES[1..].to_vec();
    let extra = extra.min(others.len());
    // Partial Fisher–Yates: the first `extra` are a random subset.
    for i in 0..extra {
        let j = i + rng.index(others.len() - i);
        others.swap(i, j);
    }
    let mut map = Map::new();
    map.insert("en".to_owned(), Json::from(en));
    for locale in &others[..extra] {
        map.insert((*locale).to_owned(), Json::from(localize(en, locale, seed)));
    }
    Json::Object(map)
}

// ---------------------------------------------------------------------------
// Places and records

/// Continents, countries, subdivisions and cities, each as the JSON of its
/// MaxMind DB map.
#[derive(Debug, Default)]
struct Places {
    continents: Vec<Json>,
    countries: Vec<Country>,
    subdivisions: Vec<Subdivision>,
    cities: Vec<City>,
}

#[derive(Debug)]
struct Country {
    json: Json,
    continent: usize,
    zones: Vec<&'static str>,
    /// Postal codes: 0 none, 4 to 6 digits, or -1 for `A9A9`.
    postal: i8,
    /// Range of its subdivisions in [`Places::subdivisions`].
    subdivisions: std::ops::Range<usize>,
}

#[derive(Debug)]
struct Subdivision {
    json: Json,
    country: usize,
}

#[derive(Debug)]
struct City {
    json: Json,
    subdivision: usize,
    lat: f64,
    lon: f64,
    zone: &'static str,
}

fn places(rng: &mut Rng, countries: usize) -> Places {
    let mut p = Places::default();
    let mut id = 1_000_000_u32;
    let mut next_id = || {
        id += 1;
        id
    };
    for (code, localized) in CONTINENTS {
        let names: Map<String, Json> = LOCALES
            .iter()
            .zip(localized)
            .map(|(l, n)| ((*l).to_owned(), Json::from(n)))
            .collect();
        p.continents
            .push(json!({"code": code, "geoname_id": next_id(), "names": names}));
    }
    let mut codes: Vec<String> = (b'A'..=b'Z')
        .flat_map(|a| (b'A'..=b'Z').map(move |b| String::from_utf8_lossy(&[a, b]).into_owned()))
        .collect();
    for i in 0..countries.min(codes.len()) {
        let j = i + rng.index(codes.len() - i);
        codes.swap(i, j);
    }
    for code in codes.into_iter().take(countries) {
        // Antarctica is rare.
        let continent = loop {
            let c = rng.index(CONTINENTS.len());
            if c != 1 || rng.chance(0.05) {
                break c;
            }
        };
        let en = latin_name(rng, 2, 4);
        let extra = 4 + rng.index(4);
        let mut json =
            json!({"geoname_id": next_id(), "iso_code": code, "names": names(rng, &en, extra)});
        if continent == 3 && rng.chance(0.4) {
            json["is_in_european_union"] = Json::from(true);
        }
        let zones: Vec<&'static str> = (0..1 + rng.index(3))
            .map(|_| *rng.pick(TIME_ZONES[continent]))
            .collect();
        let postal = match rng.below(10) {
            0 | 1 => 0,
            2 => -1,
            _ => 4 + rng.below(3) as i8,
        };
        let country = p.countries.len();
        let first_sub = p.subdivisions.len();
        for s in 0..1 + rng.skewed(24) {
            let sub_code = if rng.chance(0.5) {
                format!("{}", s + 1)
            } else {
                latin_name(rng, 1, 1).to_uppercase()
            };
            let sub_en = latin_name(rng, 2, 3);
            let sub_extra = 1 + rng.index(5);
            let subdivision = p.subdivisions.len();
            p.subdivisions.push(Subdivision {
                json: json!({"geoname_id": next_id(), "iso_code": sub_code, "names": names(rng, &sub_en, sub_extra)}),
                country,
            });
            let (clat, clon) = CENTRES[continent];
            for _ in 0..1 + rng.skewed(12) {
                let city_en = match rng.below(12) {
                    0 => format!("Port {}", latin_name(rng, 1, 2)),
                    1 => format!("San {}", latin_name(rng, 1, 2)),
                    2 => format!("{} City", latin_name(rng, 1, 2)),
                    _ => latin_name(rng, 1, 3),
                };
                let city_extra = 1 + rng.index(7);
                let zone = *rng.pick(&zones);
                p.cities.push(City {
                    json: json!({"geoname_id": next_id(), "names": names(rng, &city_en, city_extra)}),
                    subdivision,
                    lat: (clat + (rng.unit() - 0.5) * 40.0).clamp(-89.0, 89.0),
                    lon: (clon + (rng.unit() - 0.5) * 60.0 + 180.0).rem_euclid(360.0) - 180.0,
                    zone,
                });
            }
        }
        p.countries.push(Country {
            json,
            continent,
            zones,
            postal,
            subdivisions: first_sub..p.subdivisions.len(),
        });
    }
    p
}

/// One distinct City record, by reference to [`Places`].
#[derive(Debug)]
struct CityRecord {
    continent: usize,
    /// `None`: only a registered country.
    country: Option<usize>,
    registered_country: usize,
    /// First and second subdivision; none for a country-level record.
    subdivisions: Vec<usize>,
    city: Option<usize>,
    accuracy_radius: u16,
    latitude: f64,
    longitude: f64,
    time_zone: &'static str,
    metro_code: Option<u16>,
    postal: Option<String>,
    anycast: bool,
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

fn postal_code(rng: &mut Rng, format: i8) -> Option<String> {
    match format {
        0 => None,
        f if f < 0 => Some(format!(
            "{}{}{}{}",
            char::from(b'A' + rng.below(26) as u8),
            rng.below(10),
            char::from(b'A' + rng.below(26) as u8),
            rng.below(10)
        )),
        digits => {
            let width = usize::from(digits.unsigned_abs());
            let max = 10_u64.pow(u32::from(digits.unsigned_abs()));
            Some(format!("{:0width$}", rng.below(max)))
        }
    }
}

fn city_records(rng: &mut Rng, p: &Places, count: usize) -> Vec<CityRecord> {
    (0..count)
        .map(|_| {
            let c = rng.skewed(p.cities.len());
            let city = &p.cities[c];
            let s = city.subdivision;
            let country_idx = p.subdivisions[s].country;
            let country = &p.countries[country_idx];
            let registered_country = if rng.chance(0.08) {
                rng.index(p.countries.len())
            } else {
                country_idx
            };
            let mut r = CityRecord {
                continent: country.continent,
                country: Some(country_idx),
                registered_country,
                subdivisions: vec![s],
                city: Some(c),
                accuracy_radius: *rng.pick(&[1, 5, 10, 20, 50, 100, 200, 500, 1000]),
                latitude: round4(city.lat + (rng.unit() - 0.5) * 0.5),
                longitude: round4(city.lon + (rng.unit() - 0.5) * 0.5),
                time_zone: city.zone,
                metro_code: (country.continent == 4 && rng.chance(0.3))
                    .then(|| 500 + rng.below(400) as u16),
                postal: None,
                anycast: rng.chance(0.002),
            };
            if rng.chance(0.1) {
                let range = country.subdivisions.clone();
                r.subdivisions.push(range.start + rng.index(range.len()));
            }
            if rng.chance(0.7) {
                r.postal = postal_code(rng, country.postal);
            }
            // Some records know only the country, a few only the
            // registered country.
            if rng.chance(0.04) {
                r.subdivisions.clear();
                r.city = None;
                r.postal = None;
                r.time_zone = *rng.pick(&country.zones);
                if rng.chance(0.12) {
                    r.country = None;
                }
            }
            r
        })
        .collect()
}

impl CityRecord {
    /// The record as JSON, as the reader decodes it.
    fn to_json(&self, p: &Places) -> Json {
        let mut location = json!({
            "accuracy_radius": self.accuracy_radius,
            "latitude": self.latitude,
            "longitude": self.longitude,
            "time_zone": self.time_zone,
        });
        if let Some(metro) = self.metro_code {
            location["metro_code"] = Json::from(metro);
        }
        let mut map = json!({
            "continent": p.continents[self.continent],
            "registered_country": p.countries[self.registered_country].json,
            "location": location,
        });
        if let Some(c) = self.country {
            map["country"] = p.countries[c].json.clone();
        }
        if !self.subdivisions.is_empty() {
            let subs: Vec<Json> = self
                .subdivisions
                .iter()
                .map(|&s| p.subdivisions[s].json.clone())
                .collect();
            map["subdivisions"] = Json::from(subs);
        }
        if let Some(c) = self.city {
            map["city"] = p.cities[c].json.clone();
        }
        if let Some(code) = &self.postal {
            map["postal"] = json!({ "code": code });
        }
        if self.anycast {
            map["traits"] = json!({"is_anycast": true});
        }
        map
    }
}

/// One distinct ASN record.
#[derive(Debug)]
struct AsnRecord {
    number: u32,
    organization: Option<String>,
}

fn asn_records(rng: &mut Rng, count: usize) -> Vec<AsnRecord> {
    const SUFFIXES: [&str; 10] = [
        " Ltd",
        " Inc.",
        " GmbH",
        " S.A.",
        " AB",
        " Telecom",
        " Networks",
        " LLC",
        " K.K.",
        "",
    ];
    (0..count)
        .map(|i| {
            let number = if rng.chance(0.1) {
                4_200_000_000 + rng.below(94_967_295) as u32
            } else {
                1 + rng.below(400_000) as u32
            };
            let organization = (!rng.chance(0.1)).then(|| {
                let org = latin_name(rng, 2, 4) + *rng.pick(&SUFFIXES[..]);
                match i % 50 {
                    0 => format!("\"{org}\" Holdings"),
                    1 => format!("{org} Telekomünikasyon"),
                    _ => org,
                }
            });
            AsnRecord {
                number,
                organization,
            }
        })
        .collect()
}

impl AsnRecord {
    fn to_json(&self) -> Json {
        let mut map = json!({ "autonomous_system_number": self.number });
        if let Some(org) = &self.organization {
            map["autonomous_system_organization"] = Json::from(org.as_str());
        }
        map
    }
}

// ---------------------------------------------------------------------------
// The MaxMind DB encoding

/// A MaxMind DB data section under construction. Strings of 4 bytes or
/// more are written once and pointed to afterwards.
#[derive(Debug, Default)]
struct Data {
    bytes: Vec<u8>,
    strings: HashMap<String, u32>,
    /// No pointers (the metadata section).
    plain: bool,
}

impl Data {
    fn offset(&self) -> Result<u32> {
        Ok(u32::try_from(self.bytes.len())?)
    }

    /// A control byte (and extended-type byte) with the size.
    fn header(&mut self, ty: u8, size: usize) {
        // usize is at most 64 bits.
        let size = size as u64;
        let (bits, extra): (u8, &[u8]) = match size {
            0..=28 => (size as u8, &[]),
            29..=284 => (29, &[(size - 29) as u8]),
            285..=65_820 => (30, &(size - 285).to_be_bytes()[6..]),
            _ => (31, &(size - 65_821).to_be_bytes()[5..]),
        };
        if ty <= 7 {
            self.bytes.push((ty << 5) | bits);
        } else {
            self.bytes.push(bits);
            self.bytes.push(ty - 7);
        }
        self.bytes.extend_from_slice(extra);
    }

    fn pointer(&mut self, to: u32) {
        let to = u64::from(to);
        let b = to.to_be_bytes();
        if to < 2048 {
            self.bytes.push(0x20 | (b[6] & 0x7));
            self.bytes.push(b[7]);
        } else if to < 526_336 {
            let v = (to - 2048).to_be_bytes();
            self.bytes.push(0x28 | (v[5] & 0x7));
            self.bytes.extend_from_slice(&v[6..]);
        } else if to < 134_744_064 {
            let v = (to - 526_336).to_be_bytes();
            self.bytes.push(0x30 | (v[4] & 0x7));
            self.bytes.extend_from_slice(&v[5..]);
        } else {
            self.bytes.push(0x38);
            self.bytes.extend_from_slice(&b[4..]);
        }
    }

    fn string(&mut self, s: &str) -> Result<()> {
        if !self.plain && s.len() >= 4 {
            if let Some(&at) = self.strings.get(s) {
                self.pointer(at);
                return Ok(());
            }
            let at = self.offset()?;
            self.strings.insert(s.to_owned(), at);
        }
        self.header(2, s.len());
        self.bytes.extend_from_slice(s.as_bytes());
        Ok(())
    }

    /// An unsigned integer of type 5 (uint16), 6 (uint32) or 9 (uint64),
    /// in as few bytes as it needs.
    fn uint(&mut self, ty: u8, v: u64) {
        let b = v.to_be_bytes();
        let skip = b.iter().take_while(|x| **x == 0).count();
        self.header(ty, b.len() - skip);
        self.bytes.extend_from_slice(&b[skip..]);
    }

    fn double(&mut self, v: f64) {
        self.header(3, 8);
        self.bytes.extend_from_slice(&v.to_be_bytes());
    }

    /// Any JSON value; numbers take the MaxMind type of their key.
    fn value(&mut self, key: &str, v: &Json) -> Result<()> {
        match v {
            Json::String(s) => self.string(s)?,
            Json::Bool(b) => self.header(14, usize::from(*b)),
            Json::Number(n) => match key {
                "latitude" | "longitude" => self.double(n.as_f64().ok_or("a float")?),
                "accuracy_radius" | "metro_code" => self.uint(5, n.as_u64().ok_or("a u16")?),
                _ => self.uint(6, n.as_u64().ok_or("a u32")?),
            },
            Json::Object(map) => {
                self.header(7, map.len());
                for (k, v) in map {
                    self.string(k)?;
                    self.value(k, v)?;
                }
            }
            Json::Array(items) => {
                self.header(11, items.len());
                for item in items {
                    self.value(key, item)?;
                }
            }
            Json::Null => return Err("null has no MaxMind DB type".into()),
        }
        Ok(())
    }

    /// Writes `v` and returns its offset.
    fn push(&mut self, v: &Json) -> Result<u32> {
        let at = self.offset()?;
        self.value("", v)?;
        Ok(at)
    }
}

/// Offsets of every place in a data section.
#[derive(Debug)]
struct PlaceOffsets {
    continents: Vec<u32>,
    countries: Vec<u32>,
    subdivisions: Vec<u32>,
    cities: Vec<u32>,
}

fn write_places(data: &mut Data, p: &Places) -> Result<PlaceOffsets> {
    let all = |data: &mut Data, items: &mut dyn Iterator<Item = &Json>| -> Result<Vec<u32>> {
        items.map(|j| data.push(j)).collect()
    };
    Ok(PlaceOffsets {
        continents: all(data, &mut p.continents.iter())?,
        countries: all(data, &mut p.countries.iter().map(|c| &c.json))?,
        subdivisions: all(data, &mut p.subdivisions.iter().map(|s| &s.json))?,
        cities: all(data, &mut p.cities.iter().map(|c| &c.json))?,
    })
}

impl CityRecord {
    /// Writes the record, pointing to its places; returns its offset.
    fn write(&self, data: &mut Data, at: &PlaceOffsets) -> Result<u32> {
        let start = data.offset()?;
        let keys = 3
            + usize::from(self.country.is_some())
            + usize::from(!self.subdivisions.is_empty())
            + usize::from(self.city.is_some())
            + usize::from(self.postal.is_some())
            + usize::from(self.anycast);
        data.header(7, keys);
        data.string("continent")?;
        data.pointer(at.continents[self.continent]);
        if let Some(c) = self.country {
            data.string("country")?;
            data.pointer(at.countries[c]);
        }
        data.string("registered_country")?;
        data.pointer(at.countries[self.registered_country]);
        if !self.subdivisions.is_empty() {
            data.string("subdivisions")?;
            data.header(11, self.subdivisions.len());
            for &s in &self.subdivisions {
                data.pointer(at.subdivisions[s]);
            }
        }
        if let Some(c) = self.city {
            data.string("city")?;
            data.pointer(at.cities[c]);
        }
        data.string("location")?;
        data.header(7, 4 + usize::from(self.metro_code.is_some()));
        data.string("accuracy_radius")?;
        data.uint(5, u64::from(self.accuracy_radius));
        data.string("latitude")?;
        data.double(self.latitude);
        data.string("longitude")?;
        data.double(self.longitude);
        if let Some(metro) = self.metro_code {
            data.string("metro_code")?;
            data.uint(5, u64::from(metro));
        }
        data.string("time_zone")?;
        data.string(self.time_zone)?;
        if let Some(code) = &self.postal {
            data.string("postal")?;
            data.header(7, 1);
            data.string("code")?;
            data.string(code)?;
        }
        if self.anycast {
            data.string("traits")?;
            data.header(7, 1);
            data.string("is_anycast")?;
            data.header(14, 1);
        }
        Ok(start)
    }
}

/// A record of a search-tree node while building.
const EMPTY: u32 = u32::MAX;
/// Data records carry this bit (offsets stay below 2^31).
const DATA: u32 = 1 << 31;

/// An IPv6 search tree (IPv4 under `::/96`).
#[derive(Debug)]
struct Tree {
    nodes: Vec<[u32; 2]>,
}

impl Tree {
    fn new() -> Tree {
        Tree {
            nodes: vec![[EMPTY; 2]],
        }
    }

    fn new_node(&mut self) -> Result<u32> {
        let n = u32::try_from(self.nodes.len())?;
        if n >= DATA {
            return Err("too many nodes".into());
        }
        self.nodes.push([EMPTY; 2]);
        Ok(n)
    }

    /// The node reached by the first `len` bits of `bits`, creating the
    /// path. Fails if data lies on the way.
    fn path(&mut self, bits: u128, len: u8) -> Result<u32> {
        let mut node = 0_u32;
        for depth in 0..len {
            let bit = ((bits >> (127 - depth)) & 1) as usize;
            let next = self.nodes[node as usize][bit];
            node = match next {
                EMPTY => {
                    let n = self.new_node()?;
                    self.nodes[node as usize][bit] = n;
                    n
                }
                n if n & DATA == 0 => n,
                _ => return Err("a network inside another one".into()),
            };
        }
        Ok(node)
    }

    /// Sets the record of the network `bits/len` (`len >= 1`).
    fn set(&mut self, bits: u128, len: u8, record: u32) -> Result<()> {
        let parent = self.path(bits, len - 1)?;
        let bit = ((bits >> (128 - u32::from(len))) & 1) as usize;
        if self.nodes[parent as usize][bit] != EMPTY {
            return Err(format!("network {bits:032x}/{len} overlaps another").into());
        }
        self.nodes[parent as usize][bit] = record;
        Ok(())
    }

    /// Points `::ffff:0:0/96` and `2002::/16` at the IPv4 subtree.
    fn alias_ipv4(&mut self) -> Result<()> {
        let v4_root = self.path(0, 96)?;
        self.set(0xffff << 32, 96, v4_root)?;
        self.set(0x2002 << 112, 16, v4_root)?;
        Ok(())
    }

    /// Serializes the tree, the data section and the metadata.
    fn finish(&self, data: &Data, database_type: &str, description: &str) -> Result<Vec<u8>> {
        let node_count = u32::try_from(self.nodes.len())?;
        let max = u64::from(node_count) + 16 + data.bytes.len() as u64;
        let record_size: u16 = match max {
            m if m < 1 << 24 => 24,
            m if m < 1 << 28 => 28,
            m if m < 1 << 32 => 32,
            _ => return Err("database too large".into()),
        };
        let value = |r: u32| -> u32 {
            match r {
                EMPTY => node_count,
                r if r & DATA != 0 => node_count + 16 + (r & !DATA),
                node => node,
            }
        };
        let mut out = Vec::with_capacity(
            self.nodes.len() * usize::from(record_size) / 4 + data.bytes.len() + 512,
        );
        for [l, r] in &self.nodes {
            let (l, r) = (value(*l).to_be_bytes(), value(*r).to_be_bytes());
            match record_size {
                24 => {
                    out.extend_from_slice(&l[1..]);
                    out.extend_from_slice(&r[1..]);
                }
                28 => {
                    out.extend_from_slice(&l[1..]);
                    out.push((l[0] << 4) | (r[0] & 0x0F));
                    out.extend_from_slice(&r[1..]);
                }
                _ => {
                    out.extend_from_slice(&l);
                    out.extend_from_slice(&r);
                }
            }
        }
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&data.bytes);
        out.extend_from_slice(b"\xab\xcd\xefMaxMind.com");
        let meta = json!({
            "binary_format_major_version": 2,
            "binary_format_minor_version": 0,
            "build_epoch": BUILD_EPOCH,
            "database_type": database_type,
            "description": {"en": description},
            "ip_version": 6,
            "languages": LOCALES,
            "node_count": node_count,
            "record_size": record_size,
        });
        let mut m = Data {
            plain: true,
            ..Data::default()
        };
        let Json::Object(fields) = &meta else {
            return Err("metadata is a map".into());
        };
        m.header(7, fields.len());
        for (key, v) in fields {
            m.string(key)?;
            match key.as_str() {
                "build_epoch" => m.uint(9, v.as_u64().ok_or("u64")?),
                "node_count" => m.uint(6, v.as_u64().ok_or("u32")?),
                _ if v.is_u64() => m.uint(5, v.as_u64().ok_or("u16")?),
                _ => m.value(key, v)?,
            }
        }
        out.extend_from_slice(&m.bytes);
        Ok(out)
    }
}

// ---------------------------------------------------------------------------
// Networks

/// Prefix-length offsets from the budget length, with weights: mostly near
/// the budget, with a tail of small networks.
const SPREAD: [(i32, u32); 9] = [
    (-2, 5),
    (-1, 10),
    (0, 25),
    (1, 20),
    (2, 15),
    (3, 10),
    (4, 8),
    (5, 5),
    (6, 2),
];

fn spread(rng: &mut Rng) -> i32 {
    let total: u32 = SPREAD.iter().map(|&(_, w)| w).sum();
    let mut x = rng.below(u64::from(total)) as u32;
    for &(d, w) in &SPREAD {
        if x < w {
            return d;
        }
        x -= w;
    }
    0
}

/// A range `[start, end)` of a `bits`-bit address space, and the prefix
/// lengths allowed in it.
#[derive(Debug, Clone, Copy)]
struct Space {
    start: u64,
    end: u64,
    bits: u32,
    min: u32,
    max: u32,
}

/// Aligned prefixes tiling `space` with gaps, `count` of them if it has
/// room. `emit` takes (start, length) and says whether it used it.
fn walk(rng: &mut Rng, space: Space, count: usize, mut emit: impl FnMut(u64, u32) -> bool) {
    let Space {
        start,
        end,
        bits,
        min,
        max,
    } = space;
    let mut cur = start;
    let mut emitted = 0;
    while emitted < count && cur < end {
        let budget = ((end - cur) / (count - emitted) as u64).max(1);
        let base = bits - (63 - budget.leading_zeros());
        let len = (base as i32 + spread(rng)).clamp(min as i32, max as i32) as u32;
        // A network starts on a multiple of its size.
        let len = len.max(bits - cur.trailing_zeros().min(bits));
        let size = 1_u64 << (bits - len);
        if size > end - cur {
            break;
        }
        // A quarter of the space is unallocated.
        if !rng.chance(0.25) && emit(cur, len) {
            emitted += 1;
        }
        cur += size;
    }
}

/// IPv4 networks as (bits under `::/96`, IPv6 prefix length).
fn ipv4_networks(rng: &mut Rng, count: usize) -> Vec<(u128, u8)> {
    let mut out = Vec::with_capacity(count);
    let space = Space {
        start: 1 << 24,
        end: 224 << 24,
        bits: 32,
        min: 12,
        max: 32,
    };
    walk(rng, space, count, |start, len| {
        let last = start + (1 << (32 - len)) - 1;
        let ok = [start, last]
            .iter()
            .all(|&a| is_global(IpAddr::V4(Ipv4Addr::from(a as u32))));
        if ok {
            out.push((u128::from(start), (96 + len) as u8));
        }
        ok
    });
    out
}

/// The RIR blocks IPv6 allocations come from: (first /16, /16 count).
const V6_BLOCKS: [(u64, u64); 6] = [
    (0x2001, 1),
    (0x2400, 16),
    (0x2600, 16),
    (0x2800, 16),
    (0x2a00, 16),
    (0x2c00, 16),
];

/// IPv6 networks (bits, prefix length) in `allocations` random `/32`s.
fn ipv6_networks(rng: &mut Rng, count: usize, allocations: usize) -> Vec<(u128, u8)> {
    let mut allocs: Vec<u64> = (0..allocations)
        .map(|_| {
            let &(first, n) = rng.pick(&V6_BLOCKS[..]);
            let block = first + rng.below(n);
            // 2001::/23 is IETF space: allocations start at 2001:200::.
            let low = if block == 0x2001 {
                0x200 + rng.below(0xFE00)
            } else {
                rng.below(0x1_0000)
            };
            ((block << 16) | low) << 32
        })
        .collect();
    allocs.sort_unstable();
    allocs.dedup();
    let mut out = Vec::with_capacity(count);
    for (i, &alloc) in allocs.iter().enumerate() {
        let want = (count - out.len()) / (allocs.len() - i);
        if want == 0 {
            continue;
        }
        // The allocation uses a window of its space: /32 to /48.
        let window = 1_u64 << (32 - rng.below(17));
        let space = Space {
            start: alloc,
            end: alloc + window,
            bits: 64,
            min: 32,
            max: 64,
        };
        walk(rng, space, want, |start, len| {
            let bits = u128::from(start) << 64;
            let ok = is_global(IpAddr::V6(Ipv6Addr::from(bits)));
            if ok {
                out.push((bits, len as u8));
            }
            ok
        });
    }
    out
}

/// An address inside the network, for lookups.
fn inside(rng: &mut Rng, (bits, len): (u128, u8)) -> IpAddr {
    let host = (u128::from(rng.next()) << 64 | u128::from(rng.next()))
        .checked_shr(u32::from(len))
        .unwrap_or(0);
    let addr = bits | host;
    match u32::try_from(addr) {
        Ok(v4) if len >= 96 => IpAddr::V4(Ipv4Addr::from(v4)),
        _ => IpAddr::V6(Ipv6Addr::from(addr)),
    }
}

// ---------------------------------------------------------------------------
// Main

#[derive(Debug)]
struct Args {
    city: String,
    asn: String,
    v4: usize,
    v6: usize,
    records: usize,
    asn_v4: usize,
    asn_v6: usize,
    seed: u64,
    bench: Option<usize>,
    check: bool,
}

const USAGE: &str = "usage: gen_city CITY.mmdb ASN.mmdb [--v4 N] [--v6 N] [--records N] \
                     [--asn-v4 N] [--asn-v6 N] [--seed S] [--bench LOOKUPS] [--no-check]";

fn parse_args() -> Result<Args> {
    let mut args = Args {
        city: String::new(),
        asn: String::new(),
        v4: 1_500_000,
        v6: 500_000,
        records: 300_000,
        asn_v4: 400_000,
        asn_v6: 100_000,
        seed: 0x5EED_F10E_7A65_0001,
        bench: None,
        check: true,
    };
    let mut paths = Vec::new();
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut number = || -> Result<usize> {
            let v = it.next().ok_or_else(|| format!("{arg} needs a value"))?;
            Ok(v.replace('_', "").parse()?)
        };
        match arg.as_str() {
            "--v4" => args.v4 = number()?,
            "--v6" => args.v6 = number()?,
            "--records" => args.records = number()?.max(1),
            "--asn-v4" => args.asn_v4 = number()?,
            "--asn-v6" => args.asn_v6 = number()?,
            "--seed" => args.seed = u64::try_from(number()?)?.max(1),
            "--bench" => args.bench = Some(number()?.max(1)),
            "--no-check" => args.check = false,
            "-h" | "--help" => return Err(USAGE.into()),
            _ if arg.starts_with("--") => {
                return Err(format!("unknown option {arg}\n{USAGE}").into());
            }
            _ => paths.push(arg),
        }
    }
    let [city, asn]: [String; 2] = paths.try_into().map_err(|_| USAGE)?;
    args.city = city;
    args.asn = asn;
    Ok(args)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01B3)
    })
}

/// A database being built: its networks, record offsets and expected
/// JSON, for the check.
#[derive(Debug)]
struct Built {
    bytes: Vec<u8>,
    /// (network, record index) of every network.
    networks: Vec<((u128, u8), usize)>,
}

/// Builds a database: `records` written with `write_record`, networks
/// each given a skewed pick of them.
fn build(
    rng: &mut Rng,
    mut data: Data,
    networks: Vec<(u128, u8)>,
    records: usize,
    mut write_record: impl FnMut(&mut Data, usize) -> Result<u32>,
    names: (&str, &str),
) -> Result<Built> {
    let offsets: Vec<u32> = (0..records)
        .map(|i| write_record(&mut data, i))
        .collect::<Result<_>>()?;
    let mut tree = Tree::new();
    let mut assigned = Vec::with_capacity(networks.len());
    for net in networks {
        let r = rng.skewed(records);
        tree.set(net.0, net.1, DATA | offsets[r])?;
        assigned.push((net, r));
    }
    tree.alias_ipv4()?;
    let bytes = tree.finish(&data, names.0, names.1)?;
    Ok(Built {
        bytes,
        networks: assigned,
    })
}

fn save(path: &str, built: &Built, started: Instant) -> Result<()> {
    std::fs::write(path, &built.bytes)?;
    let v4 = built
        .networks
        .iter()
        .filter(|((_, len), _)| *len >= 96)
        .count();
    println!(
        "wrote {path}: {} networks ({v4} IPv4, {} IPv6), {} bytes ({:.1} MiB), FNV-1a {:016x} \
         ({:.1} s)",
        built.networks.len(),
        built.networks.len() - v4,
        built.bytes.len(),
        built.bytes.len() as f64 / 1_048_576.0,
        fnv1a(&built.bytes),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Opens `bytes` the way the crate does, timing the reader's open and its
/// verification apart, then [`GeoDb::from_bytes`] as a whole; then decodes
/// 20,000 random networks with the reader and compares them with their
/// records.
fn check(
    rng: &mut Rng,
    path: &str,
    built: &Built,
    expected: impl Fn(usize) -> Json,
) -> Result<GeoDb> {
    let t = Instant::now();
    let reader = maxminddb::Reader::from_source(built.bytes.as_slice())?;
    let open = t.elapsed();
    let t = Instant::now();
    reader.verify()?;
    let verify = t.elapsed();
    for _ in 0..20_000 {
        let (net, r) = built.networks[rng.index(built.networks.len())];
        let addr = inside(rng, net);
        let got: Option<Json> = reader.lookup(addr)?.decode()?;
        let want = expected(r);
        if got.as_ref() != Some(&want) {
            return Err(format!("{path}: {addr} decodes as {got:?}, expected {want}").into());
        }
    }
    drop(reader);
    let t = Instant::now();
    let db = GeoDb::from_bytes(built.bytes.clone(), path)?;
    let total = t.elapsed();
    println!(
        "checked {path}: {} ({}), {} nodes, {}-bit records, built {}; reader open {:.3} ms, \
         verify {:.3} s, GeoDb::from_bytes {:.3} s; 20000 networks decode as written",
        db.kind(),
        db.database_type(),
        db.node_count(),
        db.record_size(),
        db.build_date(),
        open.as_secs_f64() * 1e3,
        verify.as_secs_f64(),
        total.as_secs_f64()
    );
    Ok(db)
}

fn bench(rng: &mut Rng, set: &mut GeoSet, sample: &[IpAddr], lookups: usize) {
    let picks: Vec<IpAddr> = (0..lookups)
        .map(|_| sample[rng.index(sample.len())])
        .collect();
    let mut report = String::new();
    let mut run = |set: &mut GeoSet, name: &str, addrs: &[IpAddr]| {
        let before = set.lookup_errors();
        let t = Instant::now();
        let (mut geo, mut asn, mut bytes) = (0_usize, 0_usize, 0_usize);
        for addr in addrs {
            let answer = set.lookup(*addr);
            geo += usize::from(answer.geo.is_some());
            asn += usize::from(answer.asn.is_some());
            bytes += answer.geo.map_or(0, str::len) + answer.asn.map_or(0, str::len);
        }
        let secs = t.elapsed().as_secs_f64();
        let _ = writeln!(
            report,
            "  {name}: {} lookups in {secs:.3} s = {:.0}/s ({:.0} ns each); {geo} geo, {asn} as, \
             {:.0} bytes of JSON each, {} decode errors",
            addrs.len(),
            addrs.len() as f64 / secs,
            secs * 1e9 / addrs.len() as f64,
            bytes as f64 / addrs.len() as f64,
            set.lookup_errors() - before
        );
    };
    // Uncached: one slot of each kind, and (almost) never the same address
    // or record twice running.
    set.set_cache_slots(1);
    set.set_record_cache_slots(1);
    run(set, "uncached (1 slot, random addresses)", &picks);
    // Only the record caches: every address is walked down the tree, and
    // a record is decoded only the first time one of its networks is hit.
    set.set_record_cache_slots(1 << 14);
    let decoded = set.records_decoded();
    run(set, "record caches only (16,384 slots each)", &picks);
    let decoded = set.records_decoded() - decoded;
    // Cached: a working set of 256 addresses in the default 4,096 slots
    // (few collisions), after a warm-up pass.
    set.set_cache_slots(geoip::DEFAULT_CACHE_SLOTS);
    let working: Vec<IpAddr> = picks.iter().take(256).copied().collect();
    let repeated: Vec<IpAddr> = (0..lookups).map(|i| working[i % working.len()]).collect();
    for addr in &working {
        let _ = set.lookup(*addr);
    }
    run(set, "cached (256 addresses, 4,096 slots)", &repeated);
    // Pure hits: one address over and over.
    let same = vec![picks[0]; lookups];
    run(set, "cache hits (one address)", &same);
    // try_lookup: no cache, owned strings.
    let n = picks.len().min(500_000);
    let t = Instant::now();
    let found = picks[..n]
        .iter()
        .filter(|a| set.try_lookup(**a).is_ok_and(|x| x.geo.is_some()))
        .count();
    let secs = t.elapsed().as_secs_f64();
    let _ = writeln!(
        report,
        "  try_lookup (no cache): {n} in {secs:.3} s = {:.0}/s; {found} geo",
        n as f64 / secs
    );
    let _ = writeln!(
        report,
        "  the record caches decoded {decoded} records for {} addresses in two databases",
        picks.len()
    );
    print!("lookups through GeoSet (City + ASN), release build:\n{report}");
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let started = Instant::now();
    let mut rng = Rng(args.seed);

    let places = places(&mut rng, 240);
    let records = city_records(&mut rng, &places, args.records);
    println!(
        "places: {} continents, {} countries, {} subdivisions, {} cities; {} distinct City \
         records",
        places.continents.len(),
        places.countries.len(),
        places.subdivisions.len(),
        places.cities.len(),
        records.len()
    );
    let mut networks = ipv4_networks(&mut rng, args.v4);
    networks.extend(ipv6_networks(&mut rng, args.v6, 50_000));
    let mut data = Data::default();
    let at = write_places(&mut data, &places)?;
    let city = build(
        &mut rng,
        data,
        networks,
        records.len(),
        |data, i| records[i].write(data, &at),
        ("GeoIP2-City", "flowtag synthetic GeoIP2 City (benchmarks)"),
    )?;
    save(&args.city, &city, started)?;

    let asns = asn_records(&mut rng, 60_000);
    let mut networks = ipv4_networks(&mut rng, args.asn_v4);
    networks.extend(ipv6_networks(&mut rng, args.asn_v6, 20_000));
    let asn = build(
        &mut rng,
        Data::default(),
        networks,
        asns.len(),
        |data, i| data.push(&asns[i].to_json()),
        (
            "GeoLite2-ASN",
            "flowtag synthetic GeoLite2 ASN (benchmarks)",
        ),
    )?;
    save(&args.asn, &asn, started)?;

    if !args.check && args.bench.is_none() {
        return Ok(());
    }
    let city_db = check(&mut rng, &args.city, &city, |r| records[r].to_json(&places))?;
    let asn_db = check(&mut rng, &args.asn, &asn, |r| asns[r].to_json())?;
    println!(
        "generated and checked in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    if let Some(lookups) = args.bench {
        let sample: Vec<IpAddr> = city
            .networks
            .iter()
            .map(|(net, _)| inside(&mut rng, *net))
            .collect();
        drop(city);
        drop(asn);
        let mut set = GeoSet::new();
        set.add(city_db)?;
        set.add(asn_db)?;
        bench(&mut rng, &mut set, &sample, lookups);
    }
    Ok(())
}
