//! Conformance against the public flow-log samples in `../shared/data/flowlogs`
//! (see its README.md and `../SOURCES.md`), one test per source directory.
//!
//! For every sample file:
//! - the file parses with no rejection, with the field order its README gives
//!   (header lines where the file has them, otherwise one configured format);
//! - the record, header and blank-line counts are exactly the ones written down
//!   here, and the record count also matches an independent count made by this
//!   file (non-blank, non-header lines, JSON `message`s and `logEvents`);
//! - every record equals the line it came from, token by token: `-` leaves the
//!   key out, integer fields are JSON numbers, everything else is a string, and
//!   there are no other keys;
//! - parsing the file one line per call, handing the header in force from call
//!   to call, gives the same output as parsing it in one call, and so does the
//!   file with CRLF line ends.
//!
//! Files that must be rejected are (`bad.log`, OpenTelemetry's too-few and
//! too-many fields), with reason `FieldCount`, their header lines accepted.
//!
//! Where a peer's expected output exists (Elastic's `*-expected.json`,
//! OpenTelemetry's `valid_vpc_flow_log_expected_multi.yaml`), each event is
//! compared field by field with our record for the same line. Every peer field
//! is either compared or listed below as not compared (an unlisted field fails
//! the test, so a new peer field cannot slip by), every key of ours must have
//! been compared with some peer field, and each record needs at least
//! [`MIN_COMPARED`] comparisons, so the test cannot pass vacuously.
//!
//! Peer field → flowtag, and the deliberate differences:
//!
//! | peer field | flowtag | how compared |
//! |---|---|---|
//! | Elastic `aws.vpcflow.<f>` | `<f>` | as text |
//! | Elastic `aws.vpcflow.pkt_src_service`, `pkt_dst_service` | `pkt_src_aws_service`, `pkt_dst_aws_service` | as text; flowtag keeps AWS's names, Elastic shortens them |
//! | Elastic `aws.vpcflow.sublocation.type`, `.id` | `sublocation_type`, `sublocation_id` | as text |
//! | numbers as strings (Elastic `version: "2"`, `network.iana_number: "6"`, `tcp_flags: "1"`; OTel `intValue: "22"`) | JSON numbers | as decimal text |
//! | `"-"` kept by Elastic in some fields (`cloud.region`, `cloud.availability_zone`, Beats' `aws.vpcflow.instance_id`) | key left out | their `"-"` must be our missing key |
//! | Elastic `cloud.account.id`, `cloud.instance.id`, `cloud.region`, `cloud.availability_zone` | `account_id`, `instance_id`, `region`, `az_id` | as text |
//! | `source.ip`/`.address`, `destination.ip`/`.address` | `srcaddr`, `dstaddr` | as text |
//! | `source.port`, `destination.port` | `srcport`, `dstport` | as text |
//! | Elastic `source.packets`/`network.packets`, `source.bytes`/`network.bytes` | `packets`, `bytes` | as text |
//! | Elastic `network.iana_number` | `protocol` | as text |
//! | Elastic `event.start`, `event.end`, `@timestamp` (ISO 8601 UTC, `.000` ms) | `start`, `end` (Unix seconds) | ours converted to RFC 3339 UTC here; their fraction must be zero and is dropped |
//! | Elastic `event.outcome`: `allow`/`deny` (Beats, 2021 pipeline) or `success`/`failure` (newer) | `action` `ACCEPT`/`REJECT` | through that mapping |
//! | Elastic `event.action` (newer pipeline) | `action` | as text (not lower-cased there) |
//! | Elastic `event.reason` | `reject_reason` | as text |
//! | Elastic `network.direction` | `flow_direction` | as text |
//! | Elastic `orchestrator.cluster.id`, `.cluster.name`, `.resource.id`, `.resource.name`, `service.name` | `ecs_cluster_arn`, `ecs_cluster_name`, `ecs_container_instance_id`, `ecs_container_instance_arn`, `ecs_service_name` | as text |
//! | Elastic `network.transport`, OTel `network.protocol.name` (names) | `protocol` (IANA number) | through a small IANA table (icmp, tcp, udp, ipv6-icmp, gre, esp, ah, sctp); flowtag does not name protocols |
//! | Elastic `network.type` (`ipv4`/`ipv6`, derived from `srcaddr`, not from `type`: TGW and v8 records with type `-` have it) | `srcaddr` | with the address family of our `srcaddr` |
//! | Elastic `related.ip` | `srcaddr`, `dstaddr` | as the list [srcaddr, dstaddr] |
//! | Elastic `aws.vpcflow.tcp_flags_array` | `tcp_flags` (bitmask) | with the names of its set bits (fin syn rst psh ack urg ece cwr) |
//! | Elastic `event.original` | (the input line) | not a field: checks that events and records are paired right |
//! | OTel `aws.vpc.flow.log.version`, `network.interface.name`, `aws.vpc.flow.packets`, `.bytes`, `.start`, `.action`, `.status` | `version`, `interface_id`, `packets`, `bytes`, `start`, `action`, `log_status` | as text (`start` stays Unix seconds) |
//! | OTel resource `cloud.account.id` | `account_id` | as text, for each record |
//! | OTel `timeUnixNano` | `end` | as `end` × 10⁹ |
//!
//! Not compared (not the parser's output):
//! - `source.geo.*`, `destination.geo.*`, `source.as.*`, `destination.as.*`:
//!   GeoIP enrichment (Elastic used the MaxMind test DBs for some files and the
//!   real GeoLite2 for others); the enrichment tests own that.
//! - `network.community_id`: a hash flowtag does not compute here.
//! - Pipeline metadata: `event.{kind,category,type,module,dataset,ingested}`,
//!   `ecs.version`, `tags`, `cloud.provider`, `service.type`, `fileset.name`,
//!   `input.type`, `log.offset`; OTel `cloud.provider` and the scope's
//!   `encoding.format`.
//!
//! Also left out: `older-revision/test-extra-samples.log` and
//! `test-ecs-samples.log` have no saved expected output (they are still parsed
//! and checked token by token), nor do `valid_vpc_flow_cw*.json` and the other
//! OTel logs.
//!
//! The shared folder is `<workspace>/../shared`, or `$FLOWTAG_SHARED_DIR`. When
//! it is missing the tests pass with a note on stderr, unless
//! `FLOWTAG_REQUIRE_SHARED` is set (CI sets it): then they fail.

use std::collections::BTreeSet;
use std::io::Read;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use flowlog::{BatchOutput, Config, Processor, RejectReason};
use serde_json::{Map, Value};

type Record = Map<String, Value>;

/// Fewest peer fields compared per record (a v2 NODATA record has eight).
const MIN_COMPARED: usize = 6;

/// AWS field orders for files without a header line, from the samples' README.
macro_rules! v2 {
    () => {
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"
    };
}
macro_rules! v5 {
    () => {
        concat!(
            v2!(),
            " vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path"
        )
    };
}
macro_rules! ecs {
    () => {
        concat!(
            v5!(),
            " ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id ecs-second-container-id ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id"
        )
    };
}
const V2: &str = v2!();
const V5: &str = v5!();
const ECS: &str = ecs!();
const V8: &str = concat!(ecs!(), " reject-reason");
const TGW: &str = "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service";
const BEATS_TGW: &str = "version interface-id account-id vpc-id subnet-id instance-id srcaddr dstaddr srcport dstport protocol tcp-flags type pkt-srcaddr pkt-dstaddr action log-status";
/// The format OpenTelemetry's test configures for `valid_vpc_flow_cw_custom.json`.
const OTEL_CW_CUSTOM: &str = "version interface-id srcaddr dstaddr";

/// Fields whose values are integers (flow-logs.md), as output keys.
const INTEGER_KEYS: &[&str] = &[
    "version",
    "srcport",
    "dstport",
    "protocol",
    "packets",
    "bytes",
    "start",
    "end",
    "tcp_flags",
    "traffic_path",
    "encryption_status",
    "packets_lost_no_route",
    "packets_lost_blackhole",
    "packets_lost_mtu_exceeded",
    "packets_lost_ttl_expired",
];

// ---------------------------------------------------------------------------
// Locating the data

/// `<shared>/data/flowlogs`, or `None` when the shared data is missing (see
/// the `shared-data` crate).
fn flowlogs_dir() -> Option<PathBuf> {
    shared_data::locate("flowlogs")
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    let bytes = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
    if name.ends_with(".gz") {
        let mut text = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut text)
            .unwrap_or_else(|e| panic!("{name}: gunzip: {e}"));
        text
    } else {
        bytes
    }
}

// ---------------------------------------------------------------------------
// The samples, read independently of the parser

/// One record of a sample as this file reads it: the record text and the
/// field names (hyphenated) that apply to it.
#[derive(Debug)]
struct Line {
    raw: String,
    fields: Vec<String>,
}

#[derive(Debug, Default)]
struct Walk {
    records: Vec<Line>,
    headers: u64,
    blank: u64,
}

/// A header line: every token is a lower-case hyphenated name. Record lines
/// always hold a digit-first value, an address, upper case or a lone `-`.
fn is_header_line(line: &str) -> bool {
    line.split_ascii_whitespace().all(|token| {
        token.starts_with(|c: char| c.is_ascii_lowercase())
            && token.chars().all(|c| c.is_ascii_lowercase() || c == '-')
    })
}

/// Splits a sample into records, the way AWS and the peers describe it: S3
/// header lines set the field order for the lines after them; JSON lines carry
/// records in `message` or in CloudWatch Logs `logEvents[].message`.
fn walk(text: &str, format: &str) -> Walk {
    let configured: Vec<String> = format.split(' ').map(str::to_owned).collect();
    let mut header: Option<Vec<String>> = None;
    let mut walk = Walk::default();
    let push = |walk: &mut Walk, header: &Option<Vec<String>>, raw: &str| {
        walk.records.push(Line {
            raw: raw.trim_end().to_owned(),
            fields: header.clone().unwrap_or_else(|| configured.clone()),
        });
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            walk.blank += 1;
        } else if line.starts_with('{') {
            let value: Value = serde_json::from_str(line).expect("JSON line");
            if let Some(events) = value.get("logEvents") {
                for event in events.as_array().expect("logEvents is a list") {
                    push(
                        &mut walk,
                        &header,
                        event["message"].as_str().expect("message"),
                    );
                }
            } else {
                push(
                    &mut walk,
                    &header,
                    value["message"].as_str().expect("message"),
                );
            }
        } else if is_header_line(line) {
            walk.headers += 1;
            header = Some(line.split_ascii_whitespace().map(str::to_owned).collect());
        } else {
            push(&mut walk, &header, line);
        }
    }
    walk
}

// ---------------------------------------------------------------------------
// Running the parser

fn process(bytes: &[u8], format: Option<&str>) -> BatchOutput {
    let formats = format.map(|f| vec![f.to_owned()]).unwrap_or_default();
    let mut processor = Processor::new(&Config { formats }).expect("valid format");
    processor.process(bytes, 1, None)
}

fn records_of(name: &str, out: &BatchOutput) -> Vec<Record> {
    let text = std::str::from_utf8(&out.ndjson).unwrap_or_else(|e| panic!("{name}: {e}"));
    let records: Vec<Record> = text
        .lines()
        .map(|line| match serde_json::from_str(line) {
            Ok(Value::Object(map)) => map,
            other => panic!("{name}: not a JSON object: {line} ({other:?})"),
        })
        .collect();
    assert_eq!(records.len() as u64, out.records, "{name}: NDJSON lines");
    records
}

/// The same input, one line per call, the header handed from call to call
/// as a host does between batches.
fn process_line_by_line(bytes: &[u8], format: Option<&str>) -> BatchOutput {
    let formats = format.map(|f| vec![f.to_owned()]).unwrap_or_default();
    let mut processor = Processor::new(&Config { formats }).expect("valid format");
    let mut total = BatchOutput::default();
    for (index, line) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
        let out = processor.process(line, index as u64 + 1, total.header.as_deref());
        total.ndjson.extend_from_slice(&out.ndjson);
        total.records += out.records;
        total.rejected.extend(out.rejected);
        total.headers += out.headers;
        total.skipped += out.skipped;
        total.header = out.header;
    }
    total
}

/// What a sample file must give: file (under the source directory), the
/// configured format (`None`: the default v2 format), records, header lines,
/// blank lines.
type Sample = (&'static str, Option<&'static str>, usize, u64, u64);

/// A sample's records (ours) with the lines they came from.
struct Parsed {
    records: Vec<Record>,
    lines: Vec<Line>,
}

/// Parses a sample that must parse in full and checks counts, token-by-token
/// values and line-by-line processing. Returns the records and their lines.
fn check_sample(dir: &Path, source: &str, sample: &Sample) -> Parsed {
    let &(file, format, records, headers, blank) = sample;
    let name = &format!("{source}/{file}");
    let bytes = read(dir, name);
    let text = std::str::from_utf8(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    let walk = walk(text, format.unwrap_or(V2));
    let out = process(&bytes, format);

    assert!(
        out.rejected.is_empty(),
        "{name}: rejected {:#?}",
        out.rejected
    );
    assert_eq!(walk.records.len(), records, "{name}: records (walk)");
    assert_eq!(walk.headers, headers, "{name}: headers (walk)");
    assert_eq!(walk.blank, blank, "{name}: blank lines (walk)");
    assert_eq!(out.records as usize, records, "{name}: records");
    assert_eq!(out.headers, headers, "{name}: headers");
    assert_eq!(out.skipped, blank, "{name}: skipped");

    let ours = records_of(name, &out);
    for (index, (record, line)) in ours.iter().zip(&walk.records).enumerate() {
        check_tokens(&format!("{name} record {index}"), record, line);
    }

    // The same file with CRLF line ends (as after a trip through Windows tools).
    let crlf: Vec<u8> = text.replace('\n', "\r\n").into_bytes();
    let crlf_out = process(&crlf, format);
    assert!(crlf_out.rejected.is_empty(), "{name}: CRLF rejected");
    assert!(
        crlf_out.ndjson == out.ndjson,
        "{name}: CRLF output differs from LF output"
    );

    let split = process_line_by_line(&bytes, format);
    assert!(split.rejected.is_empty(), "{name}: line by line rejected");
    assert_eq!(split.records, out.records, "{name}: line by line records");
    assert_eq!(split.headers, out.headers, "{name}: line by line headers");
    assert_eq!(split.header, out.header, "{name}: line by line header");
    assert!(
        split.ndjson == out.ndjson,
        "{name}: line-by-line output differs from whole-file output"
    );

    Parsed {
        records: ours,
        lines: walk.records,
    }
}

/// A record holds exactly the line's tokens under the field names that apply:
/// `-` leaves the key out, integers are numbers, the rest strings.
fn check_tokens(what: &str, record: &Record, line: &Line) {
    let tokens: Vec<&str> = line.raw.split_ascii_whitespace().collect();
    assert_eq!(
        tokens.len(),
        line.fields.len(),
        "{what}: the sample's line has {} tokens for {} fields: {}",
        tokens.len(),
        line.fields.len(),
        line.raw
    );
    let mut present = 0;
    for (field, token) in line.fields.iter().zip(&tokens) {
        let key = field.replace('-', "_");
        let value = record.get(&key);
        if *token == "-" {
            assert_eq!(value, None, "{what}: `{key}` is `-` in {}", line.raw);
            continue;
        }
        present += 1;
        let expected = if INTEGER_KEYS.contains(&key.as_str()) {
            Value::from(
                token
                    .parse::<u64>()
                    .unwrap_or_else(|e| panic!("{what}: {key}={token}: {e}")),
            )
        } else {
            Value::from(*token)
        };
        assert_eq!(value, Some(&expected), "{what}: `{key}` in {}", line.raw);
    }
    assert_eq!(
        record.len(),
        present,
        "{what}: unexpected keys in {record:?}"
    );
}

/// A file that must be rejected with `FieldCount` on one line, after
/// `headers` accepted header lines.
fn check_rejected(dir: &Path, name: &str, headers: u64, line: u64) {
    let bytes = read(dir, name);
    for (how, out) in [
        ("whole", process(&bytes, None)),
        ("line by line", process_line_by_line(&bytes, None)),
    ] {
        assert_eq!(out.records, 0, "{name} ({how}): records");
        assert_eq!(out.headers, headers, "{name} ({how}): headers");
        assert_eq!(out.rejected.len(), 1, "{name} ({how}): {:#?}", out.rejected);
        let rejected = &out.rejected[0];
        assert_eq!(rejected.reason, RejectReason::FieldCount, "{name} ({how})");
        assert_eq!(rejected.line, line, "{name} ({how}): line");
        let raw = String::from_utf8_lossy(&bytes);
        let expected_raw = raw.lines().nth(line as usize - 1).unwrap_or_default();
        assert_eq!(rejected.raw, expected_raw.as_bytes(), "{name} ({how}): raw");
    }
}

// ---------------------------------------------------------------------------
// Value helpers

/// Unix seconds as RFC 3339 UTC (`2016-10-31T11:35:08Z`).
fn rfc3339(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let secs = seconds % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant, "chrono-compatible
    // low-level date algorithms", civil_from_days).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// An ISO 8601 UTC timestamp with a zero fraction, as RFC 3339 without it.
fn drop_zero_fraction(what: &str, timestamp: &str) -> String {
    match timestamp.split_once('.') {
        None => timestamp.to_owned(),
        Some((whole, fraction)) => {
            let digits = fraction.strip_suffix('Z').unwrap_or(fraction);
            assert!(
                digits.bytes().all(|b| b == b'0'),
                "{what}: timestamp {timestamp} has a non-zero fraction"
            );
            format!("{whole}Z")
        }
    }
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Our value as text, `-` when the key is missing (as in the input).
fn ours_text(record: &Record, key: &str) -> String {
    record.get(key).map_or_else(|| "-".to_owned(), as_text)
}

fn ours_u64(what: &str, record: &Record, key: &str) -> u64 {
    record
        .get(key)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("{what}: `{key}` missing or not a number in {record:?}"))
}

/// IANA protocol names, as the peers write them.
fn protocol_name(number: u64) -> Option<&'static str> {
    Some(match number {
        1 => "icmp",
        6 => "tcp",
        17 => "udp",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        132 => "sctp",
        _ => return None,
    })
}

fn tcp_flag_names(bits: u64) -> Vec<Value> {
    const NAMES: [&str; 8] = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"];
    NAMES
        .iter()
        .enumerate()
        .filter(|(bit, _)| bits & (1 << bit) != 0)
        .map(|(_, name)| Value::from(*name))
        .collect()
}

// ---------------------------------------------------------------------------
// Elastic's expected output

fn flatten(value: &Value, prefix: &str, out: &mut Vec<(String, Value)>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                let key = if prefix.is_empty() {
                    key.clone()
                } else {
                    format!("{prefix}.{key}")
                };
                flatten(value, &key, out);
            }
        }
        other => out.push((prefix.to_owned(), other.clone())),
    }
}

/// How an Elastic field relates to our record.
enum Elastic<'a> {
    /// Our key, compared as text (`-` on their side = missing on ours).
    Field(&'a str),
    /// A timestamp from our key (Unix seconds).
    Time(&'static str),
    /// `event.outcome`, from `action`.
    Outcome,
    /// `network.transport`, from `protocol`.
    Transport,
    /// `network.type`, from the family of `srcaddr`.
    NetworkType,
    /// `related.ip`: [srcaddr, dstaddr].
    RelatedIp,
    /// `aws.vpcflow.tcp_flags_array`, from `tcp_flags`.
    TcpFlagsArray,
    /// `event.original`: the input line.
    Original,
    /// Not compared (see the table at the top).
    Ignored,
}

fn elastic_field(key: &str) -> Option<Elastic<'_>> {
    use Elastic::*;
    const IGNORED_PREFIXES: &[&str] = &[
        "source.geo.",
        "destination.geo.",
        "source.as.",
        "destination.as.",
    ];
    const IGNORED: &[&str] = &[
        "network.community_id",
        "event.kind",
        "event.category",
        "event.type",
        "event.module",
        "event.dataset",
        "event.ingested",
        "ecs.version",
        "tags",
        "cloud.provider",
        "service.type",
        "fileset.name",
        "input.type",
        "log.offset",
    ];
    if IGNORED.contains(&key) || IGNORED_PREFIXES.iter().any(|p| key.starts_with(p)) {
        return Some(Ignored);
    }
    Some(match key {
        "@timestamp" | "event.end" => Time("end"),
        "event.start" => Time("start"),
        "event.outcome" => Outcome,
        "event.action" => Field("action"),
        "event.reason" => Field("reject_reason"),
        "event.original" => Original,
        "cloud.account.id" => Field("account_id"),
        "cloud.instance.id" => Field("instance_id"),
        "cloud.region" => Field("region"),
        "cloud.availability_zone" => Field("az_id"),
        "source.ip" | "source.address" => Field("srcaddr"),
        "destination.ip" | "destination.address" => Field("dstaddr"),
        "source.port" => Field("srcport"),
        "destination.port" => Field("dstport"),
        "source.packets" | "network.packets" => Field("packets"),
        "source.bytes" | "network.bytes" => Field("bytes"),
        "network.iana_number" => Field("protocol"),
        "network.transport" => Transport,
        "network.type" => NetworkType,
        "network.direction" => Field("flow_direction"),
        "related.ip" => RelatedIp,
        "orchestrator.cluster.id" => Field("ecs_cluster_arn"),
        "orchestrator.cluster.name" => Field("ecs_cluster_name"),
        "orchestrator.resource.id" => Field("ecs_container_instance_id"),
        "orchestrator.resource.name" => Field("ecs_container_instance_arn"),
        "service.name" => Field("ecs_service_name"),
        "aws.vpcflow.pkt_src_service" => Field("pkt_src_aws_service"),
        "aws.vpcflow.pkt_dst_service" => Field("pkt_dst_aws_service"),
        "aws.vpcflow.sublocation.type" => Field("sublocation_type"),
        "aws.vpcflow.sublocation.id" => Field("sublocation_id"),
        "aws.vpcflow.tcp_flags_array" => TcpFlagsArray,
        other => {
            let field = other.strip_prefix("aws.vpcflow.")?;
            // Only fields AWS defines, whose output key is the same name.
            flowlog::KNOWN_FIELDS
                .iter()
                .any(|f| f.name.replace('-', "_") == field)
                .then_some(Field(field))?
        }
    })
}

/// Compares our record with Elastic's event for the same line. Returns the
/// number of fields compared and adds our keys that were compared to `covered`.
fn compare_elastic(
    what: &str,
    ours: &Record,
    line: &Line,
    event: &Value,
    covered: &mut BTreeSet<String>,
) -> usize {
    let mut fields = Vec::new();
    flatten(event, "", &mut fields);
    let mut compared = 0;
    for (key, theirs) in &fields {
        let Some(kind) = elastic_field(key) else {
            panic!(
                "{what}: Elastic field `{key}` is not mapped; add it to the table in conformance.rs"
            );
        };
        let mut cover = |key: &str| {
            covered.insert(key.to_owned());
        };
        match kind {
            Elastic::Ignored => continue,
            Elastic::Original => {
                assert_eq!(
                    theirs.as_str(),
                    Some(line.raw.as_str()),
                    "{what}: event paired with the wrong line"
                );
                continue;
            }
            Elastic::Field(our) => {
                assert_eq!(
                    ours_text(ours, our),
                    as_text(theirs),
                    "{what}: Elastic `{key}` vs our `{our}`"
                );
                cover(our);
            }
            Elastic::Time(our) => {
                let theirs = theirs.as_str().expect("timestamp string");
                assert_eq!(
                    rfc3339(ours_u64(what, ours, our)),
                    drop_zero_fraction(what, theirs),
                    "{what}: Elastic `{key}` vs our `{our}`"
                );
                cover(our);
            }
            Elastic::Outcome => {
                let action = ours_text(ours, "action");
                let outcomes: &[&str] = match action.as_str() {
                    "ACCEPT" => &["allow", "success"],
                    "REJECT" => &["deny", "failure"],
                    other => panic!("{what}: event.outcome {theirs} with action {other}"),
                };
                assert!(
                    outcomes.contains(&as_text(theirs).as_str()),
                    "{what}: event.outcome {theirs} vs our action {action}"
                );
                cover("action");
            }
            Elastic::Transport => {
                let protocol = ours_u64(what, ours, "protocol");
                assert_eq!(
                    protocol_name(protocol),
                    theirs.as_str(),
                    "{what}: network.transport vs our protocol {protocol}"
                );
                cover("protocol");
            }
            Elastic::NetworkType => {
                let address: IpAddr = ours_text(ours, "srcaddr")
                    .parse()
                    .unwrap_or_else(|e| panic!("{what}: network.type without srcaddr: {e}"));
                let family = if address.is_ipv4() { "ipv4" } else { "ipv6" };
                assert_eq!(
                    theirs.as_str(),
                    Some(family),
                    "{what}: network.type vs our srcaddr {address}"
                );
                cover("srcaddr");
            }
            Elastic::RelatedIp => {
                let expected: Vec<Value> = ["srcaddr", "dstaddr"]
                    .iter()
                    .filter_map(|k| ours.get(*k).cloned())
                    .collect();
                assert_eq!(
                    theirs,
                    &Value::Array(expected),
                    "{what}: related.ip vs our srcaddr, dstaddr"
                );
            }
            Elastic::TcpFlagsArray => {
                let flags = ours_u64(what, ours, "tcp_flags");
                assert_eq!(
                    theirs,
                    &Value::Array(tcp_flag_names(flags)),
                    "{what}: tcp_flags_array vs our tcp_flags {flags}"
                );
                cover("tcp_flags");
            }
        }
        compared += 1;
    }
    compared
}

/// Compares a sample's records with Elastic's expected output, event by event.
/// Returns (records, fields) compared.
fn check_elastic(dir: &Path, name: &str, parsed: &Parsed) -> (usize, usize) {
    let expected_name = format!("{name}-expected.json");
    let expected: Value = serde_json::from_slice(&read(dir, &expected_name))
        .unwrap_or_else(|e| panic!("{expected_name}: {e}"));
    // Integrations wrap the events as {"expected": [...]}; Beats saves a list.
    let events = match &expected {
        Value::Object(map) => map["expected"].as_array().expect("expected: list"),
        Value::Array(events) => events,
        other => panic!("{expected_name}: unexpected {other}"),
    };
    assert_eq!(
        events.len(),
        parsed.records.len(),
        "{name}: one Elastic event per record"
    );
    let mut fields = 0;
    for (index, ((ours, line), event)) in parsed
        .records
        .iter()
        .zip(&parsed.lines)
        .zip(events)
        .enumerate()
    {
        let what = format!("{name} record {index}");
        let mut covered = BTreeSet::new();
        let compared = compare_elastic(&what, ours, line, event, &mut covered);
        assert!(
            compared >= MIN_COMPARED,
            "{what}: only {compared} fields compared with Elastic"
        );
        let uncompared: Vec<&String> = ours.keys().filter(|k| !covered.contains(*k)).collect();
        assert!(
            uncompared.is_empty(),
            "{what}: our fields {uncompared:?} have no counterpart in Elastic's event"
        );
        fields += compared;
    }
    (events.len(), fields)
}

// ---------------------------------------------------------------------------
// OpenTelemetry's expected output (YAML, read line by line)

/// One OTLP log record of the expected YAML: its attributes and time.
#[derive(Debug, Default)]
struct OtelRecord {
    attributes: Vec<(String, String)>,
    time_unix_nano: Option<String>,
}

#[derive(Debug, Default)]
struct OtelLogs {
    resource: Vec<(String, String)>,
    scope: Vec<(String, String)>,
    records: Vec<OtelRecord>,
}

fn unquote(text: &str) -> &str {
    let text = text.trim();
    text.strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(text)
}

/// Reads the shape OpenTelemetry's golden files have: `resourceLogs` with
/// resource attributes, `scopeLogs[].logRecords[]` with `attributes` (`- key:`
/// then `value:` then one `xxxValue:` line) and `timeUnixNano`, then `scope`.
/// Enough for this file, not a YAML parser: anything else fails loudly.
fn parse_otel_yaml(text: &str) -> OtelLogs {
    #[derive(PartialEq)]
    enum Section {
        None,
        Resource,
        Records,
        Scope,
    }
    let mut logs = OtelLogs::default();
    let mut section = Section::None;
    let mut key: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        let item = trimmed.strip_prefix("- ").unwrap_or(trimmed);
        match item {
            // Each log record is a list item that starts with its attributes.
            "attributes:" if trimmed.starts_with('-') && section == Section::Records => {
                logs.records.push(OtelRecord::default());
            }
            "" | "resourceLogs:" | "scopeLogs:" | "value:" | "body: {}" | "attributes:" => {}
            "resource:" => section = Section::Resource,
            "scope:" => section = Section::Scope,
            "logRecords:" => section = Section::Records,
            _ => {
                let (name, rest) = item
                    .split_once(':')
                    .unwrap_or_else(|| panic!("unexpected YAML line: {line}"));
                let rest = unquote(rest);
                match name {
                    "key" => key = Some(rest.to_owned()),
                    "stringValue" | "intValue" | "boolValue" | "doubleValue" => {
                        let pair = (key.take().expect("a value after a key"), rest.to_owned());
                        match section {
                            Section::Resource => logs.resource.push(pair),
                            Section::Scope => logs.scope.push(pair),
                            Section::Records => logs
                                .records
                                .last_mut()
                                .expect("a log record")
                                .attributes
                                .push(pair),
                            Section::None => panic!("value outside a section: {line}"),
                        }
                    }
                    "timeUnixNano" => {
                        logs.records
                            .last_mut()
                            .expect("a log record")
                            .time_unix_nano = Some(rest.to_owned());
                    }
                    "name" if section == Section::Scope => {}
                    _ => panic!("unexpected YAML line: {line}"),
                }
            }
        }
    }
    logs
}

/// Compares one OTel attribute with our record; returns our key compared,
/// or `None` for attributes not compared.
fn compare_otel(what: &str, ours: &Record, key: &str, theirs: &str) -> Option<&'static str> {
    let our = match key {
        "aws.vpc.flow.log.version" => "version",
        "cloud.account.id" => "account_id",
        "network.interface.name" => "interface_id",
        "source.address" => "srcaddr",
        "destination.address" => "dstaddr",
        "source.port" => "srcport",
        "destination.port" => "dstport",
        "aws.vpc.flow.packets" => "packets",
        "aws.vpc.flow.bytes" => "bytes",
        "aws.vpc.flow.start" => "start",
        "aws.vpc.flow.action" => "action",
        "aws.vpc.flow.status" => "log_status",
        "network.protocol.name" => {
            let protocol = ours_u64(what, ours, "protocol");
            assert_eq!(
                protocol_name(protocol),
                Some(theirs),
                "{what}: OTel network.protocol.name vs our protocol {protocol}"
            );
            return Some("protocol");
        }
        "cloud.provider" => return None,
        other => panic!(
            "{what}: OTel attribute `{other}` is not mapped; add it to the table in conformance.rs"
        ),
    };
    assert_eq!(
        ours_text(ours, our),
        theirs,
        "{what}: OTel `{key}` vs our `{our}`"
    );
    Some(our)
}

fn check_otel_expected(dir: &Path, parsed: &Parsed) -> (usize, usize) {
    let name = "otel-awslogsencodingextension/valid_vpc_flow_log_expected_multi.yaml";
    let text = String::from_utf8(read(dir, name)).expect("UTF-8 YAML");
    let logs = parse_otel_yaml(&text);
    assert_eq!(
        logs.scope,
        [("encoding.format".to_owned(), "aws.vpcflow".to_owned())],
        "{name}: scope"
    );
    assert_eq!(
        logs.records.len(),
        parsed.records.len(),
        "{name}: one log record per record"
    );
    let mut fields = 0;
    for (index, (theirs, ours)) in logs.records.iter().zip(&parsed.records).enumerate() {
        let what = format!("{name} record {index}");
        let mut covered = BTreeSet::new();
        let mut compared = 0;
        for (key, value) in logs.resource.iter().chain(&theirs.attributes) {
            if let Some(our) = compare_otel(&what, ours, key, value) {
                covered.insert(our.to_owned());
                compared += 1;
            }
        }
        let time = theirs.time_unix_nano.as_deref().expect("timeUnixNano");
        let end = u128::from(ours_u64(&what, ours, "end"));
        assert_eq!(
            time,
            (end * 1_000_000_000).to_string(),
            "{what}: timeUnixNano"
        );
        covered.insert("end".to_owned());
        compared += 1;

        assert!(
            compared >= MIN_COMPARED,
            "{what}: only {compared} fields compared with OTel"
        );
        let uncompared: Vec<&String> = ours.keys().filter(|k| !covered.contains(*k)).collect();
        assert!(
            uncompared.is_empty(),
            "{what}: our fields {uncompared:?} have no counterpart in OTel's record"
        );
        fields += compared;
    }
    (logs.records.len(), fields)
}

// ---------------------------------------------------------------------------
// The tests, one per source directory

#[test]
fn elastic_integrations() {
    let Some(dir) = flowlogs_dir() else { return };
    let source = "elastic-integrations";
    #[rustfmt::skip]
    let samples: [Sample; 8] = [
        ("test-extra-samples.log", None, 7, 0, 0),
        ("older-revision/test-extra-samples.log", None, 7, 0, 0),
        // Header lines interleaved with the records.
        ("test-tcp-flag-sequence.log", None, 3, 3, 0),
        ("test-v5-all-fields.log", Some(V5), 1, 0, 0),
        ("test-tgw-samples.log", Some(TGW), 10, 0, 0),
        ("test-ecs-samples.log", Some(ECS), 10, 0, 0),
        ("test-v8-samples.log", Some(V8), 1, 0, 0),
        ("test-with-message-field.log", None, 1, 0, 0),
    ];
    // No expected output saved for the older revision and the ECS file.
    let without_expected = [
        "older-revision/test-extra-samples.log",
        "test-ecs-samples.log",
    ];
    let (mut records, mut fields) = (0, 0);
    for sample in &samples {
        let parsed = check_sample(&dir, source, sample);
        if !without_expected.contains(&sample.0) {
            let (r, f) = check_elastic(&dir, &format!("{source}/{}", sample.0), &parsed);
            records += r;
            fields += f;
        }
    }
    assert_eq!(records, 23, "Elastic events compared");
    assert!(fields >= 23 * 20, "only {fields} Elastic fields compared");
    eprintln!("{source}: {records} events, {fields} field values agree with Elastic");
}

#[test]
fn elastic_beats() {
    let Some(dir) = flowlogs_dir() else { return };
    let source = "elastic-beats";
    #[rustfmt::skip]
    let samples: [Sample; 7] = [
        ("accept-reject-traffic.log", None, 4, 1, 0),
        ("custom-nat-gateway.log", None, 2, 1, 0),
        ("custom-transit-gateway.log", Some(BEATS_TGW), 1, 0, 0),
        ("ipv6.log", None, 1, 0, 0),
        ("no-data-skip-data.log", None, 2, 0, 0),
        ("tcp-flag-sequence.log", None, 1, 1, 0),
        // Two headers with an empty line between them.
        ("tcp-flag-sequence-skip-data.log", None, 2, 2, 1),
    ];
    let (mut records, mut fields) = (0, 0);
    for sample in &samples {
        let parsed = check_sample(&dir, source, sample);
        // Expected outputs were saved for the two custom formats only.
        if sample.0.starts_with("custom-") {
            let (r, f) = check_elastic(&dir, &format!("{source}/{}", sample.0), &parsed);
            records += r;
            fields += f;
        }
    }
    assert_eq!(records, 3, "Elastic events compared");
    assert!(fields >= 3 * 10, "only {fields} Elastic fields compared");

    check_rejected(&dir, &format!("{source}/bad.log"), 0, 1);
    eprintln!("{source}: {records} events, {fields} field values agree with Elastic");
}

#[test]
fn otel_awslogsencodingextension() {
    let Some(dir) = flowlogs_dir() else { return };
    let source = "otel-awslogsencodingextension";
    #[rustfmt::skip]
    let samples: [Sample; 6] = [
        ("valid_vpc_flow_log.log", None, 1, 1, 0),
        ("valid_vpc_flow_log_multi.log", None, 2, 1, 0),
        ("valid_vpc_flow_log_ecs.log", None, 1, 1, 0),
        ("valid_tgw_flow_log.log", None, 1, 1, 0),
        // CloudWatch Logs subscription payloads: one line, records in logEvents.
        ("valid_vpc_flow_cw.json", None, 2, 0, 0),
        ("valid_vpc_flow_cw_custom.json", Some(OTEL_CW_CUSTOM), 2, 0, 0),
    ];
    let mut multi = None;
    for sample in &samples {
        let parsed = check_sample(&dir, source, sample);
        if sample.0.ends_with(".json") {
            let name = format!("{source}/{}", sample.0);
            let payload: Value = serde_json::from_slice(&read(&dir, &name)).unwrap();
            assert_eq!(payload["messageType"], "DATA_MESSAGE", "{name}");
            let events = payload["logEvents"].as_array().unwrap();
            assert_eq!(events.len(), parsed.records.len(), "{name}: logEvents");
        }
        if sample.0 == "valid_vpc_flow_log_multi.log" {
            multi = Some(parsed);
        }
    }
    let (records, fields) = check_otel_expected(&dir, &multi.expect("multi parsed"));
    assert_eq!(records, 2, "OTel records compared");
    assert!(fields >= 2 * 14, "only {fields} OTel fields compared");

    // Both have a header line, then a record with one field too few or too many.
    check_rejected(
        &dir,
        &format!("{source}/vpc_flow_log_too_few_fields.log"),
        1,
        2,
    );
    check_rejected(
        &dir,
        &format!("{source}/vpc_flow_log_too_many_fields.log"),
        1,
        2,
    );
    eprintln!("{source}: {records} records, {fields} field values agree with OTel");
}

#[test]
fn vrl_aws_docs_examples() {
    let Some(dir) = flowlogs_dir() else { return };
    #[rustfmt::skip]
    let samples: [Sample; 4] = [
        ("default-format-v2.log", None, 7, 0, 0),
        ("tcp-flag-sequence-v3.log", None, 8, 1, 0),
        ("nat-gateway-custom.log", None, 6, 1, 0),
        ("transit-gateway-custom.log", None, 4, 1, 0),
    ];
    for sample in &samples {
        check_sample(&dir, "vrl-aws-docs-examples", sample);
    }
}

#[test]
fn grafana_loki_lambda_promtail() {
    let Some(dir) = flowlogs_dir() else { return };
    let sample: Sample = ("vpcflowlog.log.gz", None, 3, 1, 0);
    let parsed = check_sample(&dir, "grafana-loki-lambda-promtail", &sample);
    assert!(
        parsed
            .records
            .iter()
            .all(|r| r["account_id"] == "123456789012")
    );
}

#[test]
fn rfc3339_known_dates() {
    assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    assert_eq!(rfc3339(1_477_913_708), "2016-10-31T11:35:08Z");
    assert_eq!(rfc3339(164_000_066), "1975-03-14T03:34:26Z");
    assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    assert_eq!(
        drop_zero_fraction("t", "2016-10-31T11:35:08.000Z"),
        "2016-10-31T11:35:08Z"
    );
}

#[test]
fn sample_reader_helpers() {
    assert!(is_header_line("instance-id interface-id srcaddr"));
    assert!(!is_header_line("- eni-1235b8ca123456789 10.0.1.5"));
    assert!(!is_header_line(
        "i-01234567890123456 eni-1111aaaa2222bbbb3 10.0.1.5"
    ));
    assert!(!is_header_line("Phony unsupported log format."));
    assert_eq!(tcp_flag_names(19), ["fin", "syn", "ack"]);
    let logs = parse_otel_yaml(
        "resourceLogs:\n  - resource:\n      attributes:\n        - key: a\n          value:\n            stringValue: \"1\"\n    scopeLogs:\n      - logRecords:\n          - attributes:\n              - key: b\n                value:\n                  intValue: \"2\"\n            body: {}\n            timeUnixNano: \"3\"\n",
    );
    assert_eq!(logs.resource, [("a".to_owned(), "1".to_owned())]);
    assert_eq!(logs.records.len(), 1);
    assert_eq!(
        logs.records[0].attributes,
        [("b".to_owned(), "2".to_owned())]
    );
    assert_eq!(logs.records[0].time_unix_nano.as_deref(), Some("3"));
}
