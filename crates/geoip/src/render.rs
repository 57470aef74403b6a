//! The records read from the databases and their JSON rendering.
//!
//! Only the fields that are rendered are decoded; strings borrow from the
//! database bytes. Every other field is skipped by the decoder.

use std::fmt::{self, Write as _};
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{self, IgnoredAny, MapAccess, SeqAccess, Unexpected, Visitor};

/// At most this many names are kept per `names` map; later ones are skipped
/// (MaxMind's databases hold eight).
const MAX_NAMES: usize = 64;

/// A `names` map: (locale, name) pairs in database order.
#[derive(Debug, Default)]
pub(crate) struct Names<'a>(Vec<(&'a str, &'a str)>);

impl<'a> Names<'a> {
    fn get(&self, locale: &str) -> Option<&'a str> {
        self.0.iter().find(|(l, _)| *l == locale).map(|&(_, n)| n)
    }

    /// The name in `locale`, else in English.
    fn pick(&self, locale: &str) -> Option<&'a str> {
        self.get(locale).or_else(|| self.get("en"))
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

thread_local! {
    /// While a [`KeepNames`] guard lives (the flag): the one locale besides
    /// English whose names a decode keeps. The others are skipped unread,
    /// which spares a UTF-8 check per name (MaxMind's records carry eight
    /// locales in five `names` maps). Without a guard every name is kept.
    /// The string outlives the guards, so that a run does not allocate it
    /// for every record.
    static KEPT_LOCALE: std::cell::RefCell<(bool, String)> =
        const { std::cell::RefCell::new((false, String::new())) };
}

/// Keeps only English and `locale` in the [`Names`] decoded on this thread
/// until it is dropped.
pub(crate) struct KeepNames(());

impl KeepNames {
    pub(crate) fn only(locale: &str) -> KeepNames {
        KEPT_LOCALE.with_borrow_mut(|(active, kept)| {
            *active = true;
            if kept != locale {
                locale.clone_into(kept);
            }
        });
        KeepNames(())
    }
}

impl Drop for KeepNames {
    fn drop(&mut self) {
        KEPT_LOCALE.with_borrow_mut(|(active, _)| *active = false);
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Names<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct NamesVisitor<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for NamesVisitor<'a> {
            type Value = Names<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of locale codes to names")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Names<'a>, A::Error> {
                KEPT_LOCALE.with_borrow(|(active, kept)| {
                    let wanted = |locale: &str| !active || locale == "en" || locale == kept;
                    let mut names = Vec::with_capacity(map.size_hint().unwrap_or(0).min(MAX_NAMES));
                    while let Some(locale) = map.next_key::<&'de str>()? {
                        if names.len() < MAX_NAMES && wanted(locale) {
                            names.push((locale, map.next_value::<&'de str>()?));
                        } else {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                    Ok(Names(names))
                })
            }
        }
        deserializer.deserialize_map(NamesVisitor(PhantomData))
    }
}

/// A number of any MaxMind DB numeric type, as f64. The reader's typed
/// `f64` accepts only `double`; some writers store coordinates as `float`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct AnyFloat(pub(crate) f64);

impl<'de> Deserialize<'de> for AnyFloat {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FloatVisitor;
        impl Visitor<'_> for FloatVisitor {
            type Value = AnyFloat;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number")
            }
            // visit_f32 forwards here.
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<AnyFloat, E> {
                Ok(AnyFloat(v))
            }
            // The smaller widths forward to these two.
            #[allow(clippy::cast_precision_loss)]
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AnyFloat, E> {
                Ok(AnyFloat(v as f64))
            }
            #[allow(clippy::cast_precision_loss)]
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AnyFloat, E> {
                Ok(AnyFloat(v as f64))
            }
        }
        deserializer.deserialize_any(FloatVisitor)
    }
}

/// An unsigned integer of any MaxMind DB width (`uint16`, `uint32`,
/// `uint64`, or `uint128`/`int32` in range). The reader's typed `u64`
/// accepts only `uint64`, but MaxMind's ASN databases store
/// `autonomous_system_number` as `uint32`, and other writers pick the
/// smallest width that fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AnyUint(pub(crate) u64);

impl<'de> Deserialize<'de> for AnyUint {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UintVisitor;
        impl Visitor<'_> for UintVisitor {
            type Value = AnyUint;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an unsigned integer")
            }
            // visit_u8, visit_u16 and visit_u32 forward here.
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<AnyUint, E> {
                Ok(AnyUint(v))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<AnyUint, E> {
                u64::try_from(v)
                    .map(AnyUint)
                    .map_err(|_| E::invalid_value(Unexpected::Other("a 128-bit integer"), &self))
            }
            // visit_i8, visit_i16 and visit_i32 forward here.
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<AnyUint, E> {
                u64::try_from(v)
                    .map(AnyUint)
                    .map_err(|_| E::invalid_value(Unexpected::Signed(v), &self))
            }
        }
        deserializer.deserialize_any(UintVisitor)
    }
}

/// `continent`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Continent<'a> {
    #[serde(borrow, default)]
    code: Option<&'a str>,
}

/// `country` and `registered_country`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Country<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
    #[serde(borrow, default)]
    names: Names<'a>,
}

impl Country<'_> {
    fn is_empty(&self) -> bool {
        self.iso_code.is_none() && self.names.is_empty()
    }
}

/// `city`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct City<'a> {
    #[serde(borrow, default)]
    names: Names<'a>,
}

/// An element of `subdivisions`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Subdivision<'a> {
    #[serde(borrow, default)]
    iso_code: Option<&'a str>,
    #[serde(borrow, default)]
    names: Names<'a>,
}

/// `location`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Location<'a> {
    #[serde(default)]
    latitude: Option<AnyFloat>,
    #[serde(default)]
    longitude: Option<AnyFloat>,
    #[serde(borrow, default)]
    time_zone: Option<&'a str>,
}

/// `postal`.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Postal<'a> {
    #[serde(borrow, default)]
    code: Option<&'a str>,
}

/// A City or Country database record (a Country record has no city,
/// subdivisions, location or postal code).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct GeoRecord<'a> {
    #[serde(borrow, default)]
    continent: Continent<'a>,
    #[serde(borrow, default)]
    country: Country<'a>,
    #[serde(borrow, default)]
    registered_country: Country<'a>,
    #[serde(borrow, default, deserialize_with = "first_subdivision")]
    subdivisions: Option<Subdivision<'a>>,
    #[serde(borrow, default)]
    city: City<'a>,
    #[serde(borrow, default)]
    location: Location<'a>,
    #[serde(borrow, default)]
    postal: Postal<'a>,
}

/// Keeps the first (largest) subdivision and skips the rest.
fn first_subdivision<'de: 'a, 'a, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Subdivision<'a>>, D::Error> {
    struct FirstVisitor<'a>(PhantomData<&'a ()>);
    impl<'de: 'a, 'a> Visitor<'de> for FirstVisitor<'a> {
        type Value = Option<Subdivision<'a>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of subdivisions")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let first = seq.next_element::<Subdivision<'a>>()?;
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(first)
        }
    }
    deserializer.deserialize_seq(FirstVisitor(PhantomData))
}

/// An ASN or ISP database record.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct AsnRecord<'a> {
    #[serde(default)]
    autonomous_system_number: Option<AnyUint>,
    #[serde(borrow, default)]
    autonomous_system_organization: Option<&'a str>,
}

/// Writes one JSON object, key by key, into a string.
struct Object<'o> {
    out: &'o mut String,
    open: bool,
}

impl<'o> Object<'o> {
    fn new(out: &'o mut String) -> Self {
        Object { out, open: false }
    }

    fn key(&mut self, key: &str) {
        self.out.push(if self.open { ',' } else { '{' });
        self.open = true;
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
    }

    fn string(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.key(key);
            escape_into(self.out, value);
        }
    }

    /// Closes the object; false (and nothing written) when it has no key.
    fn finish(self) -> bool {
        if self.open {
            self.out.push('}');
        }
        self.open
    }
}

/// Appends `value` as a JSON string, escaped exactly as serde_json does.
pub(crate) fn escape_into(out: &mut String, value: &str) {
    out.push('"');
    let mut start = 0;
    for (i, b) in value.bytes().enumerate() {
        let short = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0C => "\\f",
            0x00..=0x1F => "",
            _ => continue,
        };
        out.push_str(&value[start..i]);
        if short.is_empty() {
            // Infallible: writing to a String.
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(short);
        }
        start = i + 1;
    }
    out.push_str(&value[start..]);
    out.push('"');
}

/// Appends a finite f64 exactly as serde_json prints it.
fn push_f64(out: &mut String, value: f64) -> bool {
    match serde_json::Number::from_f64(value) {
        Some(number) => {
            // Infallible: writing to a String.
            let _ = write!(out, "{number}");
            true
        }
        None => false,
    }
}

/// Renders the `geo` object into `out` (which is cleared first). Returns
/// whether anything was found; `country_only` leaves out everything below
/// the country (for Country databases).
pub(crate) fn render_geo(
    record: &GeoRecord<'_>,
    locale: &str,
    country_only: bool,
    out: &mut String,
) -> bool {
    out.clear();
    let mut obj = Object::new(out);
    obj.string("continent_code", record.continent.code);
    // `country` is where the address is; `registered_country` (where the
    // block is registered) stands in only when `country` is absent.
    let (country, is_located) = if record.country.is_empty() {
        (&record.registered_country, false)
    } else {
        (&record.country, true)
    };
    obj.string("country_iso_code", country.iso_code);
    obj.string("country_name", country.names.pick(locale));
    if !country_only {
        // Subdivisions belong to `country`: no region with a fallback country.
        if let Some(sub) = record.subdivisions.as_ref().filter(|_| is_located) {
            if let (Some(cc), Some(sc)) = (country.iso_code, sub.iso_code) {
                obj.key("region_iso_code");
                let mut code = String::with_capacity(cc.len() + 1 + sc.len());
                code.push_str(cc);
                code.push('-');
                code.push_str(sc);
                escape_into(obj.out, &code);
            }
            obj.string("region_name", sub.names.pick(locale));
        }
        obj.string("city_name", record.city.names.pick(locale));
        obj.string("postal_code", record.postal.code);
        obj.string("timezone", record.location.time_zone);
        if let (Some(AnyFloat(lat)), Some(AnyFloat(lon))) =
            (record.location.latitude, record.location.longitude)
            && lat.is_finite()
            && lon.is_finite()
        {
            obj.key("location");
            obj.out.push_str("{\"lat\":");
            push_f64(obj.out, lat);
            obj.out.push_str(",\"lon\":");
            push_f64(obj.out, lon);
            obj.out.push('}');
        }
    }
    obj.finish()
}

/// Renders the `as` object into `out` (which is cleared first). Returns
/// whether anything was found.
pub(crate) fn render_asn(record: &AsnRecord<'_>, out: &mut String) -> bool {
    out.clear();
    let mut obj = Object::new(out);
    if let Some(AnyUint(number)) = record.autonomous_system_number {
        obj.key("number");
        // Infallible: writing to a String.
        let _ = write!(obj.out, "{number}");
    }
    obj.string("organization", record.autonomous_system_organization);
    obj.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_matches_serde_json() {
        let mut all = String::new();
        for c in (0u32..0x100).filter_map(char::from_u32) {
            all.push(c);
        }
        for s in [
            all.as_str(),
            "",
            "plain",
            "Linköping",
            "a\"b\\c",
            "\u{7f}\u{2028}\u{2029}😀",
            "\u{0}x\u{1f}",
        ] {
            let mut out = String::new();
            escape_into(&mut out, s);
            assert_eq!(out, serde_json::to_string(s).unwrap());
        }
    }

    #[test]
    fn floats_match_serde_json() {
        for v in [
            0.0, -0.0, 13.0, 58.4167, -122.3149, 1e-7, 1e21, 125.3228, -0.0931,
        ] {
            let mut out = String::new();
            assert!(push_f64(&mut out, v));
            assert_eq!(out, serde_json::to_string(&v).unwrap());
        }
        let mut out = String::new();
        assert!(!push_f64(&mut out, f64::NAN));
        assert!(!push_f64(&mut out, f64::INFINITY));
        assert!(out.is_empty());
    }

    #[test]
    fn empty_records_render_nothing() {
        let mut out = String::from("stale");
        assert!(!render_geo(&GeoRecord::default(), "en", false, &mut out));
        assert!(out.is_empty());
        assert!(!render_asn(&AsnRecord::default(), &mut out));
        assert!(out.is_empty());
    }

    #[test]
    fn names_fall_back_to_english() {
        let names = Names(vec![("en", "Sweden"), ("de", "Schweden")]);
        assert_eq!(names.pick("de"), Some("Schweden"));
        assert_eq!(names.pick("fr"), Some("Sweden"));
        assert_eq!(Names(vec![("de", "Schweden")]).pick("fr"), None);
    }

    #[test]
    fn only_english_and_the_kept_locale_are_decoded() {
        let json = r#"{"de":"Schweden","en":"Sweden","fr":{"not":"a name"},"ja":"スウェーデン"}"#;
        let decode = || serde_json::from_str::<Names<'_>>(json);
        {
            let _kept = KeepNames::only("ja");
            let names = decode().expect("the French map is skipped unread");
            assert_eq!(names.0, [("en", "Sweden"), ("ja", "スウェーデン")]);
        }
        {
            let _kept = KeepNames::only("en");
            assert_eq!(decode().expect("skipped").0, [("en", "Sweden")]);
        }
        // Once the guard is gone every name is decoded again, so the
        // malformed one is an error.
        assert!(decode().is_err());
        let all = serde_json::from_str::<Names<'_>>(r#"{"de":"Schweden","en":"Sweden"}"#);
        assert_eq!(
            all.expect("decodes").0,
            [("de", "Schweden"), ("en", "Sweden")]
        );
    }

    #[test]
    fn registered_country_stands_in() {
        let record = GeoRecord {
            registered_country: Country {
                iso_code: Some("DE"),
                names: Names(vec![("en", "Germany")]),
            },
            subdivisions: Some(Subdivision {
                iso_code: Some("BY"),
                names: Names(vec![("en", "Bavaria")]),
            }),
            location: Location {
                latitude: Some(AnyFloat(f64::NAN)),
                longitude: Some(AnyFloat(1.0)),
                time_zone: None,
            },
            ..GeoRecord::default()
        };
        let mut out = String::new();
        assert!(render_geo(&record, "en", false, &mut out));
        assert_eq!(out, r#"{"country_iso_code":"DE","country_name":"Germany"}"#);
    }
}
