//! GeoIP and ASN lookups from MaxMind DB (`.mmdb`) files, rendered as the
//! JSON fragments flowtag adds to flow log records.
//!
//! The crate is pure: databases come in as bytes ([`GeoDb::from_bytes`]),
//! answers go out as JSON text. It has no I/O and builds for
//! `wasm32-wasip2`.
//!
//! - [`GeoDb`] is one verified database: City, Country or ASN (an ISP
//!   database counts as ASN). Opening runs the reader's full verification,
//!   so a corrupt file is refused up front instead of failing lookups later.
//! - [`GeoSet`] holds at most one geo database (City *or* Country) and one
//!   ASN database, a name locale, a small cache of rendered answers by
//!   address and, behind it, one of rendered database records (which many
//!   networks share) by their place in the database.
//! - Only globally routable addresses are looked up ([`is_global`]).
//!
//! The fragments, keys in this order and only those with a value:
//!
//! - `geo`: `continent_code`, `country_iso_code`, `country_name`,
//!   `region_iso_code` (country code, `-`, code of the first subdivision,
//!   e.g. `"SE-E"`), `region_name`, `city_name`, `postal_code`, `timezone`,
//!   `location` (`{"lat":…,"lon":…}`, numbers as serde_json prints f64).
//!   A Country database gives the first three only. Names are in the set's
//!   locale, falling back to English. When a record has no `country`, its
//!   `registered_country` stands in for it (code and name; then no region,
//!   since subdivisions belong to `country`).
//! - `as`: `number` (a JSON number, from any unsigned integer type: MaxMind
//!   stores `uint32`, other writers the smallest that fits), `organization`
//!   (a string).
//!
//! ```no_run
//! use geoip::{GeoDb, GeoSet};
//!
//! # fn main() -> Result<(), geoip::Error> {
//! # let city_bytes = Vec::new();
//! let mut set = GeoSet::default();
//! set.add(GeoDb::from_bytes(city_bytes, "GeoLite2-City.mmdb")?)?;
//! let answer = set.lookup("89.160.20.112".parse().unwrap());
//! if let Some(geo) = answer.geo {
//!     println!("{geo}"); // {"continent_code":"EU","country_iso_code":"SE",…}
//! }
//! # Ok(())
//! # }
//! ```

mod global;
mod render;
mod time;

use std::fmt;
use std::net::IpAddr;

use maxminddb::{MaxMindDbError, Reader};

pub use global::{is_global, is_global_v4, is_global_v6};
use render::{AsnRecord, GeoRecord};

/// What a database holds, from its metadata's `database_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DbKind {
    /// `database_type` contains `City` or `Enterprise`: location down to the
    /// city.
    City,
    /// `database_type` contains `Country` (and not `City`): country and
    /// continent.
    Country,
    /// `database_type` contains `ASN` or `ISP`: autonomous system number and
    /// organization.
    Asn,
}

impl DbKind {
    /// Classifies a `database_type`, or `None` for an unsupported one.
    pub fn from_database_type(database_type: &str) -> Option<DbKind> {
        // Enterprise databases hold City records (plus ISP and other traits).
        if database_type.contains("City") || database_type.contains("Enterprise") {
            Some(DbKind::City)
        } else if database_type.contains("Country") {
            Some(DbKind::Country)
        } else if database_type.contains("ASN") || database_type.contains("ISP") {
            Some(DbKind::Asn)
        } else {
            None
        }
    }

    /// The slot the database fills in a [`GeoSet`].
    pub fn role(self) -> Role {
        match self {
            DbKind::City | DbKind::Country => Role::Geo,
            DbKind::Asn => Role::Asn,
        }
    }

    /// `"City"`, `"Country"` or `"ASN"`.
    pub fn as_str(self) -> &'static str {
        match self {
            DbKind::City => "City",
            DbKind::Country => "Country",
            DbKind::Asn => "ASN",
        }
    }
}

impl fmt::Display for DbKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A slot of a [`GeoSet`]: which fragment a database answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The `geo` fragment, from a City or a Country database.
    Geo,
    /// The `as` fragment, from an ASN or ISP database.
    Asn,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Role::Geo => "geo (City or Country)",
            Role::Asn => "ASN",
        })
    }
}

/// Why a database was refused or a lookup failed. Every variant names the
/// database by the `source` given to [`GeoDb::from_bytes`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes are not a MaxMind DB the reader can open (no metadata
    /// marker, bad metadata, a search tree that does not fit, …).
    #[error("{db}: not a readable MaxMind DB: {error}")]
    Open {
        /// The database's name.
        db: String,
        /// What the reader reported.
        #[source]
        error: MaxMindDbError,
    },
    /// The database opened but its full verification failed: a corrupt
    /// search tree, data section or metadata.
    #[error("{db}: corrupt MaxMind DB: {error}")]
    Verify {
        /// The database's name.
        db: String,
        /// What the verification reported.
        #[source]
        error: MaxMindDbError,
    },
    /// The metadata verified but holds a value this crate refuses.
    #[error("{db}: invalid MaxMind DB metadata: {reason}")]
    InvalidMetadata {
        /// The database's name.
        db: String,
        /// What is wrong.
        reason: String,
    },
    /// The database is neither City, Country, ASN nor ISP.
    #[error(
        "{db}: unsupported database type {database_type:?} (expected a City, Country, ASN or ISP database)"
    )]
    UnsupportedType {
        /// The database's name.
        db: String,
        /// The metadata's `database_type`.
        database_type: String,
    },
    /// Two databases for the same slot of a [`GeoSet`].
    #[error("two {role} databases: {first} and {second}; give at most one of each kind")]
    DuplicateKind {
        /// The slot both would fill.
        role: Role,
        /// The database already in the set.
        first: String,
        /// The database refused.
        second: String,
    },
    /// A record could not be decoded during a lookup.
    #[error("{db}: cannot decode the record for {ip}: {error}")]
    Lookup {
        /// The database's name.
        db: String,
        /// The address looked up.
        ip: IpAddr,
        /// What the reader reported.
        #[source]
        error: MaxMindDbError,
    },
}

/// One verified MaxMind database.
#[derive(Debug)]
pub struct GeoDb {
    reader: Reader<Vec<u8>>,
    source: String,
    kind: DbKind,
}

/// A database's metadata, for reports.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DbInfo {
    /// The name given to [`GeoDb::from_bytes`].
    pub source: String,
    /// What the database holds.
    pub kind: DbKind,
    /// The metadata's `database_type`, e.g. `GeoLite2-City`.
    pub database_type: String,
    /// Build time, seconds since the Unix epoch.
    pub build_epoch: u64,
    /// Build date, `YYYY-MM-DD` (UTC).
    pub build_date: String,
    /// 4 or 6.
    pub ip_version: u16,
    /// Nodes in the search tree.
    pub node_count: u32,
    /// Bits per search-tree record: 24, 28 or 32.
    pub record_size: u16,
    /// Locales the database has names for.
    pub languages: Vec<String>,
}

impl serde::Serialize for DbKind {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl GeoDb {
    /// Opens a database from its bytes. `source` names it in errors (a
    /// file name, say).
    ///
    /// Runs the reader's full verification (search tree, data section
    /// separator, every data record, metadata), which walks the whole
    /// database once: about as long as reading it (0.3 s for a 45 MiB City
    /// database of 3.4 million nodes, see `examples/gen_city.rs`). Like
    /// MaxMind's own verifiers it refuses a metadata `description` that is
    /// empty, as some third-party writers leave it. Then classifies the
    /// database by `database_type` ([`DbKind::from_database_type`]).
    ///
    /// # Errors
    ///
    /// [`Error::Open`] when the reader cannot open it, [`Error::Verify`] when
    /// verification fails, [`Error::InvalidMetadata`] for a build time after
    /// 9999-12-31 (refused here so that the outcome does not depend on the
    /// platform's time range) and [`Error::UnsupportedType`] for any other
    /// kind of database.
    pub fn from_bytes(bytes: Vec<u8>, source: &str) -> Result<GeoDb, Error> {
        GeoDb::open(bytes, source, true)
    }

    /// Like [`from_bytes`](Self::from_bytes) without the full verification,
    /// for bytes that passed it before (the same file in an earlier run,
    /// say). The metadata, the type and the layout checks that opening does
    /// still apply. Lookups stay bounds-checked: in a corrupt database that
    /// slipped through they fail ([`GeoSet::lookup_errors`]), they do not
    /// panic.
    ///
    /// # Errors
    ///
    /// As [`from_bytes`](Self::from_bytes), except [`Error::Verify`].
    pub fn from_verified_bytes(bytes: Vec<u8>, source: &str) -> Result<GeoDb, Error> {
        GeoDb::open(bytes, source, false)
    }

    fn open(bytes: Vec<u8>, source: &str, verify: bool) -> Result<GeoDb, Error> {
        let db = || source.to_owned();
        let reader = Reader::from_source(bytes).map_err(|error| Error::Open { db: db(), error })?;
        if verify {
            reader
                .verify()
                .map_err(|error| Error::Verify { db: db(), error })?;
        }
        let meta = reader.metadata();
        if meta.build_epoch > time::MAX_EPOCH {
            return Err(Error::InvalidMetadata {
                db: db(),
                reason: format!(
                    "build_epoch {} is after 9999-12-31T23:59:59Z",
                    meta.build_epoch
                ),
            });
        }
        let kind = DbKind::from_database_type(&meta.database_type).ok_or_else(|| {
            Error::UnsupportedType {
                db: db(),
                database_type: meta.database_type.clone(),
            }
        })?;
        Ok(GeoDb {
            reader,
            source: source.to_owned(),
            kind,
        })
    }

    /// The name given to [`from_bytes`](Self::from_bytes).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// What the database holds.
    pub fn kind(&self) -> DbKind {
        self.kind
    }

    /// The metadata's `database_type`, e.g. `GeoLite2-City`.
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// Build time, seconds since the Unix epoch.
    pub fn build_epoch(&self) -> u64 {
        self.reader.metadata().build_epoch
    }

    /// Build date, ISO 8601 `YYYY-MM-DD` (UTC).
    pub fn build_date(&self) -> String {
        time::iso_date(self.build_epoch())
    }

    /// Build time, ISO 8601 `YYYY-MM-DDTHH:MM:SSZ` (UTC).
    pub fn build_time(&self) -> String {
        time::iso_datetime(self.build_epoch())
    }

    /// 4 (IPv4 only) or 6.
    pub fn ip_version(&self) -> u16 {
        self.reader.metadata().ip_version
    }

    /// Nodes in the search tree.
    pub fn node_count(&self) -> u32 {
        self.reader.metadata().node_count
    }

    /// Bits per search-tree record: 24, 28 or 32.
    pub fn record_size(&self) -> u16 {
        self.reader.metadata().record_size
    }

    /// Locales the database has names for.
    pub fn languages(&self) -> &[String] {
        &self.reader.metadata().languages
    }

    /// The description in `language`, if the database has one.
    pub fn description(&self, language: &str) -> Option<&str> {
        self.reader
            .metadata()
            .description
            .get(language)
            .map(String::as_str)
    }

    /// All of the metadata above, owned.
    pub fn info(&self) -> DbInfo {
        DbInfo {
            source: self.source.clone(),
            kind: self.kind,
            database_type: self.database_type().to_owned(),
            build_epoch: self.build_epoch(),
            build_date: self.build_date(),
            ip_version: self.ip_version(),
            node_count: self.node_count(),
            record_size: self.record_size(),
            languages: self.languages().to_vec(),
        }
    }

    /// Renders this database's fragment for `ip` into `out`. `ip` must
    /// already be the lookup address (global; IPv4-mapped turned to IPv4).
    /// With `records`, a record rendered before is copied from there instead
    /// of being decoded again.
    fn render(
        &self,
        ip: IpAddr,
        locale: &str,
        records: Option<&mut RecordCache>,
        out: &mut String,
    ) -> Result<bool, Error> {
        out.clear();
        if ip.is_ipv6() && self.ip_version() == 4 {
            return Ok(false);
        }
        let err = |error| Error::Lookup {
            db: self.source.clone(),
            ip,
            error,
        };
        let result = self.reader.lookup(ip).map_err(err)?;
        let Some(offset) = result.offset() else {
            return Ok(false);
        };
        let slot = match records.map(|records| records.slot(offset)) {
            Some((slot, true)) => {
                out.push_str(&slot.json);
                return Ok(slot.has_json);
            }
            Some((slot, false)) => Some(slot),
            None => None,
        };
        let has_json = match self.kind {
            DbKind::City | DbKind::Country => {
                let _kept = render::KeepNames::only(locale);
                match result.decode::<GeoRecord<'_>>().map_err(err)? {
                    Some(record) => {
                        render::render_geo(&record, locale, self.kind == DbKind::Country, out)
                    }
                    None => false,
                }
            }
            DbKind::Asn => match result.decode::<AsnRecord<'_>>().map_err(err)? {
                Some(record) => render::render_asn(&record, out),
                None => false,
            },
        };
        if let Some(slot) = slot {
            // Reached only when decoding worked: after a failed decode (the
            // `?` above) the slot keeps what it held, and the record is
            // decoded again next time.
            slot.offset = Some(offset);
            slot.json.clone_from(out);
            slot.has_json = has_json;
        }
        Ok(has_json)
    }
}

/// Slots in each database's [`RecordCache`]: each holds one rendering of a
/// few hundred bytes, so a full cache is a few MB.
const RECORD_CACHE_SLOTS: usize = 1 << 14;

/// One [`RecordCache`] slot: the rendering of the record at `offset`.
#[derive(Debug, Default)]
struct RecordSlot {
    offset: Option<usize>,
    json: String,
    has_json: bool,
}

/// Renderings of data records, direct-mapped by their offset in the data
/// section. Many networks share one record (every network of a city, or of
/// an autonomous system), so the addresses of a flow log need far fewer
/// decodes than lookups, and decoding costs much more than walking the
/// search tree.
#[derive(Debug, Default)]
struct RecordCache {
    /// Empty until the first lookup, then a power of two long.
    slots: Vec<RecordSlot>,
    /// The length `slots` takes on at the first lookup.
    len: usize,
    /// Lookups that missed, so decoded a record (or failed to).
    misses: u64,
}

impl RecordCache {
    fn with_slots(len: usize) -> RecordCache {
        RecordCache {
            slots: Vec::new(),
            len: len.clamp(1, MAX_CACHE_SLOTS).next_power_of_two(),
            misses: 0,
        }
    }

    /// The slot of the record at `offset`, and whether it holds that
    /// record's rendering.
    fn slot(&mut self, offset: usize) -> (&mut RecordSlot, bool) {
        if self.slots.is_empty() {
            self.slots.resize_with(self.len, RecordSlot::default);
        }
        // Offsets fit in 64 bits on every target.
        let index = slot_hash(offset as u64, self.slots.len());
        let slot = &mut self.slots[index];
        let hit = slot.offset == Some(offset);
        self.misses += u64::from(!hit);
        (slot, hit)
    }

    fn clear(&mut self) {
        for slot in &mut self.slots {
            slot.offset = None;
        }
    }
}

/// The fragments for one address, borrowed from a [`GeoSet`]'s cache.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GeoAnswer<'a> {
    /// The `geo` object, from the City or Country database.
    pub geo: Option<&'a str>,
    /// The `as` object, from the ASN database.
    pub asn: Option<&'a str>,
}

impl GeoAnswer<'_> {
    /// An owned copy.
    pub fn to_owned_answer(&self) -> OwnedGeoAnswer {
        OwnedGeoAnswer {
            geo: self.geo.map(str::to_owned),
            asn: self.asn.map(str::to_owned),
        }
    }
}

/// The fragments for one address, owned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OwnedGeoAnswer {
    /// The `geo` object, from the City or Country database.
    pub geo: Option<String>,
    /// The `as` object, from the ASN database.
    pub asn: Option<String>,
}

/// Default number of cache slots.
pub const DEFAULT_CACHE_SLOTS: usize = 4096;
/// Largest number of cache slots.
pub const MAX_CACHE_SLOTS: usize = 1 << 20;

/// One direct-mapped cache slot: the answer for `key`.
#[derive(Debug, Default)]
struct Slot {
    key: Option<IpAddr>,
    geo: String,
    has_geo: bool,
    asn: String,
    has_asn: bool,
}

/// At most one geo database (City or Country) and one ASN database, the
/// locale for names, and a direct-mapped cache of rendered answers (flow
/// logs repeat addresses).
#[derive(Debug)]
pub struct GeoSet {
    geo: Option<GeoDb>,
    asn: Option<GeoDb>,
    locale: String,
    /// A power of two long; an address always maps to the same slot.
    slots: Vec<Slot>,
    /// Behind `slots`: renderings by record, for `geo` and for `asn`.
    geo_records: RecordCache,
    asn_records: RecordCache,
    lookup_errors: u64,
}

impl Default for GeoSet {
    fn default() -> Self {
        GeoSet::new()
    }
}

impl GeoSet {
    /// An empty set: no databases, locale `en`, [`DEFAULT_CACHE_SLOTS`]
    /// cache slots.
    pub fn new() -> GeoSet {
        let mut set = GeoSet {
            geo: None,
            asn: None,
            locale: "en".to_owned(),
            slots: Vec::new(),
            geo_records: RecordCache::with_slots(RECORD_CACHE_SLOTS),
            asn_records: RecordCache::with_slots(RECORD_CACHE_SLOTS),
            lookup_errors: 0,
        };
        set.set_cache_slots(DEFAULT_CACHE_SLOTS);
        set
    }

    /// Adds a database to its slot ([`DbKind::role`]).
    ///
    /// # Errors
    ///
    /// [`Error::DuplicateKind`] when the slot is taken: a second City or
    /// Country database, or a second ASN/ISP database. The set is unchanged.
    pub fn add(&mut self, db: GeoDb) -> Result<(), Error> {
        let slot = match db.kind.role() {
            Role::Geo => &mut self.geo,
            Role::Asn => &mut self.asn,
        };
        if let Some(first) = slot {
            return Err(Error::DuplicateKind {
                role: db.kind.role(),
                first: first.source.clone(),
                second: db.source,
            });
        }
        *slot = Some(db);
        self.clear_cache();
        Ok(())
    }

    /// The City or Country database.
    pub fn geo_db(&self) -> Option<&GeoDb> {
        self.geo.as_ref()
    }

    /// The ASN database.
    pub fn asn_db(&self) -> Option<&GeoDb> {
        self.asn.as_ref()
    }

    /// Whether no database was added.
    pub fn is_empty(&self) -> bool {
        self.geo.is_none() && self.asn.is_none()
    }

    /// Sets the locale of names (`country_name`, `region_name`,
    /// `city_name`), e.g. `de`, `pt-BR`, `zh-CN`. A name missing in that
    /// locale falls back to English. An empty locale means `en`.
    pub fn set_locale(&mut self, locale: &str) {
        let locale = if locale.is_empty() { "en" } else { locale };
        if locale != self.locale {
            locale.clone_into(&mut self.locale);
            self.clear_cache();
        }
    }

    /// The locale of names.
    pub fn locale(&self) -> &str {
        &self.locale
    }

    /// Sets the number of cache slots, rounded up to a power of two,
    /// between 1 and [`MAX_CACHE_SLOTS`]. Each slot holds one address's
    /// rendered answer; an address always uses the same slot.
    pub fn set_cache_slots(&mut self, slots: usize) {
        let slots = slots.clamp(1, MAX_CACHE_SLOTS).next_power_of_two();
        self.slots.clear();
        self.slots.resize_with(slots, Slot::default);
    }

    /// The number of cache slots.
    pub fn cache_slots(&self) -> usize {
        self.slots.len()
    }

    /// Sets the number of slots of each database's record cache, rounded
    /// up to a power of two, between 1 and [`MAX_CACHE_SLOTS`]. Behind the
    /// address slots, each holds the rendering of one database record, which
    /// many addresses share (default 16,384).
    pub fn set_record_cache_slots(&mut self, slots: usize) {
        for records in [&mut self.geo_records, &mut self.asn_records] {
            *records = RecordCache {
                misses: records.misses,
                ..RecordCache::with_slots(slots)
            };
        }
    }

    /// The number of slots of each database's record cache.
    pub fn record_cache_slots(&self) -> usize {
        self.geo_records.len
    }

    /// How many records [`lookup`](Self::lookup) decoded (or tried to): the
    /// lookups that neither the address slots nor the record caches could
    /// answer.
    pub fn records_decoded(&self) -> u64 {
        self.geo_records.misses + self.asn_records.misses
    }

    /// Forgets every cached answer.
    pub fn clear_cache(&mut self) {
        for slot in &mut self.slots {
            slot.key = None;
        }
        self.geo_records.clear();
        self.asn_records.clear();
    }

    /// How many lookups of [`lookup`](Self::lookup) found a record they
    /// could not decode (answered as absent). Cached answers are not
    /// decoded again, so an address counts once while it stays cached.
    pub fn lookup_errors(&self) -> u64 {
        self.lookup_errors
    }

    /// The fragments for `ip`, through the cache. Non-global addresses
    /// ([`is_global`]) get none; IPv4-mapped and NAT64 (`64:ff9b::/96`)
    /// IPv6 addresses are looked up as their IPv4 address. A record that
    /// cannot be decoded is answered as absent and counted in
    /// [`lookup_errors`](Self::lookup_errors).
    pub fn lookup(&mut self, ip: IpAddr) -> GeoAnswer<'_> {
        let Some(addr) = global::lookup_address(ip) else {
            return GeoAnswer::default();
        };
        if self.is_empty() {
            return GeoAnswer::default();
        }
        let index = slot_index(addr, self.slots.len());
        let Some(slot) = self.slots.get_mut(index) else {
            // Unreachable: the index is masked to the length, which is >= 1.
            return GeoAnswer::default();
        };
        if slot.key != Some(addr) {
            slot.key = Some(addr);
            // A record that cannot be decoded is answered as absent, and counted.
            let errors = &mut self.lookup_errors;
            let mut render = |db, records, out| {
                render_into(db, addr, &self.locale, Some(records), out).unwrap_or_else(|_| {
                    *errors += 1;
                    false
                })
            };
            slot.has_geo = render(self.geo.as_ref(), &mut self.geo_records, &mut slot.geo);
            slot.has_asn = render(self.asn.as_ref(), &mut self.asn_records, &mut slot.asn);
        }
        GeoAnswer {
            geo: slot.has_geo.then_some(slot.geo.as_str()),
            asn: slot.has_asn.then_some(slot.asn.as_str()),
        }
    }

    /// The fragments for `ip`, without the cache, reporting a record that
    /// cannot be decoded as an error. Same addresses as
    /// [`lookup`](Self::lookup).
    ///
    /// # Errors
    ///
    /// [`Error::Lookup`] when a database has a record for the address that
    /// cannot be decoded.
    pub fn try_lookup(&self, ip: IpAddr) -> Result<OwnedGeoAnswer, Error> {
        let Some(addr) = global::lookup_address(ip) else {
            return Ok(OwnedGeoAnswer::default());
        };
        let mut geo = String::new();
        let mut asn = String::new();
        let has_geo = render_into(self.geo.as_ref(), addr, &self.locale, None, &mut geo)?;
        let has_asn = render_into(self.asn.as_ref(), addr, &self.locale, None, &mut asn)?;
        Ok(OwnedGeoAnswer {
            geo: has_geo.then_some(geo),
            asn: has_asn.then_some(asn),
        })
    }
}

fn render_into(
    db: Option<&GeoDb>,
    ip: IpAddr,
    locale: &str,
    records: Option<&mut RecordCache>,
    out: &mut String,
) -> Result<bool, Error> {
    match db {
        Some(db) => db.render(ip, locale, records, out),
        None => {
            out.clear();
            Ok(false)
        }
    }
}

/// The cache slot of `ip` among `len` (a power of two) slots.
fn slot_index(ip: IpAddr, len: usize) -> usize {
    let key = match ip {
        IpAddr::V4(v4) => u64::from(u32::from(v4)),
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            // Fold the halves; truncation is the point.
            ((bits >> 64) as u64) ^ (bits as u64) ^ 0x5555_5555_5555_5555
        }
    };
    slot_hash(key, len)
}

/// The slot of `key` among `len` (a power of two) slots.
fn slot_hash(key: u64, len: usize) -> usize {
    // Fibonacci hashing: the top bits of the product are well mixed.
    let hash = key.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let bits = len.trailing_zeros();
    if bits == 0 {
        0
    } else {
        // bits <= 20, so the shifted value fits any usize.
        (hash >> (64 - bits)) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        for (t, k) in [
            ("GeoIP2-City", Some(DbKind::City)),
            ("GeoLite2-City", Some(DbKind::City)),
            ("GeoIP2-City-Test", Some(DbKind::City)),
            ("DBIP-City-Lite", Some(DbKind::City)),
            ("GeoIP2-Country", Some(DbKind::Country)),
            ("GeoLite2-Country", Some(DbKind::Country)),
            ("GeoLite2-ASN", Some(DbKind::Asn)),
            ("GeoIP2-ISP", Some(DbKind::Asn)),
            ("GeoIP2-Anonymous-IP", None),
            ("GeoIP2-Domain", None),
            ("GeoIP2-Connection-Type", None),
            ("GeoIP2-Enterprise", Some(DbKind::City)),
            ("MaxMind-DB-test-decoder", None),
            ("", None),
        ] {
            assert_eq!(DbKind::from_database_type(t), k, "{t}");
        }
        assert_eq!(DbKind::City.role(), Role::Geo);
        assert_eq!(DbKind::Country.role(), Role::Geo);
        assert_eq!(DbKind::Asn.role(), Role::Asn);
    }

    #[test]
    fn slot_indexes_stay_in_range() {
        for len in [1, 2, 4096, MAX_CACHE_SLOTS] {
            for ip in [
                "0.0.0.0",
                "255.255.255.255",
                "::",
                "ffff:ffff::ffff",
                "89.160.20.112",
            ] {
                assert!(slot_index(ip.parse().unwrap(), len) < len);
            }
        }
    }

    #[test]
    fn cache_slots_are_powers_of_two() {
        let mut set = GeoSet::new();
        assert_eq!(set.cache_slots(), DEFAULT_CACHE_SLOTS);
        set.set_cache_slots(0);
        assert_eq!(set.cache_slots(), 1);
        set.set_cache_slots(1000);
        assert_eq!(set.cache_slots(), 1024);
        set.set_cache_slots(usize::MAX);
        assert_eq!(set.cache_slots(), MAX_CACHE_SLOTS);
    }

    #[test]
    fn empty_set_answers_nothing() {
        let mut set = GeoSet::default();
        assert_eq!(
            set.lookup("89.160.20.112".parse().unwrap()),
            GeoAnswer::default()
        );
        assert_eq!(
            set.try_lookup("89.160.20.112".parse().unwrap()).unwrap(),
            OwnedGeoAnswer::default()
        );
    }

    #[test]
    fn garbage_is_refused() {
        for bytes in [
            Vec::new(),
            vec![0; 100],
            b"\xAB\xCD\xEFMaxMind.com".to_vec(),
        ] {
            let err = GeoDb::from_bytes(bytes, "x.mmdb").unwrap_err();
            assert!(err.to_string().starts_with("x.mmdb: "), "{err}");
        }
    }
}
