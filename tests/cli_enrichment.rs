//! End-to-end tests of the data-file options: checks before any record is
//! read, `--verbose`, `--geoip-locale`, and SIGHUP reload under a
//! continuous stream. Part of the `cli` test binary.

use super::*;

fn golden(name: &str) -> String {
    golden_dir().join(name).display().to_string()
}

fn city() -> String {
    mmdb::generated_dir()
        .join("City.mmdb")
        .display()
        .to_string()
}

fn asn() -> String {
    mmdb::generated_dir().join("ASN.mmdb").display().to_string()
}

/// Runs flowtag with `args` on one record and expects exit 2 before any
/// output, with a message that contains every one of `expected`.
fn refused(args: &[&str], expected: &[&str]) {
    let output = run(args, RECORD.as_bytes());
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(2), "{args:?}: {text}");
    assert!(output.stdout.is_empty(), "{args:?} wrote records");
    assert!(
        !text.contains("records read"),
        "{args:?} read input: {text}"
    );
    for part in expected {
        assert!(text.contains(part), "{args:?}: {part:?} not in {text}");
    }
}

#[test]
fn bad_data_files_stop_flowtag_before_any_record() {
    let missing = scratch("missing.mmdb").display().to_string();
    refused(
        &["--geoip", &missing],
        &["--geoip", &missing, "cannot read"],
    );
    let missing_json = scratch("missing.json").display().to_string();
    refused(
        &["--aws-ip-ranges", &missing_json],
        &["--aws-ip-ranges", &missing_json],
    );
    refused(&["--eni-map", &missing_json], &["--eni-map", &missing_json]);

    // Not a database at all, and a generated one cut short.
    let garbage = scratch("garbage.mmdb");
    std::fs::write(&garbage, b"this is not a MaxMind DB\n").unwrap();
    let garbage = garbage.display().to_string();
    refused(&["--geoip", &garbage], &["--geoip", &garbage, "MaxMind DB"]);
    let bytes = std::fs::read(city()).unwrap();
    let cut = scratch("cut.mmdb");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let cut = cut.display().to_string();
    refused(&["--geoip", &cut], &["--geoip", &cut, "MaxMind DB"]);
    // Two databases of one kind.
    refused(
        &["--geoip", &city(), "--geoip", &city()],
        &["two geo (City or Country) databases"],
    );

    let bad_ranges = scratch("bad-ranges.json");
    std::fs::write(
        &bad_ranges,
        r#"{"prefixes":[{"ip_prefix":"52.95.110.0/33","region":"us-east-1","service":"S3","network_border_group":"us-east-1"}]}"#,
    )
    .unwrap();
    let bad_ranges = bad_ranges.display().to_string();
    refused(
        &["--aws-ip-ranges", &bad_ranges],
        &[&bad_ranges, "prefixes[0].ip_prefix", "52.95.110.0/33"],
    );
    let bad_enis = scratch("bad-enis.json");
    std::fs::write(
        &bad_enis,
        r#"{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-1","PrivateIpAddress":"10.0.0.300"}]}"#,
    )
    .unwrap();
    let bad_enis = bad_enis.display().to_string();
    refused(&["--eni-map", &bad_enis], &[&bad_enis, "10.0.0.300"]);
}

/// Every database in `../shared/data/mmdb/broken` is refused up front.
#[test]
fn broken_maxmind_databases_are_refused() {
    let Some(dir) = shared_data::locate("mmdb/broken") else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "mmdb"))
        .collect();
    files.sort();
    assert!(files.len() >= 4, "{}", dir.display());
    for file in files {
        let file = file.display().to_string();
        refused(&["--geoip", &file], &["--geoip", &file]);
    }
}

#[test]
fn verbose_says_what_was_loaded() {
    let output = run(
        &[
            "--verbose",
            "--geoip",
            &city(),
            "--geoip",
            &asn(),
            "--aws-ip-ranges",
            &golden("enriched.ip-ranges.json"),
            "--eni-map",
            &golden("enriched.enis.json"),
        ],
        RECORD.as_bytes(),
    );
    assert_eq!(output.status.code(), Some(0));
    let text = stderr(&output);
    for expected in [
        format!(
            "loaded geoip {}: GeoIP2-City (City), built 2026-11-01",
            city()
        ),
        format!(
            "loaded geoip {}: GeoLite2-ASN (ASN), built 2026-11-01",
            asn()
        ),
        "syncToken 1764000000, createDate 2026-11-24-12-00-00, 8 IPv4 and 3 IPv6 prefixes"
            .to_owned(),
        "5 ENIs (in all: 5 ENIs, 9 addresses)".to_owned(),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in\n{text}");
    }
}

/// A MaxMind DB passes its full verification once per component and
/// content: later runs (and the other workers) skip it, as `--verbose` says,
/// with the same output; changed bytes are verified again, so a corrupt copy
/// of a verified file is still refused; `--no-cache` keeps nothing.
#[test]
fn data_files_are_verified_once_per_content() {
    let base = scratch("verified-cache");
    let _ = std::fs::remove_dir_all(&base);
    let markers = base.join("flowtag").join("verified");
    let count = || std::fs::read_dir(&markers).map_or(0, |dir| dir.count());
    let run_in = |args: &[&str]| {
        let line = "2 123456789010 eni-0a1b2c3d4e5f60001 89.160.20.112 10.0.0.2 1024 80 6 1 60 1700000000 1700000060 ACCEPT OK\n";
        let mut command = flowtag();
        command
            .env("XDG_CACHE_HOME", &base)
            .args(["--verbose", "--threads", "2"])
            .args(args);
        run_command(command, line.repeat(3000).as_bytes())
    };
    let city = city();
    let asn = asn();
    let ranges = golden("enriched.ip-ranges.json");
    let enis = golden("enriched.enis.json");
    let all = [
        "--geoip",
        &city,
        "--geoip",
        &asn,
        "--aws-ip-ranges",
        &ranges,
        "--eni-map",
        &enis,
    ];

    let first = run_in(&all);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let text = stderr(&first);
    assert!(
        text.contains(&format!(
            "{city}: GeoIP2-City (City), built 2026-11-01, verified\n"
        )),
        "{text}"
    );
    assert!(!text.contains("verified before"), "{text}");
    assert_eq!(count(), 4, "one key per data file");

    let second = run_in(&all);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let text = stderr(&second);
    for expected in [
        format!("{city}: GeoIP2-City (City), built 2026-11-01, verified before (same bytes)\n"),
        format!("{asn}: GeoLite2-ASN (ASN), built 2026-11-01, verified before (same bytes)\n"),
    ] {
        assert!(text.contains(&expected), "{expected:?} not in\n{text}");
    }
    assert_eq!(second.stdout, first.stdout, "same records either way");
    assert_eq!(
        ndjson(&second.stdout)[0]["src"]["geo"]["country_name"],
        "Sweden"
    );
    assert_eq!(count(), 4);

    // The key is the content, not the name: a copy elsewhere is known...
    let mut bytes = std::fs::read(&city).unwrap();
    let copy = scratch("verified-copy-City.mmdb");
    std::fs::write(&copy, &bytes).unwrap();
    let copy = copy.display().to_string();
    let output = run_in(&["--geoip", &copy]);
    let text = stderr(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(text.contains("verified before (same bytes)"), "{text}");
    // ...and one changed byte under the same name is not: a country name
    // that is no longer UTF-8, which only the full verification finds.
    let at = bytes
        .windows(6)
        .position(|w| w == b"Sweden")
        .expect("the name is in the database");
    bytes[at] = 0xff;
    std::fs::write(&copy, &bytes).unwrap();
    let refused = run_in(&["--geoip", &copy]);
    let text = stderr(&refused);
    assert_eq!(refused.status.code(), Some(2), "{text}");
    assert!(text.contains(&copy), "{text}");
    assert!(refused.stdout.is_empty());
    assert_eq!(count(), 4, "nothing kept for a refused file");

    // Without the cache every run verifies, and nothing is written.
    let _ = std::fs::remove_dir_all(&base);
    for _ in 0..2 {
        let output = run_in(&["--no-cache", "--geoip", &city]);
        let text = stderr(&output);
        assert_eq!(output.status.code(), Some(0), "{text}");
        assert!(text.contains("built 2026-11-01, verified\n"), "{text}");
    }
    assert!(!base.join("flowtag").exists());
}

#[test]
fn geoip_locale_picks_names_with_english_fallback() {
    let line = "2 123456789010 eni-0a1b2c3d4e5f60001 89.160.20.112 10.0.0.2 1024 80 6 1 60 1700000000 1700000060 ACCEPT OK\n";
    let names = |args: &[&str]| -> Value {
        let output = run(args, line.as_bytes());
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        ndjson(&output.stdout)[0]["src"]["geo"].clone()
    };
    let english = names(&["--geoip", &city()]);
    assert_eq!(english["country_name"], "Sweden");
    assert_eq!(english["region_name"], "Östergötland County");
    let german = names(&["--geoip", &city(), "--geoip-locale", "de"]);
    assert_eq!(german["country_name"], "Schweden");
    assert_eq!(german["region_name"], "Östergötlands län");
    // The city has no German name.
    assert_eq!(german["city_name"], "Linköping");
    assert_eq!(german["region_iso_code"], "SE-E");
}

/// ENI map naming the instance `name`.
fn eni_map(name: &str) -> String {
    format!(
        r#"{{"NetworkInterfaces":[{{"NetworkInterfaceId":"eni-0a1b2c3d4e5f60001","PrivateIpAddress":"10.0.0.1","Attachment":{{"InstanceId":"i-0123456789abcdef0"}},"TagSet":[{{"Key":"Name","Value":"{name}"}}]}}]}}"#
    )
}

/// SIGHUP while records stream in: every record comes out once, in order;
/// the resource name switches from the old map to the new one exactly once
/// per successful reload; a reload of a corrupt file keeps the old data.
///
/// The input streams in three phases of 10,000 records, each written in
/// small chunks; a phase starts once the previous one's output has all come
/// out and the signal for it was sent. So the reload is requested while the
/// stream is open, and applied before the next phase's first batch is cut,
/// however far ahead of the output the reader runs.
#[test]
fn reload_under_a_continuous_stream_loses_nothing() {
    let map = scratch("reload-enis.json");
    std::fs::write(&map, eni_map("before")).unwrap();
    let map_path = map.display().to_string();
    let (mut child, lines, mut stdin) = spawn_live(&["--no-flow", "--eni-map", &map_path]);
    const TOTAL: usize = 30_000;
    const PHASE: usize = TOTAL / 3;
    let (next_phase, phase_started) = mpsc::channel::<()>();
    let writer = std::thread::spawn(move || {
        for chunk in 0..TOTAL / 100 {
            if chunk > 0 && chunk * 100 % PHASE == 0 {
                phase_started.recv().unwrap();
            }
            let text: String = (chunk * 100..(chunk + 1) * 100)
                .map(|i| format!("2 123456789010 eni-0a1b2c3d4e5f60001 10.0.0.1 10.0.0.2 1024 80 6 1 {i} 1700000000 1700000060 ACCEPT OK\n"))
                .collect();
            stdin.write_all(text.as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(2));
        }
    });
    let mut names: Vec<String> = Vec::with_capacity(TOTAL);
    let receive = |count: usize, names: &mut Vec<String>| {
        for _ in 0..count {
            let line = lines
                .recv_timeout(Duration::from_secs(30))
                .expect("output stalled");
            let record: Value = serde_json::from_str(&line).unwrap();
            assert_eq!(record["bytes"], names.len() as u64, "order");
            let name = record["src"]["resource"]["name"].as_str().unwrap();
            names.push(name.to_owned());
        }
    };
    receive(PHASE, &mut names);
    // A corrupt file: the reload fails and the old data stays.
    std::fs::write(&map, "{ not json").unwrap();
    send_signal(&child, "HUP");
    next_phase.send(()).unwrap();
    receive(PHASE, &mut names);
    std::fs::write(&map, eni_map("after")).unwrap();
    send_signal(&child, "HUP");
    next_phase.send(()).unwrap();
    receive(PHASE, &mut names);
    writer.join().unwrap();
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(
        lines.recv_timeout(Duration::from_secs(5)).is_err(),
        "extra output"
    );

    assert!(
        err.contains("reload failed, keeping the previous data"),
        "{err}"
    );
    assert!(err.contains("reloaded the data files"), "{err}");
    assert!(err.contains("2 reloads (1 failed)"), "{err}");
    let switch = names
        .iter()
        .position(|n| n == "after")
        .expect("the new map was used");
    assert!(switch >= 10_000, "switched before the SIGHUP: {switch}");
    assert!(names[..switch].iter().all(|n| n == "before"));
    assert!(
        names[switch..].iter().all(|n| n == "after"),
        "switched back"
    );
    assert!(
        err.contains(&format!(
            "{TOTAL} records read = {TOTAL} written + 0 rejected"
        )),
        "{err}"
    );
}

/// With enrichment, a batch's output is many times its input and comes to
/// the host in 32 KiB pieces, which an instance appends around the CPU's
/// caches from its second batch on (`host/src/output_copy.rs`). A file of a
/// few hundred lines is read in one chunk and processed in one batch, so it
/// takes the plain path: the stream run in such files must give the same
/// bytes as the whole stream cut into batches in several ways.
#[test]
fn enriched_output_is_the_same_however_the_stream_is_cut() {
    let map = scratch("pieces-enis.json");
    std::fs::write(&map, eni_map("pieces")).unwrap();
    let map = map.display().to_string();
    let lines: Vec<String> = (0..10_000)
        .map(|i| {
            format!(
                "2 123456789010 eni-0a1b2c3d4e5f60001 10.0.0.1 10.0.{}.{} {} 443 6 {} {i} 1700000000 1700000060 ACCEPT OK\n",
                i % 7,
                i % 250,
                1024 + i % 60_000,
                1 + i % 50
            )
        })
        .collect();
    let write = |name: &str, text: &str| {
        let file = scratch(name);
        std::fs::write(&file, text).unwrap();
        file.display().to_string()
    };
    let cut = |threads: &str, batch: &str, file: &str| {
        let output = run(
            &[
                "--eni-map",
                &map,
                "--threads",
                threads,
                "--batch-bytes",
                batch,
                file,
            ],
            b"",
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        output.stdout
    };
    let mut sliced = Vec::new();
    for (n, slice) in lines.chunks(500).enumerate() {
        let file = write(&format!("pieces-slice-{n}.log"), &slice.concat());
        sliced.extend(cut("1", "1000000", &file));
    }
    let text = std::str::from_utf8(&sliced).unwrap();
    assert_eq!(text.lines().count(), lines.len());
    let stream = lines.concat();
    // Enough output per input byte for the host's uncached path (6x).
    assert!(text.len() > 6 * stream.len(), "{} bytes", text.len());
    assert!(text.lines().all(|line| line.contains(r#""interface":{"#)));
    let whole_file = write("pieces-whole.log", &stream);
    for (threads, batch) in [("1", "65536"), ("2", "65536"), ("2", "20000")] {
        let whole = cut(threads, batch, &whole_file);
        assert!(
            whole == sliced,
            "--threads {threads} --batch-bytes {batch} differs"
        );
    }
}
