//! Where the compiled component is cached between runs.
//!
//! Compiling the component takes ~60 ms and more for larger plugins, and
//! pipelines start flowtag often. wasmtime's own cache stores the compiled
//! code keyed by wasmtime's version, the engine's settings and a SHA-256 of
//! the component, so a changed plugin or a new flowtag never loads a stale
//! artifact. Loading compiled code is loading code that will run: the
//! directory must be the user's own and closed to everyone else, and flowtag
//! never loads compiled code from any other place.

use std::path::{Path, PathBuf};

/// `$XDG_CACHE_HOME/flowtag`, else `$HOME/.cache/flowtag`; `None` when
/// neither variable names an absolute path.
pub fn default_dir() -> Option<PathBuf> {
    let absolute = |var: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    absolute("XDG_CACHE_HOME")
        .or_else(|| absolute("HOME").map(|home| home.join(".cache")))
        .map(|base| base.join("flowtag"))
}

/// Creates `directory` (mode 0700) if needed and checks that it belongs to
/// this user and that nobody else can write to it; otherwise says why not.
pub fn prepare_private_dir(directory: &Path) -> Result<(), String> {
    if !directory.is_absolute() {
        return Err("the cache directory must be an absolute path".to_owned());
    }
    create_private(directory).map_err(|e| format!("cannot create it: {e}"))?;
    check_private(directory)
}

#[cfg(unix)]
fn create_private(directory: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if directory.is_dir() {
        return Ok(());
    }
    if let Some(parent) = directory.parent() {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(directory) {
        // Another flowtag may have created it meanwhile.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other,
    }
}

#[cfg(not(unix))]
fn create_private(directory: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(directory)
}

#[cfg(unix)]
fn check_private(directory: &Path) -> Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    // Not following a symlink: a link planted by someone else must not
    // redirect the cache.
    let metadata = std::fs::symlink_metadata(directory).map_err(|e| e.to_string())?;
    if !metadata.is_dir() {
        return Err("it is not a directory".to_owned());
    }
    let owner = metadata.uid();
    let me = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(owner);
    if owner != me {
        return Err(format!("it belongs to uid {owner}, not to this user"));
    }
    if metadata.mode() & 0o022 != 0 {
        return Err(format!(
            "others can write to it (mode {:o}); `chmod 700` it",
            metadata.mode() & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_directory: &Path) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_world_writable_cache_is_refused() {
        let base = std::env::temp_dir().join(format!("flowtag-cache-test-{}", std::process::id()));
        let dir = base.join("flowtag");
        prepare_private_dir(&dir).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
            let refused = prepare_private_dir(&dir).unwrap_err();
            assert!(refused.contains("others can write"), "{refused}");
        }
        assert!(prepare_private_dir(Path::new("relative/dir")).is_err());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
