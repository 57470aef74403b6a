//! End-to-end tests of the `flowtag` binary with the embedded component.
//!
//! Golden tests: each `tests/golden/NAME.log` (with optional `NAME.args`,
//! one argument per line) is run through `flowtag --errors FILE`; stdout
//! must equal `NAME.ndjson` and the rejections `NAME.errors.ndjson` (with
//! `file` reduced to the bare file name). `FLOWTAG_BLESS=1` rewrites the
//! expected files; review every changed line before committing. In `.args`,
//! `{golden}` stands for the golden directory and `{generated}` for the
//! directory of the GeoIP databases the tests write (`support/mmdb.rs`).

// A test binary: a panic with the failed call is the report we want, in
// helpers as much as in the #[test] functions.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use random::Random;
use serde_json::Value;

#[path = "cli_enrichment.rs"]
mod enrichment;
#[path = "support/mmdb.rs"]
mod mmdb;
#[path = "support/random.rs"]
mod random;

fn flowtag() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_flowtag"));
    // A cache of the tests' own, shared by them: not the user's.
    command.env("XDG_CACHE_HOME", test_cache());
    command
}

fn test_cache() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cache")
}

/// The misbehaving component built by host/build.rs
/// (tests/misbehaving-plugin: markers TRAP, LOOP, GROW, DEEP, FLOOD, ESCAPE,
/// REJECT).
fn test_plugin() -> &'static str {
    match option_env!("FLOWTAG_TEST_PLUGIN") {
        Some(path) => path,
        None => panic!(
            "FLOWTAG_TEST_PLUGIN is not set: the test component is only built with the default plugin (not with FLOWTAG_PLUGIN_WASM)"
        ),
    }
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/golden")
}

/// A path in this run's scratch directory. It lives in cargo's target
/// tmpdir (which `cargo clean` removes), not in the system's /tmp, and runs
/// that ended leave none behind for long: the next run sweeps them.
fn scratch(name: &str) -> PathBuf {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
        sweep_ended_runs(&root);
        let dir = root.join(format!("scratch-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    })
    .join(name)
}

/// Removes the scratch directories of test runs whose process is gone.
/// Only where /proc tells which processes live; elsewhere they stay in
/// the target directory.
fn sweep_ended_runs(root: &Path) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("scratch-")) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn run(args: &[&str], stdin: &[u8]) -> Output {
    let mut command = flowtag();
    command.args(args);
    run_command(command, stdin)
}

/// Runs `command` with `stdin` written from a thread (the output could fill
/// its pipe first).
fn run_command(mut command: Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    output
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn ndjson(bytes: &[u8]) -> Vec<Value> {
    String::from_utf8(bytes.to_vec())
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

/// The counts in the summary line: read, written, rejected, headers, skipped.
fn summary(output: &Output) -> [u64; 5] {
    let text = stderr(output);
    let line = text
        .lines()
        .rfind(|l| l.contains("records read"))
        .unwrap_or_else(|| panic!("no summary in {text}"));
    let number = |label: &str| -> u64 {
        let before = line.split(label).next().unwrap();
        before
            .rsplit(|c: char| !c.is_ascii_digit())
            .find(|s| !s.is_empty())
            .unwrap()
            .parse()
            .unwrap()
    };
    let counts = [
        number(" records read"),
        number(" written"),
        number(" rejected"),
        number(" header lines"),
        number(" skipped"),
    ];
    assert_eq!(
        counts[0],
        counts[1] + counts[2],
        "read = written + rejected: {line}"
    );
    counts
}

fn diff(name: &str, expected: &str, actual: &str) -> String {
    let mut report =
        format!("{name} differs from its golden file (FLOWTAG_BLESS=1 rewrites it):\n");
    let expected: Vec<&str> = expected.lines().collect();
    let actual: Vec<&str> = actual.lines().collect();
    for i in 0..expected.len().max(actual.len()) {
        let (e, a) = (expected.get(i), actual.get(i));
        if e != a {
            report.push_str(&format!(
                "line {}:\n  - {}\n  + {}\n",
                i + 1,
                e.unwrap_or(&"<none>"),
                a.unwrap_or(&"<none>")
            ));
        }
    }
    report
}

fn check_golden(path: &Path, actual: &str) {
    if std::env::var_os("FLOWTAG_BLESS").is_some() {
        std::fs::write(path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with FLOWTAG_BLESS=1 to create it)",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{}",
        diff(&path.display().to_string(), &expected, actual)
    );
}

#[test]
fn golden_files() {
    let dir = golden_dir();
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "log"))
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 9,
        "golden cases missing in {}",
        dir.display()
    );
    for input in cases {
        let stem = input.file_stem().unwrap().to_string_lossy().into_owned();
        let args_file = input.with_extension("args");
        let mut args: Vec<String> = match std::fs::read_to_string(&args_file) {
            Ok(text) => text
                .lines()
                .map(|line| {
                    line.replace("{golden}", &dir.display().to_string())
                        .replace("{generated}", &mmdb::generated_dir().display().to_string())
                })
                .collect(),
            Err(_) => Vec::new(),
        };
        let errors = scratch(&format!("{stem}.errors"));
        args.push("--errors".into());
        args.push(errors.display().to_string());
        args.push(input.display().to_string());
        let output = flowtag().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{stem}: {}", stderr(&output));
        let counts = summary(&output);
        let stdout = String::from_utf8(output.stdout.clone()).unwrap();
        assert_eq!(stdout.lines().count() as u64, counts[1], "{stem}");
        // Reports name the file as given; goldens keep the bare name.
        let reports: Vec<String> = std::fs::read_to_string(&errors)
            .unwrap()
            .lines()
            .map(|line| {
                let mut report: serde_json::Map<String, Value> =
                    serde_json::from_str(line).unwrap();
                let file = report["file"].as_str().unwrap().to_owned();
                assert_eq!(Path::new(&file), input.as_path(), "{stem}");
                report.insert("file".into(), Value::from(format!("{stem}.log")));
                serde_json::to_string(&report).unwrap()
            })
            .collect();
        assert_eq!(reports.len() as u64, counts[2], "{stem}");
        let reports = if reports.is_empty() {
            String::new()
        } else {
            reports.join("\n") + "\n"
        };
        check_golden(&input.with_extension("ndjson"), &stdout);
        check_golden(&dir.join(format!("{stem}.errors.ndjson")), &reports);
    }
}

const RECORD: &str = "2 123456789010 eni-0a1b2c3d4e5f60001 10.0.0.1 10.0.0.2 1024 80 6 1 60 1700000000 1700000060 ACCEPT OK\n";

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn numbered_records(count: usize) -> String {
    (0..count)
        .map(|i| format!("2 123456789010 eni-0a1b2c3d4e5f60001 10.0.0.1 10.0.0.2 1024 80 6 1 {i} 1700000000 1700000060 ACCEPT OK\n"))
        .collect()
}

#[test]
fn stdin_files_dash_and_gzip_by_magic_bytes() {
    let plain = scratch("plain.data");
    std::fs::write(&plain, numbered_records(3)).unwrap();
    // gzip without a .gz name, and two gzip members concatenated.
    let zipped = scratch("zipped.data");
    let mut members = gzip(numbered_records(2).as_bytes());
    members.extend(gzip(numbered_records(4).as_bytes()));
    std::fs::write(&zipped, members).unwrap();
    let stdin = gzip(numbered_records(5).as_bytes());

    let output = run(
        &[
            "--no-flow",
            plain.to_str().unwrap(),
            "-",
            zipped.to_str().unwrap(),
        ],
        &stdin,
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let bytes: Vec<u64> = ndjson(&output.stdout)
        .iter()
        .map(|r| r["bytes"].as_u64().unwrap())
        .collect();
    assert_eq!(bytes, [0, 1, 2, 0, 1, 2, 3, 4, 0, 1, 0, 1, 2, 3]);
    assert_eq!(summary(&output), [14, 14, 0, 0, 0]);
}

#[test]
fn each_file_starts_without_a_header() {
    let custom = scratch("custom.log");
    std::fs::write(&custom, "srcaddr dstaddr\n10.0.0.1 10.0.0.2\n").unwrap();
    let default = scratch("default.log");
    std::fs::write(&default, RECORD).unwrap();
    let output = run(
        &[
            "--no-flow",
            custom.to_str().unwrap(),
            default.to_str().unwrap(),
        ],
        b"",
    );
    let records = ndjson(&output.stdout);
    assert_eq!(records.len(), 2, "{}", stderr(&output));
    assert_eq!(records[0].as_object().unwrap().len(), 2);
    assert_eq!(records[1]["version"], 2);
    // The same two files through one stream: the header stays in force,
    // so the default-format line no longer matches any format.
    let mut joined = std::fs::read(&custom).unwrap();
    joined.extend(std::fs::read(&default).unwrap());
    let output = run(&["--no-flow"], &joined);
    assert_eq!(summary(&output), [2, 2, 0, 1, 0]);
}

#[test]
fn closed_stdout_ends_quietly() {
    let big = scratch("big.log");
    std::fs::write(&big, numbered_records(200_000)).unwrap();
    let mut child = flowtag()
        .arg(&big)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is dropped here: flowtag's next write hits a closed pipe.
    assert!(first.starts_with("{\"version\":2"));
    let output = child.wait_with_output().unwrap();
    std::fs::remove_file(&big).unwrap();
    assert_eq!(output.status.code(), Some(0));
    let text = stderr(&output).to_lowercase();
    assert!(
        !text.contains("broken pipe") && !text.contains("flowtag: error"),
        "{text}"
    );
}

#[test]
fn exit_codes() {
    let good = scratch("good.log");
    std::fs::write(&good, RECORD).unwrap();
    let bad = scratch("bad.log");
    std::fs::write(&bad, format!("{RECORD}not a record\n")).unwrap();
    let good = good.to_str().unwrap();
    let bad = bad.to_str().unwrap();

    assert_eq!(run(&[bad], b"").status.code(), Some(0));
    assert_eq!(run(&["--strict", bad], b"").status.code(), Some(1));
    assert_eq!(run(&["--strict", good], b"").status.code(), Some(0));

    let duplicate = run(&["--format", "srcaddr dstaddr srcaddr", good], b"");
    assert_eq!(duplicate.status.code(), Some(2));
    assert!(
        stderr(&duplicate).contains("srcaddr"),
        "{}",
        stderr(&duplicate)
    );
    let ambiguous = run(
        &[
            "--format",
            "srcaddr dstaddr",
            "--format",
            "${version} ${action}",
            good,
        ],
        b"",
    );
    assert_eq!(ambiguous.status.code(), Some(2));
    assert!(
        stderr(&ambiguous).contains("both have 2 fields"),
        "{}",
        stderr(&ambiguous)
    );
    assert_eq!(run(&["--no-such-option"], b"").status.code(), Some(2));

    let not_wasm = scratch("not.wasm");
    std::fs::write(&not_wasm, b"\0asm but not really").unwrap();
    let plugin = run(&["--plugin", not_wasm.to_str().unwrap(), good], b"");
    assert_eq!(plugin.status.code(), Some(2));
    assert!(stderr(&plugin).contains("not.wasm"), "{}", stderr(&plugin));

    // A missing file among good ones: the others are processed, exit 3.
    let missing = scratch("missing.log");
    let output = run(&[good, missing.to_str().unwrap(), good], b"");
    assert_eq!(output.status.code(), Some(3));
    assert_eq!(ndjson(&output.stdout).len(), 2);
    assert!(
        stderr(&output).contains("missing.log: cannot open"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn errors_file_reports() {
    let errors = scratch("reports.ndjson");
    let mut input = RECORD.as_bytes().to_vec();
    input.extend_from_slice(b"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1024 80 6 1 60 1700000000 1700000060 ACCEPT \xff\n");
    input.extend_from_slice(
        b"2 123456789010 eni-1 10.0.0.1 10.0.0.2 99999 80 6 1 60 1700000000 1700000060 ACCEPT OK\n",
    );
    let output = run(&["--errors", errors.to_str().unwrap()], &input);
    assert_eq!(output.status.code(), Some(0));
    assert!(
        !stderr(&output).contains("rejected ("),
        "reports went to stderr"
    );
    let reports = ndjson(&std::fs::read(&errors).unwrap());
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0]["file"], "<stdin>");
    assert_eq!(reports[0]["line"], 2);
    assert_eq!(reports[0]["reason"], "invalid-utf8");
    let raw =
        b"2 123456789010 eni-1 10.0.0.1 10.0.0.2 1024 80 6 1 60 1700000000 1700000060 ACCEPT \xff";
    assert_eq!(
        decode_base64(reports[0]["raw_base64"].as_str().unwrap()),
        raw
    );
    assert_eq!(reports[0]["raw"], String::from_utf8_lossy(raw).as_ref());
    assert_eq!(reports[1]["line"], 3);
    assert_eq!(reports[1]["reason"], "invalid-integer");
    assert_eq!(reports[1]["field"], "srcport");
    assert_eq!(reports[1]["value"], "99999");
    assert!(reports[1]["raw"].as_str().unwrap().contains(" 99999 "));
    assert!(
        reports[1]["message"]
            .as_str()
            .unwrap()
            .contains("out of range")
    );
    assert_eq!(summary(&output), [3, 1, 2, 0, 0]);
}

fn decode_base64(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut count = 0;
    let mut out = Vec::new();
    for byte in text.bytes().filter(|&b| b != b'=') {
        let value = ALPHABET.iter().position(|&a| a == byte).unwrap() as u32;
        bits = (bits << 6) | value;
        count += 6;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
        }
    }
    out
}

#[test]
fn help_version_and_quiet() {
    let help = flowtag().arg("--help").output().unwrap();
    let text = String::from_utf8_lossy(&help.stdout);
    for code in [0, 1, 2, 3, 4, 130, 143] {
        assert!(
            text.contains(&format!("  {code}  ")),
            "exit code {code} undocumented:\n{text}"
        );
    }
    let version = flowtag().arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).contains("flowtag:flowlog@"));
    let quiet = run(&["-q"], RECORD.as_bytes());
    assert!(stderr(&quiet).is_empty(), "{}", stderr(&quiet));
    assert_eq!(ndjson(&quiet.stdout).len(), 1);
}

/// Sends `signal` (a name such as `HUP`, or `-HUP`) to the child.
fn send_signal(child: &Child, signal: &str) {
    let signal = format!("-{}", signal.trim_start_matches('-'));
    let status = Command::new("kill")
        .args([signal.as_str(), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Starts flowtag with `args` on pipes that stay open: the child, its
/// stdout lines (see [`line_reader`]) and its stdin.
fn spawn_live(args: &[&str]) -> (Child, mpsc::Receiver<String>, std::process::ChildStdin) {
    let mut command = flowtag();
    command.args(args);
    spawn_live_command(command)
}

/// [`spawn_live`] for a command of its own (e.g. flowtag started by another
/// program).
fn spawn_live_command(
    mut command: Command,
) -> (Child, mpsc::Receiver<String>, std::process::ChildStdin) {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = line_reader(&mut child);
    let stdin = child.stdin.take().unwrap();
    (child, lines, stdin)
}

/// Reads lines from a child's stdout on a thread, so that reads can time out.
fn line_reader(child: &mut Child) -> mpsc::Receiver<String> {
    let stdout = child.stdout.take().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if sender.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    receiver
}

#[test]
fn live_input_is_not_held_back() {
    let (mut child, lines, mut stdin) = spawn_live(&["--no-flow"]);
    for expected_bytes in [0, 1] {
        let record = numbered_records(expected_bytes + 1);
        let last = record.lines().last().unwrap();
        stdin.write_all(format!("{last}\n").as_bytes()).unwrap();
        stdin.flush().unwrap();
        // stdin stays open: the record must come out anyway.
        let line = lines
            .recv_timeout(Duration::from_secs(10))
            .expect("no output while input is paused");
        let record: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(record["bytes"], expected_bytes as u64);
    }
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(0));
}

/// Runs `command` (flowtag, two workers, on open pipes) until one record
/// has come out, so that every thread exists, and returns the name and
/// scheduling policy (field 41 of `/proc/PID/task/TID/stat`) of each.
#[cfg(target_os = "linux")]
fn thread_policies(mut command: Command) -> Vec<(String, u32)> {
    command.args(["--threads", "2", "--no-flow"]);
    let (mut child, lines, mut stdin) = spawn_live_command(command);
    stdin.write_all(RECORD.as_bytes()).unwrap();
    stdin.flush().unwrap();
    lines
        .recv_timeout(Duration::from_secs(20))
        .expect("no output while input is paused");
    let tasks = PathBuf::from(format!("/proc/{}/task", child.id()));
    let policies = std::fs::read_dir(tasks)
        .unwrap()
        .map(|task| {
            let stat = std::fs::read_to_string(task.unwrap().path().join("stat")).unwrap();
            // The name is in parentheses and may hold spaces; the fields
            // after it start with field 3.
            let (head, rest) = stat.rsplit_once(") ").unwrap();
            let name = head.split_once(" (").unwrap().1.to_owned();
            let policy = rest.split(' ').nth(41 - 3).unwrap().parse().unwrap();
            (name, policy)
        })
        .collect();
    drop(stdin);
    assert_eq!(child.wait().unwrap().code(), Some(0));
    policies
}

#[cfg(target_os = "linux")]
#[test]
fn threads_run_under_sched_batch_unless_told_or_started_otherwise() {
    const SCHED_OTHER: u32 = 0;
    const SCHED_BATCH: u32 = 3;
    const SCHED_IDLE: u32 = 5;
    let every_thread_has = |policies: &[(String, u32)], expected: u32, case: &str| {
        // The main thread, the reader, the dispatcher and two workers at least.
        assert!(policies.len() >= 5, "{case}: threads {policies:?}");
        for thread in ["flowtag-worker-", "flowtag-reader", "flowtag-dispatc"] {
            assert!(
                policies.iter().any(|(name, _)| name == thread),
                "{case}: no {thread} thread in {policies:?}"
            );
        }
        assert!(
            policies.iter().all(|&(_, policy)| policy == expected),
            "{case}: expected policy {expected} everywhere: {policies:?}"
        );
    };
    every_thread_has(&thread_policies(flowtag()), SCHED_BATCH, "default");
    let mut normal = flowtag();
    normal.arg("--no-batch-scheduling");
    every_thread_has(
        &thread_policies(normal),
        SCHED_OTHER,
        "--no-batch-scheduling",
    );
    // Started under another policy (util-linux's chrt execs flowtag in place).
    assert!(
        Command::new("chrt").arg("--version").output().is_ok(),
        "this test needs chrt (util-linux) to start flowtag under SCHED_IDLE"
    );
    let mut idle = Command::new("chrt");
    idle.args(["--idle", "0", env!("CARGO_BIN_EXE_flowtag")])
        .env("XDG_CACHE_HOME", test_cache());
    every_thread_has(&thread_policies(idle), SCHED_IDLE, "chrt --idle");
}

#[test]
fn over_long_line_is_rejected_without_stopping() {
    // Longer than the limit by more than a read chunk: the host rejects it
    // while framing, without buffering it whole.
    let mut input = vec![b'x'; 6 << 20];
    input.push(b'\n');
    input.extend_from_slice(RECORD.as_bytes());
    let errors = scratch("long.errors");
    let output = run(&["--errors", errors.to_str().unwrap()], &input);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(ndjson(&output.stdout).len(), 1);
    let reports = ndjson(&std::fs::read(&errors).unwrap());
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0]["reason"], "line-too-long");
    assert_eq!(reports[0]["line"], 1);
    assert_eq!(reports[0]["raw"].as_str().unwrap().len(), 64 * 1024);
    assert_eq!(summary(&output), [2, 1, 1, 0, 0]);
}

#[test]
fn truncated_gzip_keeps_what_was_read() {
    let compressed = gzip(numbered_records(2000).as_bytes());
    let truncated = scratch("truncated.log.gz");
    std::fs::write(&truncated, &compressed[..compressed.len() * 2 / 3]).unwrap();
    let output = run(&[truncated.to_str().unwrap()], b"");
    assert_eq!(output.status.code(), Some(3));
    let text = stderr(&output);
    assert!(
        text.contains("truncated.log.gz") && text.contains("truncated gzip"),
        "{text}"
    );
    let written = ndjson(&output.stdout).len();
    assert!(written > 0 && written < 2000, "{written}");
    let counts = summary(&output);
    assert_eq!(counts[1], written as u64);
}

#[test]
fn corrupt_gzip_is_an_input_error() {
    // A wrong CRC-32 in the trailer: every line inflates before the check
    // fails. A broken deflate stream right after the 10-byte gzip header:
    // nothing inflates.
    let mut bad_crc = gzip(numbered_records(50).as_bytes());
    let crc_at = bad_crc.len() - 8;
    bad_crc[crc_at] ^= 0xff;
    let mut bad_stream = gzip(numbered_records(50).as_bytes());
    bad_stream[10..20].fill(0xff);
    for (name, data, written, detail) in [
        ("bad-crc.log.gz", bad_crc, 50, "checksum"),
        ("bad-stream.log.gz", bad_stream, 0, "deflate"),
    ] {
        let path = scratch(name);
        std::fs::write(&path, data).unwrap();
        let output = run(&["--no-flow", path.to_str().unwrap()], b"");
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(3), "{text}");
        assert!(
            text.contains(&format!("{name}: corrupt gzip data:")) && text.contains(detail),
            "{text}"
        );
        assert!(text.contains(", 1 input errors;"), "{text}");
        assert_eq!(ndjson(&output.stdout).len(), written);
        assert_eq!(summary(&output), [written as u64, written as u64, 0, 0, 0]);
    }
}

#[test]
fn plugin_option_runs_a_component_file() {
    // The embedded component, written out, is a valid --plugin.
    let output = flowtag().arg("--version").output().unwrap();
    assert!(output.status.success());
    let wasm = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../target/guest/wasm32-wasip2/guest/flowtag_plugin.wasm");
    if !wasm.is_file() {
        // Built elsewhere (FLOWTAG_PLUGIN_WASM or CARGO_TARGET_DIR): nothing to point at.
        eprintln!("note: {} not found; --plugin test skipped", wasm.display());
        return;
    }
    let mut bytes = Vec::new();
    std::fs::File::open(&wasm)
        .unwrap()
        .read_to_end(&mut bytes)
        .unwrap();
    let copy = scratch("copy.wasm");
    std::fs::write(&copy, bytes).unwrap();
    let output = run(&["--plugin", copy.to_str().unwrap()], RECORD.as_bytes());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(ndjson(&output.stdout).len(), 1);
}

/// The lines of the test component's output: (line number, header, text).
fn echoed(stdout: &[u8]) -> Vec<(u64, Option<String>, String)> {
    ndjson(stdout)
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["header"].as_str().map(str::to_owned),
                r["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn plugin_faults_are_isolated_to_their_records() {
    let input = "#h H1\na\nb TRAP\nc\n\nREJECT me\nd GROW\ne LOOP\nf\n#h H2\ng\nh DEEP\ni FLOOD\n";
    // From a file: one read, so one batch whatever the timing.
    let file = scratch("faults.log");
    std::fs::write(&file, input).unwrap();
    let errors = scratch("faults.errors");
    let output = run(
        &[
            "--plugin",
            test_plugin(),
            "--threads",
            "2",
            "--max-memory",
            "64M",
            "--batch-timeout",
            "300ms",
            "--max-stack",
            "256K",
            "--errors",
            errors.to_str().unwrap(),
            file.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lines: Vec<(u64, String)> = echoed(&output.stdout)
        .into_iter()
        .map(|(line, header, text)| (line, format!("{}:{text}", header.unwrap())))
        .collect();
    let expected: Vec<(u64, String)> = [(2, "H1:a"), (4, "H1:c"), (9, "H1:f"), (11, "H2:g")]
        .iter()
        .map(|(l, t)| (*l, (*t).to_owned()))
        .collect();
    assert_eq!(lines, expected);
    let reports = ndjson(&std::fs::read(&errors).unwrap());
    let reasons: Vec<(u64, &str)> = reports
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            (3, "plugin-trap"),
            (6, "field-count"),
            (7, "plugin-memory"),
            (8, "plugin-timeout"),
            (12, "plugin-trap"),
            (13, "plugin-memory")
        ]
    );
    assert!(
        reports[5]["message"]
            .as_str()
            .unwrap()
            .contains("NDJSON of one call would grow past the limit"),
        "{}",
        reports[5]
    );
    assert!(
        reports[4]["message"]
            .as_str()
            .unwrap()
            .contains("call stack exhausted"),
        "{}",
        reports[4]
    );
    for report in reports.iter().filter(|r| r["reason"] != "field-count") {
        assert_eq!(report["plugin"], test_plugin());
        assert!(report["message"].as_str().unwrap().contains(test_plugin()));
    }
    assert_eq!(reports[0]["raw"], "b TRAP");
    let text = stderr(&output);
    assert!(
        text.contains("warning:") && text.contains("lines 1–13") && text.contains("plugin-trap"),
        "{text}"
    );
    assert_eq!(summary(&output), [10, 4, 6, 2, 1]);
}

#[test]
fn the_plugin_cannot_read_files_open_sockets_or_see_the_environment() {
    let output = run(&["--plugin", test_plugin()], b"ESCAPE\n");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let records = ndjson(&output.stdout);
    assert_eq!(records.len(), 1);
    let escape = records[0]["escape"].as_str().unwrap();
    assert!(
        !escape.contains("READ") && !escape.contains("root:"),
        "{escape}"
    );
    assert!(escape.contains("file: denied"), "{escape}");
    assert!(
        escape.contains("network: denied (PermissionDenied"),
        "{escape}"
    );
    assert!(escape.contains("environment: empty"), "{escape}");
}

#[test]
fn a_constructor_that_traps_exits_4() {
    let output = run(&["--plugin", test_plugin(), "--format", "TRAP"], b"a\n");
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("failed in its constructor"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn output_outside_process_is_refused() {
    let output = run(&["--plugin", test_plugin(), "--format", "WRITE"], b"a\n");
    assert_eq!(output.status.code(), Some(4), "{}", stderr(&output));
    let text = stderr(&output);
    assert!(
        text.contains("failed in its constructor")
            && text.contains("output.write was called outside processor.process"),
        "{text}"
    );
    assert!(output.stdout.is_empty());
}

#[test]
fn soak_millions_of_records_with_faults_keep_count_and_order() {
    const LINES: u64 = 3_000_000;
    let mut random = Random(0x5eed_f10e);
    let mut input = String::with_capacity(LINES as usize * 10);
    let mut poison = Vec::new();
    let mut headers = 0;
    for line in 1..=LINES {
        let roll = random.next() % 200_000;
        if roll < 2 {
            input.push_str(&format!("{line} TRAP\n"));
            poison.push(line);
        } else if roll == 2 {
            input.push_str(&format!("{line} GROW\n"));
            poison.push(line);
        } else if roll < 5 {
            input.push_str(&format!("#h H{}\n", random.next() % 3));
            headers += 1;
        } else {
            input.push_str(&format!("{line}\n"));
        }
    }
    // One record that loops, for the deadline (each costs 2 timeouts).
    input.push_str(&format!("{} LOOP\n", LINES + 1));
    poison.push(LINES + 1);
    let file = scratch("soak.log");
    std::fs::write(&file, &input).unwrap();
    let errors = scratch("soak.errors");
    let output = flowtag()
        .args([
            "--plugin",
            test_plugin(),
            "--threads",
            "2",
            "--batch-bytes",
            "8192",
            "--max-memory",
            "32M",
            "--batch-timeout",
            "200ms",
            "--errors",
            errors.to_str().unwrap(),
            file.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    std::fs::remove_file(&file).unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(poison.len() > 10, "too few faults injected");

    // Every record line is either written (in order, once) or rejected.
    let stdout = String::from_utf8(output.stdout.clone()).unwrap();
    let mut written = Vec::with_capacity(LINES as usize);
    let mut header = None::<String>;
    let mut expected_lines = input.lines().enumerate();
    for record in stdout.lines() {
        // `{"line":N,"header":H,"text":T}`; parsing 3M lines with
        // serde_json in a debug build is slow, the fixed shape is not.
        let line: u64 = record[8..record.find(',').unwrap()].parse().unwrap();
        let (index, text) = expected_lines
            .by_ref()
            .find(|(i, text)| {
                if let Some(name) = text.strip_prefix("#h ") {
                    header = Some(name.to_owned());
                }
                *i as u64 + 1 == line
            })
            .unwrap_or_else(|| panic!("line {line} out of order or duplicated"));
        let expected_header = header
            .as_deref()
            .map_or("null".to_owned(), |h| format!("\"{h}\""));
        assert!(
            record.contains(&format!("\"header\":{expected_header},")),
            "line {}: {record}",
            index + 1
        );
        assert!(
            record.ends_with(&format!("\"text\":\"{text}\"}}")),
            "{record}"
        );
        written.push(line);
    }
    let rejected: Vec<u64> = ndjson(&std::fs::read(&errors).unwrap())
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(rejected, poison);
    let records = LINES + 1 - headers;
    assert_eq!(written.len() as u64 + rejected.len() as u64, records);
    assert_eq!(
        summary(&output),
        [
            records,
            written.len() as u64,
            rejected.len() as u64,
            headers,
            0
        ]
    );
    assert!(
        stderr(&output).contains("plugin faults"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn header_guesses_never_change_the_output() {
    // Small batches, header changes (some to a header that was in force
    // before), several files: parallel output equals sequential output.
    let mut random = Random(42);
    let mut files = Vec::new();
    for file in 0..3 {
        let mut text = String::new();
        for line in 0..20_000 {
            if random.next().is_multiple_of(500) {
                text.push_str(&format!("#h H{}\n", random.next() % 3));
            } else {
                text.push_str(&format!("{file}-{line}\n"));
            }
        }
        let path = scratch(&format!("headers-{file}.log"));
        std::fs::write(&path, text).unwrap();
        files.push(path.display().to_string());
    }
    let run_with = |threads: &str, batch: &str| {
        let mut args = vec![
            "--plugin",
            test_plugin(),
            "--threads",
            threads,
            "--batch-bytes",
            batch,
        ];
        args.extend(files.iter().map(String::as_str));
        let output = flowtag().args(&args).output().unwrap();
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        output
    };
    let sequential = run_with("1", "100000000");
    for (threads, batch) in [("2", "2048"), ("4", "700")] {
        let parallel = run_with(threads, batch);
        assert!(
            sequential.stdout == parallel.stdout,
            "--threads {threads} --batch-bytes {batch} differs"
        );
        assert_eq!(summary(&sequential), summary(&parallel));
    }
    // And with the real parser: header-switch.log repeated in one stream.
    let golden = std::fs::read(golden_dir().join("header-switch.log")).unwrap();
    let stream: Vec<u8> = golden.repeat(200);
    let one = run(&["--threads", "1", "--batch-bytes", "100000000"], &stream);
    let many = run(&["--threads", "3", "--batch-bytes", "1500"], &stream);
    assert!(one.stdout == many.stdout, "the parser's output differs");
    assert_eq!(summary(&one), summary(&many));
}

/// Starts flowtag on a pipe that stays open, feeds it records and a torn
/// last line, waits for the records' output, then signals it.
fn interrupted(signal: &str) {
    let (child, lines, mut stdin) = spawn_live(&["--no-flow", "--threads", "2"]);
    let sent = 50_000;
    stdin.write_all(numbered_records(sent).as_bytes()).unwrap();
    // A partial line at the end, as a shipper stopped mid-write leaves it.
    stdin.write_all(b"2 123456789010 eni-0a1b").unwrap();
    stdin.flush().unwrap();
    let mut written = Vec::new();
    while written.len() < sent {
        let line = lines
            .recv_timeout(Duration::from_secs(30))
            .expect("records missing before the signal");
        written.push(line);
    }
    // Let the reader take the partial line too.
    std::thread::sleep(Duration::from_millis(300));
    send_signal(&child, signal);
    // stdin stays open: flowtag must stop reading by itself.
    let (done, finished) = mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let output = child.wait_with_output();
        let _ = done.send(());
        output
    });
    finished
        .recv_timeout(Duration::from_secs(20))
        .expect("flowtag did not stop after the signal");
    let output = waiter.join().unwrap().unwrap();
    drop(stdin);
    written.extend(lines.try_iter());
    let expected = if signal == "-INT" { 130 } else { 143 };
    assert_eq!(output.status.code(), Some(expected), "{}", stderr(&output));
    // No torn output line; every record read written or rejected: the
    // torn input line is rejected, not lost.
    for line in &written {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
    assert_eq!(written.len(), sent);
    assert_eq!(summary(&output), [sent as u64 + 1, sent as u64, 1, 0, 0]);
    assert!(
        stderr(&output).contains("field-count"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn sigint_finishes_what_was_read_and_exits_130() {
    interrupted("-INT");
}

#[test]
fn sigterm_finishes_what_was_read_and_exits_143() {
    interrupted("-TERM");
}

#[test]
fn reload_switches_every_worker_between_batches_and_loses_nothing() {
    // The test component writes the ENI map's text into every record, so
    // the output shows which data each batch ran with.
    let data = scratch("reload-data.json");
    std::fs::write(&data, "v1").unwrap();
    let (child, lines, mut stdin) = spawn_live(&[
        "--plugin",
        test_plugin(),
        "--threads",
        "3",
        "--batch-bytes",
        "512",
        "--eni-map",
        data.to_str().unwrap(),
    ]);
    // Wait until it runs: a first record comes out.
    stdin.write_all(b"record 1\n").unwrap();
    stdin.flush().unwrap();
    let first = lines
        .recv_timeout(Duration::from_secs(30))
        .expect("no output for the first record");
    let mut records: Vec<Value> = vec![serde_json::from_str(&first).unwrap()];
    let rounds = 4;
    let per_round = 3000;
    let mut sent = 1u64;
    for round in 1..=rounds {
        let records: String = (0..per_round)
            .map(|_| {
                sent += 1;
                format!("record {sent}\n")
            })
            .collect();
        stdin.write_all(records.as_bytes()).unwrap();
        stdin.flush().unwrap();
        std::thread::sleep(Duration::from_millis(100));
        if round < rounds {
            std::fs::write(&data, format!("v{}", round + 1)).unwrap();
            send_signal(&child, "HUP");
            std::thread::sleep(Duration::from_millis(300));
        }
    }
    drop(stdin);
    while let Ok(line) = lines.recv_timeout(Duration::from_secs(30)) {
        let record: Value = serde_json::from_str(&line).unwrap();
        records.push(record);
        if records.len() as u64 == sent {
            break;
        }
    }
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Nothing lost, duplicated or reordered.
    let numbers: Vec<u64> = records
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, (1..=sent).collect::<Vec<_>>());
    // Data versions only ever move forward in the output: no worker ran a
    // batch with old data after another had the new.
    let versions: Vec<u64> = records
        .iter()
        .map(|r| r["data"].as_str().unwrap()[1..].parse().unwrap())
        .collect();
    assert!(versions.windows(2).all(|w| w[0] <= w[1]), "data went back");
    assert_eq!(versions[0], 1);
    assert_eq!(*versions.last().unwrap(), rounds);
    let text = stderr(&output);
    assert!(text.contains("reloaded the data files"), "{text}");
    assert!(
        text.contains(&format!("{} reloads (0 failed)", rounds - 1)),
        "{text}"
    );
}

#[test]
fn compiled_component_is_cached_privately() {
    let cache = scratch("cache-home");
    let _ = std::fs::remove_dir_all(&cache);
    let with_cache = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_flowtag"));
        command.env("XDG_CACHE_HOME", &cache).args(args);
        command.stdin(Stdio::null()).output().unwrap()
    };
    let output = with_cache(&["--no-cache"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(!cache.join("flowtag").exists(), "--no-cache wrote a cache");
    for _ in 0..2 {
        let output = with_cache(&[]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(!stderr(&output).contains("warning"), "{}", stderr(&output));
    }
    let dir = cache.join("flowtag");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "cache directory mode {mode:o}");
        // Keyed by the wasmtime version.
        let versions: Vec<String> = std::fs::read_dir(dir.join("wasmtime").join("modules"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            versions.iter().any(|v| v.starts_with("wasmtime-")),
            "{versions:?}"
        );
        // A directory others can write to is not used, with a warning.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let output = with_cache(&[]);
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        assert!(
            stderr(&output).contains("not caching"),
            "{}",
            stderr(&output)
        );
    }
}

#[test]
fn unreadable_input_among_several_and_head() {
    let good = scratch("good2.log");
    std::fs::write(&good, numbered_records(3)).unwrap();
    // A directory opens but cannot be read (root can read any file).
    let unreadable = scratch("a-directory.log");
    std::fs::create_dir_all(&unreadable).unwrap();
    let output = run(
        &[
            good.to_str().unwrap(),
            unreadable.to_str().unwrap(),
            good.to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    assert_eq!(ndjson(&output.stdout).len(), 6);
    assert!(
        stderr(&output).contains("a-directory.log: read error"),
        "{}",
        stderr(&output)
    );
    assert_eq!(summary(&output)[0], 6);

    // `flowtag big | head -1` through a shell: exit 0, no noise.
    let big = scratch("head.log");
    std::fs::write(&big, numbered_records(300_000)).unwrap();
    let script = format!(
        "{} {} | head -1; echo \"status ${{PIPESTATUS[0]}}\"",
        env!("CARGO_BIN_EXE_flowtag"),
        big.display()
    );
    let output = Command::new("bash")
        .args(["-c", &script])
        .env("XDG_CACHE_HOME", test_cache())
        .output()
        .unwrap();
    std::fs::remove_file(&big).unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.ends_with("status 0\n"), "{text}");
    assert_eq!(text.lines().count(), 2, "{text}");
    let text = stderr(&output).to_lowercase();
    assert!(
        !text.contains("broken pipe") && !text.contains("flowtag: error"),
        "{text}"
    );
}
