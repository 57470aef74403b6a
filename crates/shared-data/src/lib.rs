//! Where the conformance tests find the public data of the `shared` folder
//! (AWS ip-ranges snapshots, MaxMind test databases, flow-log samples).
//!
//! The folder is `$FLOWTAG_SHARED_DIR`, else `shared` beside the workspace.
//! A clone without it still passes the test suite: the tests that need it
//! are skipped with a note, unless `FLOWTAG_REQUIRE_SHARED` is set (CI sets
//! it), which makes a missing file a failure.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The shared folder, whether or not it exists.
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("FLOWTAG_SHARED_DIR") {
        Some(dir) => PathBuf::from(dir),
        // This crate is <workspace>/crates/shared-data.
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    }
}

/// `<shared>/data/<relative>` (a file or a folder) when it exists; else
/// `None`, after a note on stderr (once per path).
///
/// # Panics
///
/// When it is missing and `FLOWTAG_REQUIRE_SHARED` is set.
pub fn locate(relative: &str) -> Option<PathBuf> {
    let path = shared_dir().join("data").join(relative);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("FLOWTAG_REQUIRE_SHARED").is_none(),
        "FLOWTAG_REQUIRE_SHARED is set but {} is missing (put the shared folder beside the \
         workspace or set FLOWTAG_SHARED_DIR)",
        path.display()
    );
    static NOTED: Mutex<BTreeSet<String>> = Mutex::new(BTreeSet::new());
    let first = NOTED
        .lock()
        .map_or(true, |mut noted| noted.insert(relative.to_owned()));
    if first {
        // Straight to stderr: the test harness captures `eprintln!` of a
        // passing test, and a skip should be seen.
        let _ = writeln!(
            std::io::stderr(),
            "note: tests on shared data skipped: {} not found (set FLOWTAG_SHARED_DIR to the \
             shared folder; FLOWTAG_REQUIRE_SHARED=1 makes this a failure)",
            path.display()
        );
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_what_exists_and_skips_what_does_not() {
        let shared = shared_dir();
        let present = shared.join("data").is_dir();
        if std::env::var_os("FLOWTAG_REQUIRE_SHARED").is_none() {
            assert_eq!(locate("no-such-data/at-all"), None);
        }
        if present {
            let found = locate(".").expect("the data folder exists");
            assert!(found.is_dir(), "{}", found.display());
        }
    }
}
