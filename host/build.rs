//! Builds the default guest component (`plugin/`) for wasm32-wasip2 and hands
//! its path to the host, which embeds it with `include_bytes!`. The same cargo
//! call builds the misbehaving test component (`tests/misbehaving-plugin/`,
//! a few seconds on top) whose path the tests get as `FLOWTAG_TEST_PLUGIN`.
//!
//! - `FLOWTAG_PLUGIN_WASM=/path/to/flowtag_plugin.wasm` skips the nested build
//!   (CI caches, packagers).
//! - A toolchain without the wasm32-wasip2 target gets it via
//!   `rustup target add` (set `FLOWTAG_NO_AUTO_TARGET=1` to refuse), or the
//!   build stops with the exact command to run.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let workspace = manifest_dir
        .parent()
        .expect("host/ lives in the workspace")
        .to_path_buf();

    for path in [
        "plugin/src",
        "tests/misbehaving-plugin/src",
        "tests/misbehaving-plugin/Cargo.toml",
        "plugin/Cargo.toml",
        "crates",
        "wit",
        "Cargo.lock",
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={}", workspace.join(path).display());
    }
    println!("cargo:rerun-if-env-changed=FLOWTAG_PLUGIN_WASM");
    println!("cargo:rerun-if-env-changed=FLOWTAG_NO_AUTO_TARGET");

    emit_versions(&workspace);

    let wasm = match env::var_os("FLOWTAG_PLUGIN_WASM") {
        // No test component then: the tests that need it say so and fail.
        Some(path) => {
            let path = PathBuf::from(path);
            if !path.is_file() {
                fail(&format!(
                    "FLOWTAG_PLUGIN_WASM names {}, which is not a file",
                    path.display()
                ));
            }
            path
        }
        None => build_guest(&workspace),
    };
    println!("cargo:rustc-env=FLOWTAG_DEFAULT_PLUGIN={}", wasm.display());
}

/// The WIT package name and version, and the wasmtime version, for `--version`.
fn emit_versions(workspace: &Path) {
    let wit = std::fs::read_to_string(workspace.join("wit/flowtag.wit"))
        .unwrap_or_else(|e| fail(&format!("cannot read wit/flowtag.wit: {e}")));
    let package = wit
        .lines()
        .find_map(|line| line.trim().strip_prefix("package "))
        .and_then(|rest| rest.strip_suffix(';'))
        .unwrap_or_else(|| fail("wit/flowtag.wit has no `package …;` line"));
    println!("cargo:rustc-env=FLOWTAG_WIT_PACKAGE={package}");

    let lock = std::fs::read_to_string(workspace.join("Cargo.lock")).unwrap_or_default();
    let wasmtime = lock
        .split("[[package]]")
        .find(|entry| entry.contains("\nname = \"wasmtime\"\n"))
        .and_then(|entry| entry.lines().find_map(|l| l.strip_prefix("version = ")))
        .map(|v| v.trim_matches('"').to_owned())
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=FLOWTAG_WASMTIME_VERSION={wasmtime}");
}

fn build_guest(workspace: &Path) -> PathBuf {
    ensure_target();
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    // Its own target directory: no lock contention with the outer build, and
    // shared by debug and release builds of the host.
    let target_dir = match env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir).join("guest"),
        None => workspace.join("target").join("guest"),
    };
    let mut command = Command::new(cargo);
    command
        .current_dir(workspace)
        .args([
            "build",
            "--package",
            "flowtag-plugin",
            "--package",
            "flowtag-test-plugin",
            "--profile",
            "guest",
            "--target",
            TARGET,
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's flags and wrappers are for the host, not the guest;
    // RUSTFLAGS would also hide `.cargo/config.toml`'s +simd128 for the guest.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        command.env_remove(var);
    }
    let status = command
        .status()
        .unwrap_or_else(|e| fail(&format!("cannot run cargo for the guest build: {e}")));
    if !status.success() {
        fail(
            "building the guest component (plugin/) for wasm32-wasip2 failed; see the output above",
        );
    }
    let built = target_dir.join(TARGET).join("guest");
    let wasm = built.join("flowtag_plugin.wasm");
    let test_wasm = built.join("flowtag_test_plugin.wasm");
    for path in [&wasm, &test_wasm] {
        if !path.is_file() {
            fail(&format!(
                "the guest build succeeded but {} is missing",
                path.display()
            ));
        }
    }
    println!(
        "cargo:rustc-env=FLOWTAG_TEST_PLUGIN={}",
        test_wasm.display()
    );
    wasm
}

/// Makes sure the toolchain can build for wasm32-wasip2.
fn ensure_target() {
    if target_installed() {
        return;
    }
    let toolchain = env::var("RUSTUP_TOOLCHAIN").ok();
    let instruction = match &toolchain {
        Some(t) => format!("rustup target add {TARGET} --toolchain {t}"),
        None => format!("rustup target add {TARGET}"),
    };
    if env::var_os("FLOWTAG_NO_AUTO_TARGET").is_some() {
        fail(&format!(
            "the Rust target {TARGET} is not installed, and FLOWTAG_NO_AUTO_TARGET forbids installing it. Run:\n    {instruction}"
        ));
    }
    println!("cargo:warning=installing the Rust target {TARGET}: {instruction}");
    let mut command = Command::new("rustup");
    command.args(["target", "add", TARGET]);
    if let Some(t) = &toolchain {
        command.args(["--toolchain", t]);
    }
    let installed = command.status().map(|s| s.success()).unwrap_or(false);
    if !installed || !target_installed() {
        fail(&format!(
            "the Rust target {TARGET} is not installed and could not be installed automatically. Run:\n    {instruction}"
        ));
    }
}

fn target_installed() -> bool {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let Ok(output) = Command::new(rustc)
        .args(["--print", "target-libdir", "--target", TARGET])
        .output()
    else {
        return false;
    };
    if !output.status.success() {
        return false;
    }
    let libdir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
    std::fs::read_dir(&libdir)
        .map(|mut entries| {
            entries.any(|e| e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("libstd-")))
        })
        .unwrap_or(false)
}

fn fail(message: &str) -> ! {
    eprintln!("\nerror: {message}\n");
    std::process::exit(1);
}
