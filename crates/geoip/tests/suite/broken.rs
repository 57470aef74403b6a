//! Every corrupt database of `<shared>/data/mmdb/broken` (the four broken
//! files of MaxMind's `test-data/` and, recursively, upstream's `bad-data/`
//! corpus) is refused by [`GeoDb::from_bytes`], with an error that names
//! the file, and without a panic.
//!
//! Which error each gives is pinned below: the reader refuses some when
//! opening them (`Open`); the others open (and some even answer lookups)
//! and only the full verification catches them (`Verify`).
//!
//! The metadata of upstream's libmaxminddb files has an empty
//! `description`, which verification refuses before it looks any further.
//! So that their real defect is tested too, each of those is also fed with
//! its metadata re-encoded plus a description: still refused, except the
//! three in [`SOUND_ONCE_PATCHED`].

use std::path::{Path, PathBuf};

use std::net::IpAddr;

use geoip::{Error, GeoDb, GeoSet};

use crate::common::{XorShift, read, shared_data};

/// Files the reader refuses to open, by file name. Every other file in
/// `broken/` must fail verification.
const OPEN_FAILS: &[&str] = &[
    "GeoIP2-City-Test-Invalid-Node-Count.mmdb",
    "libmaxminddb-metadata-marker-only.mmdb",
    "libmaxminddb-offset-integer-overflow.mmdb",
    "libmaxminddb-uint64-max-epoch.mmdb",
    "cyclic-data-structure.mmdb",
    "invalid-bytes-length.mmdb",
    "invalid-data-record-offset.mmdb",
    "invalid-map-key-length.mmdb",
    "invalid-string-length.mmdb",
    "metadata-is-an-uint128.mmdb",
    "unexpected-bytes.mmdb",
];

/// `.mmdb` files under `dir`, recursively, sorted.
fn mmdb_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "mmdb") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn variant(err: &Error) -> &'static str {
    match err {
        Error::Open { .. } => "Open",
        Error::Verify { .. } => "Verify",
        Error::InvalidMetadata { .. } => "InvalidMetadata",
        Error::UnsupportedType { .. } => "UnsupportedType",
        Error::DuplicateKind { .. } => "DuplicateKind",
        Error::Lookup { .. } => "Lookup",
        _ => "other",
    }
}

#[test]
fn every_broken_database_is_refused() {
    let Some(dir) = shared_data("mmdb/broken") else {
        return;
    };
    let files = mmdb_files(&dir);
    // 4 from test-data, 13 + 7 + 1 from bad-data.
    assert!(
        files.len() >= 25,
        "only {} files under {}",
        files.len(),
        dir.display()
    );
    let mut report = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("a UTF-8 file name");
        let rel = path
            .strip_prefix(&dir)
            .expect("under broken/")
            .display()
            .to_string();
        let err = match GeoDb::from_bytes(read(path), &rel) {
            Ok(db) => panic!("{rel}: accepted as {} ({})", db.kind(), db.database_type()),
            Err(err) => err,
        };
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!("{rel}: ")),
            "{rel}: message does not name it: {msg}"
        );
        let got = variant(&err);
        let want = if OPEN_FAILS.contains(&name) {
            "Open"
        } else {
            "Verify"
        };
        assert_eq!(got, want, "{rel}: {msg}");
        report.push(format!("  {got:<6} {msg}"));
    }
    eprintln!("broken databases ({}):\n{}", files.len(), report.join("\n"));
}

/// Without the full verification ([`GeoDb::from_verified_bytes`], for bytes a
/// host says passed it before) a corrupt file may open; then every lookup
/// must still come back, as an answer or an error, never as a panic (a trap
/// in the guest).
#[test]
fn broken_databases_opened_unverified_never_panic() {
    let Some(dir) = shared_data("mmdb/broken") else {
        return;
    };
    let mut rng = XorShift(0x5eed_0b0e);
    let mut opened = Vec::new();
    for path in mmdb_files(&dir) {
        let name = path.display().to_string();
        let bytes = read(&path);
        // Also patched to a City database with a description, so that the
        // files of type "Test" get as far as lookups too.
        let mut variants = vec![bytes.clone()];
        if let Ok(reader) = maxminddb::Reader::from_source(bytes.as_slice()) {
            let mut meta = reader.metadata().clone();
            meta.database_type = "GeoLite2-City".to_owned();
            variants.push(with_description(&bytes, &meta));
        }
        for bytes in variants {
            // Addresses the tree has records for, as far as a walk gets.
            let mut addresses: Vec<IpAddr> = maxminddb::Reader::from_source(bytes.as_slice())
                .ok()
                .and_then(|reader| {
                    let networks = reader.networks(maxminddb::WithinOptions::default()).ok()?;
                    Some(
                        networks
                            .take(500)
                            .filter_map(|found| Some(found.ok()?.network().ok()?.ip()))
                            .collect(),
                    )
                })
                .unwrap_or_default();
            let Ok(db) = GeoDb::from_verified_bytes(bytes, &name) else {
                continue;
            };
            let mut set = GeoSet::new();
            set.add(db).expect("an empty set takes any kind");
            for _ in 0..1000 {
                let bits = rng.next_u64();
                addresses.push(IpAddr::from(((bits >> 32) as u32).to_be_bytes()));
                addresses.push(IpAddr::from(
                    (u128::from(bits) << 64 | u128::from(rng.next_u64())).to_be_bytes(),
                ));
            }
            for ip in addresses {
                let _ = set.try_lookup(ip);
                let _ = set.lookup(ip);
            }
            opened.push(name.clone());
        }
    }
    assert!(
        opened.len() >= 10,
        "only {} broken databases opened unverified",
        opened.len()
    );
    eprintln!(
        "opened unverified, looked up without a panic: {}",
        opened.len()
    );
}

/// Files that are sound once their metadata is re-encoded with a
/// description (they then open as the unsupported type `Test`):
///
/// - the two `*-last-in-metadata` files: their defect (an empty array or
///   map closing the metadata) lives in the metadata that re-encoding
///   replaces;
/// - `corrupt-search-tree`: an IPv4 tree of 100 nodes whose root points
///   both ways to the one record; nodes 1 to 99 are zeros (pointing back at
///   node 0) but unreachable from the root, so lookups are sound and the
///   reader's verification, which walks from the root, passes. It broke
///   readers that walk every node by index.
const SOUND_ONCE_PATCHED: &[&str] = &[
    "libmaxminddb-corrupt-search-tree.mmdb",
    "libmaxminddb-empty-array-last-in-metadata.mmdb",
    "libmaxminddb-empty-map-last-in-metadata.mmdb",
];

#[test]
fn broken_databases_with_a_description_are_still_refused() {
    let Some(dir) = shared_data("mmdb/broken") else {
        return;
    };
    let mut report = Vec::new();
    for path in mmdb_files(&dir) {
        let bytes = read(&path);
        let Ok(reader) = maxminddb::Reader::from_source(bytes.as_slice()) else {
            continue;
        };
        let meta = reader.metadata();
        if !meta.description.is_empty() {
            continue;
        }
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("UTF-8 name");
        let patched = with_description(&bytes, meta);
        // The patch itself is sound: the metadata now verifies.
        let result = GeoDb::from_bytes(patched, name);
        if SOUND_ONCE_PATCHED.contains(&name) {
            assert!(
                matches!(&result, Err(Error::UnsupportedType { database_type, .. }) if database_type == "Test"),
                "{name}: once patched it should verify: {result:?}"
            );
            report.push(format!(
                "  sound  {name}: verifies, then unsupported type \"Test\""
            ));
            continue;
        }
        let err = result
            .err()
            .unwrap_or_else(|| panic!("{name}: accepted once patched"));
        let msg = err.to_string();
        assert!(!msg.contains("description"), "{name}: {msg}");
        report.push(format!("  {:<6} {msg}", variant(&err)));
    }
    assert!(report.len() >= 10, "too few patched files: {report:?}");
    eprintln!(
        "broken databases with a description patched in:\n{}",
        report.join("\n")
    );
}

/// `bytes` with its metadata replaced by `meta` re-encoded, plus a
/// description.
fn with_description(bytes: &[u8], meta: &maxminddb::Metadata) -> Vec<u8> {
    const MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";
    let at = bytes
        .windows(MARKER.len())
        .rposition(|w| w == MARKER)
        .expect("a metadata marker");
    let mut out = bytes[..at + MARKER.len()].to_vec();
    let mut e = Encoder(&mut out);
    e.header(7, 9);
    e.string("binary_format_major_version");
    e.uint(5, u64::from(meta.binary_format_major_version));
    e.string("binary_format_minor_version");
    e.uint(5, u64::from(meta.binary_format_minor_version));
    e.string("build_epoch");
    e.uint(9, meta.build_epoch);
    e.string("database_type");
    e.string(&meta.database_type);
    e.string("description");
    e.header(7, 1);
    e.string("en");
    e.string("patched by the geoip tests");
    e.string("ip_version");
    e.uint(5, u64::from(meta.ip_version));
    e.string("languages");
    e.header(11, meta.languages.len());
    for language in &meta.languages {
        e.string(language);
    }
    e.string("node_count");
    e.uint(6, u64::from(meta.node_count));
    e.string("record_size");
    e.uint(5, u64::from(meta.record_size));
    out
}

/// Just enough of the MaxMind DB data encoding for metadata.
struct Encoder<'a>(&'a mut Vec<u8>);

impl Encoder<'_> {
    /// A control byte (and extended type byte) and the size.
    fn header(&mut self, ty: u8, size: usize) {
        let (bits, extra): (u8, Vec<u8>) = match size {
            0..=28 => (u8::try_from(size).expect("small"), Vec::new()),
            29..=284 => (29, vec![u8::try_from(size - 29).expect("fits")]),
            285..=65_820 => (
                30,
                u16::try_from(size - 285)
                    .expect("fits")
                    .to_be_bytes()
                    .to_vec(),
            ),
            _ => (
                31,
                u32::try_from(size - 65_821).expect("fits").to_be_bytes()[1..].to_vec(),
            ),
        };
        if ty <= 7 {
            self.0.push((ty << 5) | bits);
        } else {
            self.0.push(bits);
            self.0.push(ty - 7);
        }
        self.0.extend(extra);
    }

    fn string(&mut self, s: &str) {
        self.header(2, s.len());
        self.0.extend_from_slice(s.as_bytes());
    }

    /// An unsigned integer of type 5 (uint16), 6 (uint32) or 9 (uint64).
    fn uint(&mut self, ty: u8, v: u64) {
        let be = v.to_be_bytes();
        let skip = be.iter().take_while(|b| **b == 0).count();
        self.header(ty, be.len() - skip);
        self.0.extend_from_slice(&be[skip..]);
    }
}
