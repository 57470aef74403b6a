//! Which data files the component has already accepted, so that later loads
//! of the same bytes can skip the whole-file checks (`data-file.verified`,
//! WIT 0.3.0).
//!
//! The full verification of a full-size City database is most of flowtag's
//! start-up (~0.6 s in the guest), and it used to be paid again by every
//! worker, by every fresh instance built to isolate a poison record, by
//! every reload and by every run of a pipeline that starts flowtag often.
//!
//! A file's key is a BLAKE3 hash over the component's own BLAKE3 hash, the
//! kind the file is given as, and the file's bytes: another plugin, another
//! kind or one changed byte means verifying again. The hashing lies on every
//! warm start's critical path, so the hash is BLAKE3: ≈ 9 ms for the 56 MB of
//! data files of the benchmark here, where SHA-256 (with the CPU's SHA
//! extensions) took ≈ 45 ms. Keys are kept in memory for the run and, when
//! the compile cache is on, as empty files named by the key in `verified/`
//! under the cache directory, which [`crate::cache`] keeps private to the
//! user (the compiled code beside it is trusted far more).
//! Keys unused for 30 days are removed when a new one is written.
//! A wrong key could at worst let a corrupt file through to lookups that
//! fail; the guest checks every read either way.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime};

use crate::runtime::{DataFile, DataKind, ProcessorConfig};

/// The name of the key directory inside the cache directory.
const DIRECTORY: &str = "verified";

/// Keys not used for this long are removed.
const UNUSED_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// A data file's identity for [`VerifiedFiles`].
type Key = [u8; 32];

/// See the module docs.
#[derive(Debug)]
pub struct VerifiedFiles {
    component: Key,
    seen: Mutex<HashSet<Key>>,
    /// `<cache>/verified`, when keys are kept between runs.
    directory: Option<PathBuf>,
    /// A key could not be written: said once, not for every file.
    warned: AtomicBool,
}

impl VerifiedFiles {
    /// Keys for the component `wasm`; kept between runs in `cache_dir`
    /// (already checked to be private) when given.
    pub fn new(wasm: &[u8], cache_dir: Option<PathBuf>) -> VerifiedFiles {
        VerifiedFiles {
            component: blake3::hash(wasm).into(),
            seen: Mutex::new(HashSet::new()),
            directory: cache_dir.map(|dir| dir.join(DIRECTORY)),
            warned: AtomicBool::new(false),
        }
    }

    fn key(&self, kind: DataKind, file: &DataFile) -> Key {
        let mut hash = blake3::Hasher::new();
        hash.update(b"flowtag verified data file v2 (BLAKE3)\0");
        hash.update(&self.component);
        hash.update(&[kind as u8]);
        hash.update(&file.data);
        hash.finalize().into()
    }

    fn contains(&self, key: &Key) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.contains(key) {
            return true;
        }
        let Some(path) = self.directory.as_ref().map(|dir| dir.join(hex(key))) else {
            return false;
        };
        // Opening it also marks it used (its mtime), so pruning keeps it.
        let on_disk = std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .is_ok_and(|file| {
                let _ = file.set_modified(SystemTime::now());
                true
            });
        if on_disk {
            seen.insert(*key);
        }
        on_disk
    }

    /// Removes keys unused for [`UNUSED_FOR`]: data files are replaced
    /// (ip-ranges.json changes several times a day), so keys would pile up.
    /// Runs only after a full verification, which is rare and slow anyway.
    fn prune(dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| {
                    now.duration_since(modified).unwrap_or_default() > UNUSED_FOR
                });
            let is_key = entry.file_name().len() == 64;
            if stale && is_key {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    fn record(&self, key: Key) {
        let new = self
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key);
        let Some(dir) = self.directory.as_ref().filter(|_| new) else {
            return;
        };
        Self::prune(dir);
        let written =
            std::fs::create_dir_all(dir).and_then(|()| std::fs::write(dir.join(hex(&key)), b""));
        if let Err(error) = written
            && !self.warned.swap(true, Ordering::Relaxed)
        {
            eprintln!(
                "flowtag: warning: cannot remember verified data files in {}: {error}",
                dir.display()
            );
        }
    }

    /// Sets each data file's `verified` flag: whether this component
    /// accepted the same bytes as the same kind before.
    pub fn mark(&self, config: &mut ProcessorConfig) {
        let nothing_known = self.directory.is_none()
            && self
                .seen
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_empty();
        if nothing_known {
            // Without the cache, at start: no need to hash anything yet.
            return;
        }
        for_each_file(config, |kind, file| {
            file.verified = self.contains(&self.key(kind, file));
        });
    }

    /// Remembers the files of `config`, which a constructor of this
    /// component has just accepted, and sets their flags.
    pub fn accepted(&self, config: &mut ProcessorConfig) {
        for_each_file(config, |kind, file| {
            if !file.verified {
                self.record(self.key(kind, file));
                file.verified = true;
            }
        });
    }
}

/// Whether every data file of `config` is marked verified.
pub fn all_verified(config: &ProcessorConfig) -> bool {
    config.geoip.iter().all(|f| f.verified)
        && config.aws_ip_ranges.iter().all(|f| f.verified)
        && config.eni_maps.iter().all(|f| f.verified)
}

fn for_each_file(config: &mut ProcessorConfig, mut visit: impl FnMut(DataKind, &mut DataFile)) {
    for file in &mut config.geoip {
        visit(DataKind::Geoip, file);
    }
    if let Some(file) = &mut config.aws_ip_ranges {
        visit(DataKind::AwsIpRanges, file);
    }
    for file in &mut config.eni_maps {
        visit(DataKind::EniMap, file);
    }
}

fn hex(key: &Key) -> String {
    use std::fmt::Write as _;
    key.iter().fold(String::with_capacity(64), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(data: &[u8]) -> DataFile {
        DataFile {
            name: "f".to_owned(),
            data: data.to_vec(),
            verified: false,
        }
    }

    fn config(geoip: &[u8], ranges: Option<&[u8]>) -> ProcessorConfig {
        ProcessorConfig {
            formats: Vec::new(),
            geoip: vec![file(geoip)],
            geoip_locale: None,
            aws_ip_ranges: ranges.map(file),
            eni_maps: Vec::new(),
            derive_flow: false,
        }
    }

    #[test]
    fn a_key_covers_the_component_the_kind_and_the_bytes() {
        let dir = std::env::temp_dir().join(format!("flowtag-verified-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let files = VerifiedFiles::new(b"component a", Some(dir.clone()));
        let mut first = config(b"db", None);
        files.mark(&mut first);
        assert!(!all_verified(&first));
        files.accepted(&mut first);
        assert!(all_verified(&first));

        let mut same = config(b"db", None);
        files.mark(&mut same);
        assert!(same.geoip[0].verified);
        // The same bytes as another kind, other bytes, another component.
        let mut other = config(b"other", Some(b"db"));
        files.mark(&mut other);
        assert!(!other.geoip[0].verified);
        assert!(!other.aws_ip_ranges.as_ref().is_some_and(|f| f.verified));
        let mut same = config(b"db", None);
        VerifiedFiles::new(b"component b", Some(dir.clone())).mark(&mut same);
        assert!(!same.geoip[0].verified);

        // Kept on disk for the next run of the same component.
        let mut next_run = config(b"db", None);
        VerifiedFiles::new(b"component a", Some(dir.clone())).mark(&mut next_run);
        assert!(next_run.geoip[0].verified);
        // A key unused for 30 days goes when another is written; a used
        // one stays.
        let stale = dir.join("verified").join("ab".repeat(32));
        std::fs::write(&stale, b"").unwrap();
        let old = SystemTime::now() - Duration::from_secs(31 * 24 * 3600);
        for path in [
            &stale,
            &dir.join("verified")
                .join(hex(&files.key(DataKind::Geoip, &file(b"db")))),
        ] {
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(old)
                .unwrap();
        }
        let mut used = config(b"db", None);
        VerifiedFiles::new(b"component a", Some(dir.clone())).mark(&mut used);
        assert!(used.geoip[0].verified);
        let mut fresh = config(b"new", None);
        files.accepted(&mut fresh);
        let left: Vec<String> = std::fs::read_dir(dir.join("verified"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left.len(), 2, "{left:?}");
        assert!(!stale.exists());

        // Not without the directory.
        let mut no_cache = config(b"db", None);
        VerifiedFiles::new(b"component a", None).mark(&mut no_cache);
        assert!(!no_cache.geoip[0].verified);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
