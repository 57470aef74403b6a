//! Conformance against public flow-log samples and peers' expected outputs
//! in `../shared/data/flowlogs` (see its README and SOURCES.md).
//!
//! Every record in every sample parses with the field order its README
//! gives; files that must be rejected are; and where Elastic's expected
//! output exists, each record's values agree with it field by field.
//!
//! Deliberate differences from Elastic's output (not compared):
//!
//! | Elastic | flowtag | why |
//! |---|---|---|
//! | `aws.vpcflow.*` and ECS fields for `-` values keep `"-"` | the key is left out | issue contract: `-` means no value |
//! | numbers as strings (`version: "2"`, `iana_number: "6"`) | JSON numbers | flowtag types integer fields; compared as text |
//! | `event.start`/`end` as ISO-8601 | Unix seconds | compared after converting ours to ISO-8601 |
//! | `aws.vpcflow.pkt_src_service` | `pkt_src_aws_service` | flowtag keeps AWS's field names |
//! | `aws.vpcflow.tcp_flags_array`, `network.transport`, `network.community_id`, geo, as, `event.action`, `network.direction` | `flow.*`, `src`/`dst` (enrichment) | derived values, compared by the enrichment tests |

use std::path::PathBuf;

use flowlog::{Config, Processor, RejectReason};
use serde_json::{Map, Value};

const V2: &str = flowlog::DEFAULT_FORMAT;
const V5: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path";
const ECS: &str = "ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn ecs-container-instance-id ecs-container-id ecs-second-container-id ecs-service-name ecs-task-definition-arn ecs-task-arn ecs-task-id";
const TGW: &str = "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service";
const BEATS_TGW: &str = "version interface-id account-id vpc-id subnet-id instance-id srcaddr dstaddr srcport dstport protocol tcp-flags type pkt-srcaddr pkt-dstaddr action log-status";

/// The shared data folder, or `None` (with a note) when it is absent and
/// not required.
fn flowlogs_dir() -> Option<PathBuf> {
    let shared = std::env::var_os("FLOWTAG_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"));
    let dir = shared.join("data/flowlogs");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("FLOWTAG_REQUIRE_SHARED").is_none(),
        "FLOWTAG_REQUIRE_SHARED is set but {} does not exist",
        dir.display()
    );
    eprintln!(
        "note: {} not found; conformance tests skipped (set FLOWTAG_REQUIRE_SHARED=1 to make this an error)",
        dir.display()
    );
    None
}

struct Parsed {
    records: Vec<Map<String, Value>>,
    rejected: Vec<flowlog::Rejected>,
    headers: u64,
}

fn parse(bytes: &[u8], formats: &[String]) -> Parsed {
    let mut processor = Processor::new(&Config {
        formats: formats.to_vec(),
    })
    .unwrap();
    let out = processor.process(bytes, 1, None);
    let records = String::from_utf8(out.ndjson)
        .unwrap()
        .lines()
        .map(|line| match serde_json::from_str(line).unwrap() {
            Value::Object(map) => map,
            other => panic!("not an object: {other}"),
        })
        .collect::<Vec<_>>();
    assert_eq!(records.len() as u64, out.records);
    Parsed {
        records,
        rejected: out.rejected,
        headers: out.headers,
    }
}

fn read(dir: &std::path::Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Lines that are records: not blank, not a header (a line starting with a
/// lower-case field name that is `version` or another field of the format).
fn record_lines(bytes: &[u8]) -> usize {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| {
            let first = l.split_whitespace().next().unwrap_or("");
            !(first.starts_with(|c: char| c.is_ascii_lowercase())
                && flowlog::field::lookup(first).is_some())
        })
        .count()
}

/// Every sample parses in full with the format its README names.
#[test]
fn every_sample_record_parses() {
    let Some(dir) = flowlogs_dir() else { return };
    let v5_ecs = format!("{V5} {ECS}");
    let v8 = format!("{V5} {ECS} reject-reason");
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("elastic-beats/accept-reject-traffic.log", vec![]),
        ("elastic-beats/custom-nat-gateway.log", vec![]),
        (
            "elastic-beats/custom-transit-gateway.log",
            vec![BEATS_TGW.into()],
        ),
        ("elastic-beats/ipv6.log", vec![]),
        ("elastic-beats/no-data-skip-data.log", vec![]),
        ("elastic-beats/tcp-flag-sequence-skip-data.log", vec![]),
        ("elastic-beats/tcp-flag-sequence.log", vec![]),
        (
            "elastic-integrations/test-ecs-samples.log",
            vec![TGW.into(), v5_ecs.clone()],
        ),
        ("elastic-integrations/test-extra-samples.log", vec![]),
        (
            "elastic-integrations/older-revision/test-extra-samples.log",
            vec![],
        ),
        ("elastic-integrations/test-tcp-flag-sequence.log", vec![]),
        (
            "elastic-integrations/test-tgw-samples.log",
            vec![TGW.into(), v5_ecs.clone()],
        ),
        (
            "elastic-integrations/test-v5-all-fields.log",
            vec![V5.into()],
        ),
        ("elastic-integrations/test-v8-samples.log", vec![v8]),
        ("elastic-integrations/test-with-message-field.log", vec![]),
        (
            "otel-awslogsencodingextension/valid_tgw_flow_log.log",
            vec![],
        ),
        (
            "otel-awslogsencodingextension/valid_vpc_flow_log.log",
            vec![],
        ),
        (
            "otel-awslogsencodingextension/valid_vpc_flow_log_ecs.log",
            vec![],
        ),
        (
            "otel-awslogsencodingextension/valid_vpc_flow_log_multi.log",
            vec![],
        ),
        ("vrl-aws-docs-examples/default-format-v2.log", vec![]),
        ("vrl-aws-docs-examples/nat-gateway-custom.log", vec![]),
        ("vrl-aws-docs-examples/tcp-flag-sequence-v3.log", vec![]),
        ("vrl-aws-docs-examples/transit-gateway-custom.log", vec![]),
    ];
    let mut total = 0;
    for (name, formats) in &cases {
        let bytes = read(&dir, name);
        let parsed = parse(&bytes, formats);
        assert!(
            parsed.rejected.is_empty(),
            "{name}: {:?}",
            parsed.rejected.first().map(|r| &r.message)
        );
        // JSON-wrapped records count as one line each.
        assert_eq!(parsed.records.len(), record_lines(&bytes), "{name}");
        assert!(!parsed.records.is_empty(), "{name}");
        total += parsed.records.len();
    }
    assert!(total >= 80, "only {total} records compared");
}

#[test]
fn cloudwatch_payloads_and_gzip() {
    let Some(dir) = flowlogs_dir() else { return };
    for (name, formats) in [
        (
            "otel-awslogsencodingextension/valid_vpc_flow_cw.json",
            vec![],
        ),
        (
            "otel-awslogsencodingextension/valid_vpc_flow_cw_custom.json",
            vec![
                "version account-id interface-id srcaddr".to_owned(),
                V2.to_owned(),
            ],
        ),
    ] {
        let bytes = read(&dir, name);
        let payload: Value = serde_json::from_slice(&bytes).unwrap();
        let events = payload["logEvents"].as_array().unwrap();
        let parsed = parse(&bytes, &formats);
        assert!(parsed.rejected.is_empty(), "{name}: {:?}", parsed.rejected);
        assert_eq!(parsed.records.len(), events.len(), "{name}");
        for (record, event) in parsed.records.iter().zip(events) {
            let message = event["message"].as_str().unwrap();
            let first = message.split(' ').next().unwrap();
            assert_eq!(record["version"].to_string(), first, "{name}");
        }
    }

    use std::io::Read;
    let gz = read(&dir, "grafana-loki-lambda-promtail/vpcflowlog.log.gz");
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut text)
        .unwrap();
    let parsed = parse(&text, &[]);
    assert_eq!(parsed.headers, 1);
    assert_eq!(parsed.records.len(), 3);
    assert!(parsed.rejected.is_empty());
    assert_eq!(parsed.records[0]["account_id"], "123456789012");
}

#[test]
fn samples_that_must_be_rejected_are() {
    let Some(dir) = flowlogs_dir() else { return };
    for name in [
        "elastic-beats/bad.log",
        "otel-awslogsencodingextension/vpc_flow_log_too_few_fields.log",
        "otel-awslogsencodingextension/vpc_flow_log_too_many_fields.log",
    ] {
        let bytes = read(&dir, name);
        let parsed = parse(&bytes, &[]);
        assert!(parsed.records.is_empty(), "{name}");
        assert_eq!(parsed.rejected.len(), 1, "{name}");
        assert_eq!(
            parsed.rejected[0].reason,
            RejectReason::FieldCount,
            "{name}"
        );
    }
}

fn flatten(value: &Value, prefix: &str, out: &mut Map<String, Value>) {
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
        other => {
            out.insert(prefix.to_owned(), other.clone());
        }
    }
}

/// Unix seconds as Elastic writes timestamps: `2016-10-31T11:35:08.000Z`.
fn iso8601(seconds: u64) -> String {
    let days = (seconds / 86_400) as i64;
    let rem = seconds % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
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
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.000Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn as_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Which of our keys an Elastic field holds, if it is one we compare.
fn our_key(elastic: &str) -> Option<String> {
    let key = match elastic {
        "cloud.account.id" => "account_id",
        "cloud.instance.id" => "instance_id",
        "cloud.region" => "region",
        "source.ip" | "source.address" => "srcaddr",
        "destination.ip" | "destination.address" => "dstaddr",
        "source.port" => "srcport",
        "destination.port" => "dstport",
        "network.iana_number" => "protocol",
        "source.packets" | "network.packets" => "packets",
        "source.bytes" | "network.bytes" => "bytes",
        "event.start" => "start",
        "event.end" => "end",
        "aws.vpcflow.pkt_src_service" => "pkt_src_aws_service",
        "aws.vpcflow.pkt_dst_service" => "pkt_dst_aws_service",
        "aws.vpcflow.tcp_flags_array" => return None,
        other => return other.strip_prefix("aws.vpcflow.").map(str::to_owned),
    };
    Some(key.to_owned())
}

/// Compares one of our records with Elastic's event for the same line;
/// returns how many fields were compared.
fn compare(name: &str, ours: &Map<String, Value>, elastic: &Map<String, Value>) -> usize {
    let mut compared = 0;
    for (key, expected) in elastic {
        let Some(our_key) = our_key(key) else {
            continue;
        };
        let expected = as_text(expected);
        let actual = match ours.get(&our_key) {
            None => "-".to_owned(),
            Some(value) if key.starts_with("event.") => iso8601(value.as_u64().unwrap()),
            Some(value) => as_text(value),
        };
        assert_eq!(
            actual, expected,
            "{name}: {key} (our {our_key}) in {ours:?}"
        );
        compared += 1;
    }
    compared
}

#[test]
fn values_agree_with_elastic_expected_outputs() {
    let Some(dir) = flowlogs_dir() else { return };
    let v8 = format!("{V5} {ECS} reject-reason");
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("elastic-integrations/test-extra-samples.log", vec![]),
        ("elastic-integrations/test-tcp-flag-sequence.log", vec![]),
        (
            "elastic-integrations/test-v5-all-fields.log",
            vec![V5.into()],
        ),
        (
            "elastic-integrations/test-tgw-samples.log",
            vec![TGW.into()],
        ),
        ("elastic-integrations/test-v8-samples.log", vec![v8]),
        ("elastic-integrations/test-with-message-field.log", vec![]),
        ("elastic-beats/custom-nat-gateway.log", vec![]),
        (
            "elastic-beats/custom-transit-gateway.log",
            vec![BEATS_TGW.into()],
        ),
    ];
    let mut records = 0;
    let mut fields = 0;
    for (name, formats) in &cases {
        let expected: Value =
            serde_json::from_slice(&read(&dir, &format!("{name}-expected.json"))).unwrap();
        let events = match &expected {
            Value::Object(map) => map["expected"].as_array().unwrap().clone(),
            Value::Array(events) => events.clone(),
            other => panic!("{name}: unexpected {other}"),
        };
        let mut processor = Processor::new(&Config {
            formats: formats.clone(),
        })
        .unwrap();
        // Parse the whole file once so that header lines are in force for
        // the records after them, then pair records with events in order.
        let out = processor.process(&read(&dir, name), 1, None);
        assert!(out.rejected.is_empty(), "{name}: {:?}", out.rejected);
        let ours: Vec<Map<String, Value>> = String::from_utf8(out.ndjson)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(ours.len(), events.len(), "{name}");
        for (index, (ours, event)) in ours.iter().zip(&events).enumerate() {
            let mut flat = Map::new();
            flatten(event, "", &mut flat);
            let compared = compare(&format!("{name} #{index}"), ours, &flat);
            assert!(
                compared >= 5,
                "{name} #{index}: only {compared} fields compared"
            );
            records += 1;
            fields += compared;
        }
    }
    // Every event of the eight expected-output files, and most of their fields.
    assert_eq!(records, 26);
    assert!(fields >= 300, "only {fields} fields compared");
    eprintln!("conformance: {records} records, {fields} field values agree with Elastic");
}

#[test]
fn iso8601_matches_known_dates() {
    assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(iso8601(1_477_913_708), "2016-10-31T11:35:08.000Z");
    assert_eq!(iso8601(951_782_400), "2000-02-29T00:00:00.000Z");
}
