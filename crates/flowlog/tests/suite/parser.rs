//! `Processor::process` end to end: input lines in, NDJSON and rejections
//! out. Every expected value below is derived by hand from the input line,
//! following the field table in the flow-logs reference.

use std::fmt;

use flowlog::{
    BatchOutput, Config, ConfigError, DEFAULT_FORMAT, FormatError, MAX_LINE_BYTES, Processor,
    RejectReason, Rejected, TOO_LONG_RAW_BYTES,
};
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// Formats and records used by several tests.

/// The custom format of the AWS "TCP flag sequence" examples (version 3).
const V3_FORMAT: &str = "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status";

/// The custom format of the AWS "traffic through a NAT gateway" examples.
const NAT_FORMAT: &str = "instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr";

/// The Transit Gateway flow log default format (version 6), 36 fields.
const TGW_FORMAT: &str = "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service";

/// A version 5 format with the traffic-path and AWS-service fields.
const V5_FORMAT: &str = "version srcaddr dstaddr srcport dstport protocol start end type packets bytes account-id vpc-id subnet-id instance-id interface-id region az-id sublocation-type sublocation-id action tcp-flags pkt-srcaddr pkt-dstaddr pkt-src-aws-service pkt-dst-aws-service traffic-path flow-direction log-status";

/// Accepted SSH traffic, default format.
const SSH_ACCEPT: &str = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";

fn ssh_accept() -> Value {
    json!({
        "version": 2,
        "account_id": "123456789010",
        "interface_id": "eni-1235b8ca123456789",
        "srcaddr": "172.31.16.139",
        "dstaddr": "172.31.16.21",
        "srcport": 20641,
        "dstport": 22,
        "protocol": 6,
        "packets": 20,
        "bytes": 4249,
        "start": 1418530010,
        "end": 1418530070,
        "action": "ACCEPT",
        "log_status": "OK"
    })
}

/// The values of [`SSH_ACCEPT`], one per default-format field.
fn ssh_tokens() -> Vec<&'static str> {
    SSH_ACCEPT.split(' ').collect()
}

/// [`SSH_ACCEPT`] with field `index` replaced by `value`.
fn ssh_with(index: usize, value: &str) -> String {
    let mut tokens = ssh_tokens();
    tokens[index] = value;
    tokens.join(" ")
}

// ---------------------------------------------------------------------------
// Helpers.

fn config(formats: &[&str]) -> Config {
    Config {
        formats: formats.iter().map(|f| (*f).to_owned()).collect(),
    }
}

fn processor(formats: &[&str]) -> Processor {
    Processor::new(&config(formats)).expect("valid formats")
}

/// Runs one batch and checks the invariants that hold for every input.
fn run_with(
    processor: &mut Processor,
    data: &[u8],
    first_line: u64,
    header: Option<&str>,
) -> BatchOutput {
    let out = processor.process(data, first_line, header);
    check_invariants(data, &out);
    out
}

/// Runs `data` from line 1 with no header in force.
fn run(formats: &[&str], data: &str) -> BatchOutput {
    run_with(&mut processor(formats), data.as_bytes(), 1, None)
}

/// The keys of one JSON object, in document order.
struct Keys(Vec<String>);

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Keys, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = Keys;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some((key, IgnoredAny)) = map.next_entry::<String, IgnoredAny>()? {
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        deserializer.deserialize_map(KeysVisitor)
    }
}

fn ndjson_lines(out: &BatchOutput) -> Vec<&str> {
    let text = std::str::from_utf8(&out.ndjson).expect("NDJSON is UTF-8");
    assert!(text.is_empty() || text.ends_with('\n'), "{text:?}");
    text.split_terminator('\n').collect()
}

/// The records of a batch, parsed.
fn objects(out: &BatchOutput) -> Vec<Value> {
    ndjson_lines(out)
        .into_iter()
        .map(|line| {
            let value: Value = serde_json::from_str(line).expect("each line is JSON");
            assert!(value.is_object(), "{line}");
            value
        })
        .collect()
}

/// The keys of each record, in output order.
fn key_order(out: &BatchOutput) -> Vec<Vec<String>> {
    ndjson_lines(out)
        .into_iter()
        .map(|line| serde_json::from_str::<Keys>(line).expect("object").0)
        .collect()
}

fn underscored(format: &str) -> Vec<String> {
    format
        .split(' ')
        .map(|name| name.replace('-', "_"))
        .collect()
}

fn is_blank(line: &[u8]) -> bool {
    line.iter().all(|&b| b == b' ' || b == b'\t')
}

/// How many records the input holds, counted from the input alone: every
/// non-blank line, except that a JSON envelope counts its non-blank
/// messages (a CloudWatch Logs control message none). Header lines are
/// included: the caller adds `headers` to the outcome.
fn entries(data: &[u8]) -> u64 {
    let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if data.is_empty() || data.last() == Some(&b'\n') {
        lines.pop();
    }
    let mut count = 0;
    for line in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() > MAX_LINE_BYTES {
            count += 1;
            continue;
        }
        if is_blank(line) {
            continue;
        }
        let first = line.iter().position(|&b| b != b' ' && b != b'\t');
        if first.map(|i| line[i]) != Some(b'{') {
            count += 1;
            continue;
        }
        let Ok(Value::Object(envelope)) = serde_json::from_slice::<Value>(line) else {
            count += 1;
            continue;
        };
        let control = envelope.get("messageType") == Some(&json!("CONTROL_MESSAGE"));
        match (envelope.get("logEvents"), envelope.get("message")) {
            (Some(Value::Array(events)), _) => {
                let messages: Option<Vec<&str>> = events
                    .iter()
                    .map(|event| event.get("message").and_then(Value::as_str))
                    .collect();
                match messages {
                    _ if control => {}
                    Some(messages) => {
                        count += messages.iter().filter(|m| !m.trim().is_empty()).count() as u64;
                    }
                    None => count += 1,
                }
            }
            _ if control => {}
            (None, Some(Value::String(message))) => {
                count += u64::from(!message.trim().is_empty());
            }
            _ => count += 1,
        }
    }
    count
}

/// The invariants every batch keeps: every NDJSON line is one JSON object,
/// `records` counts them, and every record of the input is either accepted
/// or rejected (headers aside).
fn check_invariants(data: &[u8], out: &BatchOutput) {
    assert_eq!(objects(out).len() as u64, out.records, "records vs NDJSON");
    for keys in key_order(out) {
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), keys.len(), "duplicate key in {keys:?}");
    }
    assert_eq!(
        entries(data),
        out.records + out.rejected.len() as u64 + out.headers,
        "non-blank lines/events vs records + rejected + headers: {out:?}"
    );
}

/// Asserts a rejection's report, field by field.
#[track_caller]
fn assert_rejected(
    rejected: &Rejected,
    line: u64,
    reason: RejectReason,
    field: Option<&str>,
    value: Option<&str>,
    raw: &[u8],
) {
    assert_eq!(rejected.reason, reason, "{rejected:?}");
    assert_eq!(rejected.line, line, "{rejected:?}");
    assert_eq!(rejected.field.as_deref(), field, "{rejected:?}");
    assert_eq!(rejected.value.as_deref(), value, "{rejected:?}");
    assert!(rejected.raw == raw, "raw of {rejected:?}");
    assert!(!rejected.message.is_empty());
}

// ---------------------------------------------------------------------------
// AWS documentation examples.

#[test]
fn default_format_accepted_and_rejected_traffic() {
    let data = format!(
        "{SSH_ACCEPT}\n\
         2 123456789010 eni-1235b8ca123456789 172.31.9.69 172.31.9.12 49761 3389 6 20 4249 1418530010 1418530070 REJECT OK\n"
    );
    let out = run(&[], &data);
    assert_eq!(out.records, 2);
    assert!(out.rejected.is_empty());
    assert_eq!(
        (out.headers, out.skipped, out.header.as_deref()),
        (0, 0, None)
    );
    let records = objects(&out);
    assert_eq!(records[0], ssh_accept());
    assert_eq!(
        records[1],
        json!({
            "version": 2,
            "account_id": "123456789010",
            "interface_id": "eni-1235b8ca123456789",
            "srcaddr": "172.31.9.69",
            "dstaddr": "172.31.9.12",
            "srcport": 49761,
            "dstport": 3389,
            "protocol": 6,
            "packets": 20,
            "bytes": 4249,
            "start": 1418530010,
            "end": 1418530070,
            "action": "REJECT",
            "log_status": "OK"
        })
    );
}

#[test]
fn nodata_and_skipdata_omit_dash_fields() {
    let data = "2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA\n\
                2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA\n";
    let out = run(&[], data);
    assert_eq!(out.records, 2);
    assert!(out.rejected.is_empty());
    let records = objects(&out);
    assert_eq!(
        records[0],
        json!({
            "version": 2,
            "account_id": "123456789010",
            "interface_id": "eni-1235b8ca123456789",
            "start": 1431280876,
            "end": 1431280934,
            "log_status": "NODATA"
        })
    );
    assert_eq!(
        records[1],
        json!({
            "version": 2,
            "account_id": "123456789010",
            "interface_id": "eni-11111111aaaaaaaaa",
            "start": 1431280876,
            "end": 1431280934,
            "log_status": "SKIPDATA"
        })
    );
    assert_eq!(
        key_order(&out)[0],
        [
            "version",
            "account_id",
            "interface_id",
            "start",
            "end",
            "log_status"
        ]
    );
}

#[test]
fn icmp_ping_accepted_then_reply_rejected() {
    let data = "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK\n\
                2 123456789010 eni-1235b8ca123456789 172.31.16.139 203.0.113.12 0 0 1 4 336 1432917094 1432917142 REJECT OK\n";
    let out = run(&[], data);
    let records = objects(&out);
    assert_eq!(records.len(), 2);
    for (record, (src, dst, start, action)) in records.iter().zip([
        ("203.0.113.12", "172.31.16.139", 1432917027, "ACCEPT"),
        ("172.31.16.139", "203.0.113.12", 1432917094, "REJECT"),
    ]) {
        assert_eq!(record["srcaddr"], src);
        assert_eq!(record["dstaddr"], dst);
        assert_eq!(record["srcport"], 0);
        assert_eq!(record["dstport"], 0);
        assert_eq!(record["protocol"], 1);
        assert_eq!(record["packets"], 4);
        assert_eq!(record["bytes"], 336);
        assert_eq!(record["start"], start);
        assert_eq!(record["end"], 1432917142);
        assert_eq!(record["action"], action);
    }
}

#[test]
fn ipv6_traffic() {
    let data = "2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK\n";
    let out = run(&[], data);
    assert_eq!(
        objects(&out),
        [json!({
            "version": 2,
            "account_id": "123456789010",
            "interface_id": "eni-1235b8ca123456789",
            "srcaddr": "2001:db8:1234:a100:8d6e:3477:df66:f105",
            "dstaddr": "2001:db8:1234:a102:3304:8879:34cf:4071",
            "srcport": 34892,
            "dstport": 22,
            "protocol": 6,
            "packets": 54,
            "bytes": 8855,
            "start": 1477913708,
            "end": 1477913820,
            "action": "ACCEPT",
            "log_status": "OK"
        })]
    );
}

#[test]
fn tcp_flags_version_3() {
    let prefix = "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789012 IPv4";
    // (src, dst, srcport, dstport, bytes, packets, tcp-flags)
    let flows = [
        ("52.213.180.42", "10.0.0.62", 43416, 5001, 568, 8, 2), // SYN
        ("10.0.0.62", "52.213.180.42", 5001, 43416, 376, 7, 18), // SYN-ACK
        ("52.213.180.42", "10.0.0.62", 43416, 5001, 100701, 70, 0), // none
        ("10.0.0.62", "52.213.180.42", 5001, 43416, 632, 12, 1), // FIN
        ("52.213.180.42", "10.0.0.62", 43417, 5001, 568, 9, 3), // SYN + FIN
        ("10.0.0.62", "52.213.180.42", 5001, 43417, 376, 8, 19), // SYN-ACK + FIN
    ];
    let mut data = String::new();
    for (src, dst, sport, dport, bytes, packets, flags) in flows {
        data += &format!(
            "{prefix} {src} {dst} {sport} {dport} {src} {dst} 6 {bytes} {packets} 1566848875 1566848933 ACCEPT {flags} OK\n"
        );
    }
    let out = run(&[V3_FORMAT], &data);
    assert_eq!(out.records, 6);
    assert!(out.rejected.is_empty());
    let records = objects(&out);
    for (record, (src, dst, sport, dport, bytes, packets, flags)) in records.iter().zip(flows) {
        assert_eq!(
            *record,
            json!({
                "version": 3,
                "vpc_id": "vpc-abcdefab012345678",
                "subnet_id": "subnet-aaaaaaaa012345678",
                "instance_id": "i-01234567890123456",
                "interface_id": "eni-1235b8ca123456789",
                "account_id": "123456789012",
                "type": "IPv4",
                "srcaddr": src,
                "dstaddr": dst,
                "srcport": sport,
                "dstport": dport,
                "pkt_srcaddr": src,
                "pkt_dstaddr": dst,
                "protocol": 6,
                "bytes": bytes,
                "packets": packets,
                "start": 1566848875,
                "end": 1566848933,
                "action": "ACCEPT",
                "tcp_flags": flags,
                "log_status": "OK"
            })
        );
    }
    for keys in key_order(&out) {
        assert_eq!(keys, underscored(V3_FORMAT));
    }
}

#[test]
fn nat_gateway_custom_format() {
    let data = "- eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5\n\
                - eni-1235b8ca123456789 10.0.0.220 203.0.113.5 10.0.0.220 203.0.113.5\n\
                - eni-1235b8ca123456789 203.0.113.5 10.0.0.220 203.0.113.5 10.0.1.5\n\
                - eni-1235b8ca123456789 10.0.0.220 10.0.1.5 203.0.113.5 10.0.1.5\n\
                i-01234567890123456 eni-1111aaaa2222bbbb3 10.0.1.5 203.0.113.5 10.0.1.5 203.0.113.5\n\
                i-01234567890123456 eni-1111aaaa2222bbbb3 203.0.113.5 10.0.1.5 203.0.113.5 10.0.1.5\n";
    let out = run(&[NAT_FORMAT], data);
    assert_eq!(out.records, 6);
    assert_eq!(
        out.headers, 0,
        "a record starting with `i-` is not a header"
    );
    let records = objects(&out);
    // The NAT gateway's ENI has no instance: the key is absent.
    assert_eq!(
        records[0],
        json!({
            "interface_id": "eni-1235b8ca123456789",
            "srcaddr": "10.0.1.5",
            "dstaddr": "10.0.0.220",
            "pkt_srcaddr": "10.0.1.5",
            "pkt_dstaddr": "203.0.113.5"
        })
    );
    assert_eq!(
        records[3],
        json!({
            "interface_id": "eni-1235b8ca123456789",
            "srcaddr": "10.0.0.220",
            "dstaddr": "10.0.1.5",
            "pkt_srcaddr": "203.0.113.5",
            "pkt_dstaddr": "10.0.1.5"
        })
    );
    assert_eq!(
        records[4],
        json!({
            "instance_id": "i-01234567890123456",
            "interface_id": "eni-1111aaaa2222bbbb3",
            "srcaddr": "10.0.1.5",
            "dstaddr": "203.0.113.5",
            "pkt_srcaddr": "10.0.1.5",
            "pkt_dstaddr": "203.0.113.5"
        })
    );
    assert_eq!(key_order(&out)[4], underscored(NAT_FORMAT));
    assert!(records[..4].iter().all(|r| r.get("instance_id").is_none()));
}

#[test]
fn transit_gateway_format() {
    assert_eq!(TGW_FORMAT.split(' ').count(), 36);
    let line = "6 TransitGateway 123456789012 tgw-0123456789abcdef0 tgw-attach-0123456789abcdef0 \
                123456789012 210987654321 vpc-0aaaaaaaaaaaaaaa1 vpc-0bbbbbbbbbbbbbbb2 \
                subnet-0aaaaaaaaaaaaaaa1 subnet-0bbbbbbbbbbbbbbb2 eni-0aaaaaaaaaaaaaaa1 eni-0bbbbbbbbbbbbbbb2 \
                use1-az1 use1-az2 tgw-attach-0fedcba9876543210 10.0.1.10 10.1.2.20 49152 443 6 25 3120 \
                1700000000 1700000060 OK IPv4 0 0 2 0 19 us-east-1 ingress - -";
    let blackhole = "6 TransitGateway 123456789012 tgw-0123456789abcdef0 tgw-attach-0123456789abcdef0 \
                     123456789012 - vpc-0aaaaaaaaaaaaaaa1 - subnet-0aaaaaaaaaaaaaaa1 - eni-0aaaaaaaaaaaaaaa1 - \
                     use1-az1 - - 10.0.1.10 192.0.2.1 123 123 17 7 532 \
                     1700000000 1700000060 OK IPv4 0 7 0 0 0 us-east-1 egress - -";
    let out = run(&[TGW_FORMAT], &format!("{line}\n{blackhole}\n"));
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    let records = objects(&out);
    assert_eq!(
        records[0],
        json!({
            "version": 6,
            "resource_type": "TransitGateway",
            "account_id": "123456789012",
            "tgw_id": "tgw-0123456789abcdef0",
            "tgw_attachment_id": "tgw-attach-0123456789abcdef0",
            "tgw_src_vpc_account_id": "123456789012",
            "tgw_dst_vpc_account_id": "210987654321",
            "tgw_src_vpc_id": "vpc-0aaaaaaaaaaaaaaa1",
            "tgw_dst_vpc_id": "vpc-0bbbbbbbbbbbbbbb2",
            "tgw_src_subnet_id": "subnet-0aaaaaaaaaaaaaaa1",
            "tgw_dst_subnet_id": "subnet-0bbbbbbbbbbbbbbb2",
            "tgw_src_eni": "eni-0aaaaaaaaaaaaaaa1",
            "tgw_dst_eni": "eni-0bbbbbbbbbbbbbbb2",
            "tgw_src_az_id": "use1-az1",
            "tgw_dst_az_id": "use1-az2",
            "tgw_pair_attachment_id": "tgw-attach-0fedcba9876543210",
            "srcaddr": "10.0.1.10",
            "dstaddr": "10.1.2.20",
            "srcport": 49152,
            "dstport": 443,
            "protocol": 6,
            "packets": 25,
            "bytes": 3120,
            "start": 1700000000,
            "end": 1700000060,
            "log_status": "OK",
            "type": "IPv4",
            "packets_lost_no_route": 0,
            "packets_lost_blackhole": 0,
            "packets_lost_mtu_exceeded": 2,
            "packets_lost_ttl_expired": 0,
            "tcp_flags": 19,
            "region": "us-east-1",
            "flow_direction": "ingress"
        })
    );
    assert_eq!(records[1]["packets_lost_blackhole"], 7);
    assert_eq!(records[1]["protocol"], 17);
    assert_eq!(records[1]["flow_direction"], "egress");
    assert!(records[1].get("tgw_dst_vpc_id").is_none());
    assert_eq!(records[1].as_object().map(|o| o.len()), Some(36 - 8));
    let expected_keys: Vec<String> = underscored(TGW_FORMAT)
        .into_iter()
        .filter(|k| k != "pkt_src_aws_service" && k != "pkt_dst_aws_service")
        .collect();
    assert_eq!(key_order(&out)[0], expected_keys);
}

#[test]
fn version_5_service_and_traffic_path() {
    assert_eq!(V5_FORMAT.split(' ').count(), 29);
    let line = "5 10.0.0.112 52.219.168.96 50310 443 6 1620071522 1620071582 IPv4 5 1189 123456789012 \
                vpc-0aaaaaaaaaaaaaaa1 subnet-0aaaaaaaaaaaaaaa1 i-0aaaaaaaaaaaaaaa1 eni-0aaaaaaaaaaaaaaa1 \
                us-east-1 use1-az4 - - ACCEPT 3 10.0.0.112 52.219.168.96 - S3 8 egress OK";
    let out = run(&[V5_FORMAT], line);
    let records = objects(&out);
    assert_eq!(records.len(), 1, "{:?}", out.rejected);
    let record = &records[0];
    assert_eq!(record["version"], 5);
    assert_eq!(record["pkt_dst_aws_service"], "S3");
    assert!(record.get("pkt_src_aws_service").is_none());
    assert!(record.get("sublocation_type").is_none());
    assert_eq!(record["traffic_path"], 8);
    assert_eq!(record["flow_direction"], "egress");
    assert_eq!(record["az_id"], "use1-az4");
    assert_eq!(record["tcp_flags"], 3);
    assert_eq!(record["bytes"], 1189);
    assert_eq!(record["packets"], 5);
    assert_eq!(record.as_object().map(|o| o.len()), Some(29 - 3));
}

// ---------------------------------------------------------------------------
// Field types.

#[test]
fn u64_max_counters() {
    let max = "18446744073709551615";
    let mut tokens = ssh_tokens();
    tokens[8] = max; // packets
    tokens[9] = max; // bytes
    tokens[10] = max; // start
    tokens[11] = max; // end
    let out = run(&[], &tokens.join(" "));
    let records = objects(&out);
    assert_eq!(records.len(), 1, "{:?}", out.rejected);
    for key in ["packets", "bytes", "start", "end"] {
        assert_eq!(records[0][key].as_u64(), Some(u64::MAX), "{key}");
    }
    assert!(
        std::str::from_utf8(&out.ndjson)
            .unwrap()
            .contains(r#""packets":18446744073709551615,"bytes":18446744073709551615,"#)
    );

    let over = "18446744073709551616";
    let line = ssh_with(9, over);
    let out = run(&[], &line);
    assert_eq!(out.records, 0);
    assert!(out.ndjson.is_empty());
    assert_rejected(
        &out.rejected[0],
        1,
        RejectReason::InvalidInteger,
        Some("bytes"),
        Some(over),
        line.as_bytes(),
    );
    let line = ssh_with(8, "99999999999999999999999");
    let out = run(&[], &line);
    assert_eq!(out.rejected[0].field.as_deref(), Some("packets"));
    assert_eq!(out.rejected[0].reason, RejectReason::InvalidInteger);
}

#[test]
fn leading_zeros_are_canonicalised() {
    let mut tokens = ssh_tokens();
    tokens[0] = "02"; // version
    tokens[5] = "00080"; // srcport
    tokens[6] = "0"; // dstport
    tokens[7] = "006"; // protocol
    tokens[8] = "000"; // packets
    tokens[9] = "0004249"; // bytes
    tokens[11] = "00000000000000000000"; // end: 20 digits, still 0
    let out = run(&[], &tokens.join(" "));
    let text = std::str::from_utf8(&out.ndjson).unwrap();
    assert!(text.starts_with(r#"{"version":2,"#), "{text}");
    assert!(
        text.contains(r#""srcport":80,"dstport":0,"protocol":6,"packets":0,"bytes":4249,"#),
        "{text}"
    );
    assert!(text.contains(r#","end":0,"#), "{text}");
    let record = &objects(&out)[0];
    assert_eq!(record["srcport"], 80);
    assert_eq!(record["end"], 0);
}

#[test]
fn integer_ranges() {
    // (field index, field name, largest accepted, smallest refused)
    let cases = [
        (0, "version", "4294967295", "4294967296"),
        (5, "srcport", "65535", "65536"),
        (6, "dstport", "65535", "99999"),
        (7, "protocol", "255", "256"),
    ];
    for (index, name, ok, bad) in cases {
        let out = run(&[], &ssh_with(index, ok));
        let records = objects(&out);
        assert_eq!(records.len(), 1, "{name}={ok}: {:?}", out.rejected);
        assert_eq!(
            records[0][name.replace('-', "_")],
            ok.parse::<u64>().unwrap()
        );

        let line = ssh_with(index, bad);
        let out = run(&[], &line);
        assert_eq!(out.records, 0, "{name}={bad}");
        assert!(out.ndjson.is_empty());
        assert_rejected(
            &out.rejected[0],
            1,
            RejectReason::InvalidInteger,
            Some(name),
            Some(bad),
            line.as_bytes(),
        );
        assert!(out.rejected[0].message.contains(bad));
    }
    // tcp-flags is a byte too.
    let line = "3 vpc-1 subnet-1 i-1 eni-1 123456789012 IPv4 10.0.0.1 10.0.0.2 1 2 10.0.0.1 10.0.0.2 6 100 1 1 2 ACCEPT 256 OK";
    let out = run(&[V3_FORMAT], line);
    assert_rejected(
        &out.rejected[0],
        1,
        RejectReason::InvalidInteger,
        Some("tcp-flags"),
        Some("256"),
        line.as_bytes(),
    );
}

#[test]
fn non_numbers_in_integer_fields() {
    for bad in [
        "-5", "+5", "5.0", "1e3", "0x1f", "22a", "٣", "２２", "ACCEPT", "--",
    ] {
        let line = ssh_with(6, bad);
        let out = run(&[], &line);
        assert_eq!(out.records, 0, "{bad}");
        assert_rejected(
            &out.rejected[0],
            1,
            RejectReason::InvalidInteger,
            Some("dstport"),
            Some(bad),
            line.as_bytes(),
        );
    }
}

#[test]
fn addresses_are_validated() {
    for good in [
        "0.0.0.0",
        "255.255.255.255",
        "10.0.0.1",
        "::",
        "::1",
        "fe80::1",
        "2001:DB8::1",
        "::ffff:192.0.2.1",
        "2001:db8:1234:a100:8d6e:3477:df66:f105",
    ] {
        let out = run(&[], &ssh_with(3, good));
        let records = objects(&out);
        assert_eq!(records.len(), 1, "{good}: {:?}", out.rejected);
        assert_eq!(records[0]["srcaddr"], good, "written as given");
    }
    for bad in [
        "256.1.1.1",
        "10.0.0",
        "10.0.0.1.2",
        "010.0.0.1",
        "10.0.0.1/32",
        "host.example",
        "2001:db8:::1",
        "fe80::1%eth0",
        "eni-1235b8ca",
        "1.2.3.4:80",
        "[::1]",
    ] {
        let line = ssh_with(4, bad);
        let out = run(&[], &line);
        assert_eq!(out.records, 0, "{bad}");
        assert_rejected(
            &out.rejected[0],
            1,
            RejectReason::InvalidAddress,
            Some("dstaddr"),
            Some(bad),
            line.as_bytes(),
        );
    }
    // pkt-srcaddr and pkt-dstaddr are addresses too.
    let out = run(
        &[NAT_FORMAT],
        "- eni-1 10.0.1.5 10.0.0.220 10.0.1.5 not-an-address",
    );
    assert_eq!(out.rejected[0].reason, RejectReason::InvalidAddress);
    assert_eq!(out.rejected[0].field.as_deref(), Some("pkt-dstaddr"));
    assert_eq!(out.rejected[0].value.as_deref(), Some("not-an-address"));
}

#[test]
fn text_fields_are_json_escaped() {
    let format = "account-id interface-id vpc-id subnet-id instance-id region";
    let line = "a\"b back\\slash ctl\u{1}\u{1f}x é日本🚀 form\u{c}feed <>&'/";
    let out = run(&[format], line);
    let records = objects(&out);
    assert_eq!(records.len(), 1, "{:?}", out.rejected);
    assert_eq!(
        records[0],
        json!({
            "account_id": "a\"b",
            "interface_id": "back\\slash",
            "vpc_id": "ctl\u{1}\u{1f}x",
            "subnet_id": "é日本🚀",
            "instance_id": "form\u{c}feed",
            "region": "<>&'/"
        })
    );
    let text = std::str::from_utf8(&out.ndjson).unwrap();
    assert!(
        !text.trim_end_matches('\n').bytes().any(|b| b < 0x20),
        "raw control bytes in {text:?}"
    );
    // Numbers in text fields stay strings.
    let out = run(&["account-id version"], "000123 7");
    assert_eq!(
        objects(&out)[0],
        json!({"account_id": "000123", "version": 7})
    );
}

#[test]
fn versions_7_to_11_fields() {
    let format = "version interface-id srcaddr dstaddr action reject-reason resource-id \
                  encryption-status instance-tag interface-type ecs-cluster-arn ecs-task-id \
                  next-hop-interface-id";
    let data = "11 - 10.0.0.5 198.51.100.20 REJECT BPA nat-0123456789abcdef0 3 web%20server \
                regional_nat_gateway arn:aws:ecs:us-east-1:123456789012:cluster/my-cluster \
                0123456789abcdef0123456789abcdef eni-0ccccccccccccccc3\n\
                11 eni-1 10.0.0.5 198.51.100.20 ACCEPT - - 256 - - - - -\n";
    let out = run(&[format], data);
    assert_eq!(
        objects(&out),
        [json!({
            "version": 11,
            "srcaddr": "10.0.0.5",
            "dstaddr": "198.51.100.20",
            "action": "REJECT",
            "reject_reason": "BPA",
            "resource_id": "nat-0123456789abcdef0",
            "encryption_status": 3,
            "instance_tag": "web%20server",
            "interface_type": "regional_nat_gateway",
            "ecs_cluster_arn": "arn:aws:ecs:us-east-1:123456789012:cluster/my-cluster",
            "ecs_task_id": "0123456789abcdef0123456789abcdef",
            "next_hop_interface_id": "eni-0ccccccccccccccc3"
        })]
    );
    assert_rejected(
        &out.rejected[0],
        2,
        RejectReason::InvalidInteger,
        Some("encryption-status"),
        Some("256"),
        b"11 eni-1 10.0.0.5 198.51.100.20 ACCEPT - - 256 - - - - -",
    );
}

#[test]
fn long_unknown_field_names() {
    // Keys longer than any AWS field name, first and in the middle.
    let long = "a-field-name-from-the-future-that-is-quite-long";
    let longer = "another_field_name_from_the_future_that_is_longer_still";
    let out = run(
        &[&format!("{long} version {longer} srcaddr")],
        "x 2 yy 10.0.0.1\n- 2 - 10.0.0.1\n",
    );
    let long_key = long.replace('-', "_");
    assert_eq!(
        key_order(&out)[0],
        [long_key.as_str(), "version", longer, "srcaddr"]
    );
    let records = objects(&out);
    assert_eq!(records[0][&long_key], "x");
    assert_eq!(records[0][longer], "yy");
    assert_eq!(records[1], json!({"version": 2, "srcaddr": "10.0.0.1"}));
}

#[test]
fn output_much_larger_than_input() {
    // Each 8-byte line becomes a 60-byte object: far beyond the buffer
    // the processor sizes from the input, so the output must grow.
    let line = "\u{1}\u{1}\u{1} \u{1}\n";
    let data = line.repeat(5000);
    let out = run(&["account-id interface-id"], &data);
    assert_eq!(out.records, 5000);
    assert!(out.ndjson.len() >= 5000 * 60, "{}", out.ndjson.len());
    let expected = json!({"account_id": "\u{1}\u{1}\u{1}", "interface_id": "\u{1}"});
    assert!(objects(&out).iter().all(|record| *record == expected));
    // Many plain records in one batch.
    let data = format!("{SSH_ACCEPT}\n").repeat(5_000);
    let out = run(&[], &data);
    assert_eq!(out.records, 5_000);
    assert!(objects(&out).iter().all(|record| *record == ssh_accept()));
}

#[test]
fn all_dashes_give_an_empty_object() {
    let out = run(&[], &["-"; 14].join(" "));
    assert_eq!(out.records, 1);
    assert_eq!(out.ndjson, b"{}\n");
}

// ---------------------------------------------------------------------------
// Formats.

#[test]
fn key_order_follows_the_format() {
    let format = "log-status action dstport srcaddr version pkt-dst-aws-service";
    let out = run(&[format], "OK REJECT 443 10.0.0.9 5 S3");
    assert_eq!(
        key_order(&out),
        [[
            "log_status",
            "action",
            "dstport",
            "srcaddr",
            "version",
            "pkt_dst_aws_service"
        ]]
    );
    assert_eq!(
        objects(&out)[0],
        json!({"log_status": "OK", "action": "REJECT", "dstport": 443, "srcaddr": "10.0.0.9", "version": 5, "pkt_dst_aws_service": "S3"})
    );
    let out = run(&[], SSH_ACCEPT);
    assert_eq!(key_order(&out), [underscored(DEFAULT_FORMAT)]);
}

#[test]
fn three_spellings_give_the_same_output() {
    let dollar: Vec<String> = DEFAULT_FORMAT
        .split(' ')
        .map(|f| format!("${{{f}}}"))
        .collect();
    let spellings = [
        dollar.join(" "),
        DEFAULT_FORMAT.to_owned(),
        DEFAULT_FORMAT.replace('-', "_"),
        dollar.concat(),
    ];
    assert!(spellings[0].starts_with("${version} ${account-id} "));
    assert!(spellings[2].contains(" account_id ") && spellings[2].ends_with("log_status"));
    let data = format!("{SSH_ACCEPT}\n{}\n", ssh_with(5, "70000"));
    let mut outputs = Vec::new();
    for spelling in &spellings {
        let out = run(&[spelling.as_str()], &data);
        assert_eq!(objects(&out), [ssh_accept()], "{spelling}");
        assert_eq!(
            out.rejected[0].field.as_deref(),
            Some("srcport"),
            "{spelling}"
        );
        outputs.push(out);
    }
    for out in &outputs[1..] {
        assert_eq!(*out, outputs[0]);
    }
    // And the same as the default configuration.
    assert_eq!(run(&[], &data), outputs[0]);
}

#[test]
fn several_formats_selected_by_field_count() {
    let formats = [DEFAULT_FORMAT, NAT_FORMAT, "srcaddr dstaddr", TGW_FORMAT];
    let data = format!(
        "{SSH_ACCEPT}\n\
         - eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5\n\
         192.0.2.1 2001:db8::2\n\
         a b c\n"
    );
    let out = run(&formats, &data);
    let records = objects(&out);
    assert_eq!(records.len(), 3);
    assert_eq!(records[0], ssh_accept());
    assert_eq!(records[1]["pkt_dstaddr"], "203.0.113.5");
    assert_eq!(records[1].as_object().map(|o| o.len()), Some(5));
    assert_eq!(
        records[2],
        json!({"srcaddr": "192.0.2.1", "dstaddr": "2001:db8::2"})
    );
    assert_rejected(
        &out.rejected[0],
        4,
        RejectReason::FieldCount,
        None,
        None,
        b"a b c",
    );
    let message = &out.rejected[0].message;
    for count in ["3", "14", "6", "2", "36"] {
        assert!(message.contains(count), "{message}");
    }
}

#[test]
fn ambiguous_formats_are_refused() {
    let error = Processor::new(&config(&[
        "version srcaddr",
        DEFAULT_FORMAT,
        "srcaddr dstaddr",
    ]))
    .unwrap_err();
    assert_eq!(
        error,
        ConfigError::AmbiguousFormats {
            first: 0,
            second: 2,
            field_count: 2
        }
    );
    // The same format in two spellings is still two formats of 14 fields.
    let underscored = DEFAULT_FORMAT.replace('-', "_");
    let error = Processor::new(&config(&[DEFAULT_FORMAT, underscored.as_str()])).unwrap_err();
    assert_eq!(
        error,
        ConfigError::AmbiguousFormats {
            first: 0,
            second: 1,
            field_count: 14
        }
    );
}

#[test]
fn invalid_formats_are_refused() {
    let cases: [(&[&str], usize, &str, FormatError); 7] = [
        (&[""], 0, "", FormatError::Empty),
        (&[DEFAULT_FORMAT, " \t "], 1, " \t ", FormatError::Empty),
        (
            &["version srcaddr", "version Srcaddr"],
            1,
            "version Srcaddr",
            FormatError::InvalidToken {
                token: "Srcaddr".into(),
            },
        ),
        (
            &["${version} ${srcaddr"],
            0,
            "${version} ${srcaddr",
            FormatError::InvalidToken {
                token: "${srcaddr".into(),
            },
        ),
        (
            &["version 1field"],
            0,
            "version 1field",
            FormatError::InvalidToken {
                token: "1field".into(),
            },
        ),
        (
            &["version src.addr"],
            0,
            "version src.addr",
            FormatError::InvalidToken {
                token: "src.addr".into(),
            },
        ),
        (
            &["version bytes account_id account-id"],
            0,
            "version bytes account_id account-id",
            FormatError::DuplicateField {
                name: "account-id".into(),
            },
        ),
    ];
    for (formats, index, text, error) in cases {
        assert_eq!(
            Processor::new(&config(formats)).unwrap_err(),
            ConfigError::InvalidFormat {
                index,
                text: text.to_owned(),
                error
            },
            "{formats:?}"
        );
    }
}

#[test]
fn unknown_fields_pass_through_as_strings() {
    // In a configured format.
    let out = run(
        &["version brand-new-field srcaddr future_count"],
        "2 some-value 10.0.0.1 42",
    );
    assert_eq!(
        objects(&out),
        [
            json!({"version": 2, "brand_new_field": "some-value", "srcaddr": "10.0.0.1", "future_count": "42"})
        ]
    );
    assert_eq!(
        key_order(&out)[0],
        ["version", "brand_new_field", "srcaddr", "future_count"]
    );
    // In a header line.
    let out = run(
        &[],
        "version brand-new-field srcaddr\n2 X:Y/\"z\" 10.0.0.1\n",
    );
    assert_eq!(out.headers, 1);
    assert_eq!(
        out.header.as_deref(),
        Some("version brand-new-field srcaddr")
    );
    assert_eq!(
        objects(&out),
        [json!({"version": 2, "brand_new_field": "X:Y/\"z\"", "srcaddr": "10.0.0.1"})]
    );
}

// ---------------------------------------------------------------------------
// Header lines.

#[test]
fn header_lines_switch_the_format() {
    let nat_record = "- eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5";
    let v3_record = "3 vpc-1 subnet-1 i-1 eni-1 123456789012 IPv4 10.0.0.1 10.0.0.2 1 2 10.0.0.1 10.0.0.2 6 100 1 1 2 ACCEPT 2 OK";
    let data = format!(
        "{DEFAULT_FORMAT}\n\
         {SSH_ACCEPT}\n\
         {NAT_FORMAT}\n\
         {nat_record}\n\
         {SSH_ACCEPT}\n\
         {v3_record}\n"
    );
    let mut p = processor(&[]);
    let out = run_with(&mut p, data.as_bytes(), 1, None);
    assert_eq!(out.headers, 2);
    assert_eq!(out.records, 3);
    assert_eq!(out.skipped, 0);
    assert_eq!(out.header.as_deref(), Some(NAT_FORMAT));
    let records = objects(&out);
    assert_eq!(records[0], ssh_accept());
    assert_eq!(
        records[1],
        json!({
            "interface_id": "eni-1235b8ca123456789",
            "srcaddr": "10.0.1.5",
            "dstaddr": "10.0.0.220",
            "pkt_srcaddr": "10.0.1.5",
            "pkt_dstaddr": "203.0.113.5"
        })
    );
    // 14 fields do not fit the header; the configured default format does.
    assert_eq!(records[2], ssh_accept());
    // 21 fields fit neither.
    assert_rejected(
        &out.rejected[0],
        6,
        RejectReason::FieldCount,
        None,
        None,
        v3_record.as_bytes(),
    );

    // The next batch continues under the header handed back.
    let next =
        "i-0aaaaaaaaaaaaaaa1 eni-1111aaaa2222bbbb3 10.0.1.5 203.0.113.5 10.0.1.5 203.0.113.5\n";
    let out2 = run_with(&mut p, next.as_bytes(), 7, out.header.as_deref());
    assert_eq!(out2.records, 1);
    assert_eq!(out2.headers, 0);
    assert_eq!(out2.header.as_deref(), Some(NAT_FORMAT));
    assert_eq!(objects(&out2)[0]["instance_id"], "i-0aaaaaaaaaaaaaaa1");
    assert_eq!(objects(&out2)[0]["pkt_dstaddr"], "203.0.113.5");
    // A fresh processor given the header behaves the same.
    let out3 = run_with(&mut processor(&[]), next.as_bytes(), 7, Some(NAT_FORMAT));
    assert_eq!(out3, out2);
    // Without the header the record has no format.
    let out4 = run_with(&mut p, next.as_bytes(), 7, None);
    assert_eq!(out4.records, 0);
    assert_eq!(out4.header, None);
    assert_rejected(
        &out4.rejected[0],
        7,
        RejectReason::FieldCount,
        None,
        None,
        next.trim_end().as_bytes(),
    );
}

#[test]
fn header_spellings_are_canonicalised() {
    let data = "${version} account_id ${srcaddr}\n2 123456789010 10.0.0.1\n";
    let out = run(&[], data);
    assert_eq!(out.headers, 1);
    assert_eq!(out.header.as_deref(), Some("version account-id srcaddr"));
    assert_eq!(
        objects(&out),
        [json!({"version": 2, "account_id": "123456789010", "srcaddr": "10.0.0.1"})]
    );
}

#[test]
fn concatenated_s3_files_repeat_the_header() {
    let data =
        format!("{DEFAULT_FORMAT}\n{SSH_ACCEPT}\n{DEFAULT_FORMAT}\n{SSH_ACCEPT}\n{SSH_ACCEPT}");
    let out = run(&[NAT_FORMAT], &data);
    assert_eq!((out.headers, out.records), (2, 3));
    assert_eq!(objects(&out), [ssh_accept(), ssh_accept(), ssh_accept()]);
    assert_eq!(out.header.as_deref(), Some(DEFAULT_FORMAT));
}

#[test]
fn header_state_passes_through_a_batch_without_headers() {
    let header = "srcaddr dstaddr";
    let out = run_with(&mut processor(&[]), b"10.0.0.1 10.0.0.2\n", 1, Some(header));
    assert_eq!(out.header.as_deref(), Some(header));
    assert_eq!(
        objects(&out),
        [json!({"srcaddr": "10.0.0.1", "dstaddr": "10.0.0.2"})]
    );
    // A handed-back header that does not parse is dropped.
    let out = run_with(
        &mut processor(&[]),
        format!("{SSH_ACCEPT}\n").as_bytes(),
        1,
        Some("Not A Header"),
    );
    assert_eq!(out.header, None);
    assert_eq!(objects(&out), [ssh_accept()]);
}

#[test]
fn invalid_header_is_rejected_and_the_old_one_stays() {
    let data = "srcaddr dstaddr\nversion srcaddr srcaddr\n10.0.0.1 10.0.0.2\n";
    let out = run_with(&mut processor(&[]), data.as_bytes(), 40, None);
    assert_eq!(out.headers, 1);
    assert_eq!(out.records, 1);
    assert_rejected(
        &out.rejected[0],
        41,
        RejectReason::InvalidHeader,
        Some("srcaddr"),
        None,
        b"version srcaddr srcaddr",
    );
    assert_eq!(out.header.as_deref(), Some("srcaddr dstaddr"));
    assert_eq!(
        objects(&out),
        [json!({"srcaddr": "10.0.0.1", "dstaddr": "10.0.0.2"})]
    );
}

// ---------------------------------------------------------------------------
// Lines and whitespace.

#[test]
fn whitespace_is_tolerated() {
    let spaced = SSH_ACCEPT.replace(' ', "   ");
    let tabbed = SSH_ACCEPT.replace(' ', "\t");
    let mixed = SSH_ACCEPT.replace(' ', " \t ");
    let data = format!(
        "{spaced}\n\
         \n\
         {tabbed}\r\n\
         \x20  \t \n\
         \r\n\
         \x20   {SSH_ACCEPT}\n\
         \t{mixed}  \t\r\n\
         {SSH_ACCEPT}   \n"
    );
    let out = run(&[], &data);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(out.records, 5);
    assert_eq!(out.skipped, 3);
    assert_eq!(objects(&out), vec![ssh_accept(); 5]);
}

#[test]
fn last_line_without_newline() {
    let out = run(&[], &format!("{SSH_ACCEPT}\n{SSH_ACCEPT}"));
    assert_eq!(out.records, 2);
    let line = ssh_with(3, "bogus");
    let out = run_with(
        &mut processor(&[]),
        format!("{SSH_ACCEPT}\r\n{line}").as_bytes(),
        9,
        None,
    );
    assert_eq!(out.records, 1);
    assert_rejected(
        &out.rejected[0],
        10,
        RejectReason::InvalidAddress,
        Some("srcaddr"),
        Some("bogus"),
        line.as_bytes(),
    );
    // `\r` alone is not a line end.
    let out = run(&[], &format!("{SSH_ACCEPT}\r{SSH_ACCEPT}"));
    assert_eq!(out.records, 0);
    assert_eq!(out.rejected[0].reason, RejectReason::FieldCount);
}

#[test]
fn empty_and_blank_batches() {
    let out = run(&[], "");
    assert_eq!(out, BatchOutput::default());
    let out = run(&[], "\n\n\r\n \t \n");
    assert_eq!((out.records, out.skipped), (0, 4));
    assert!(out.rejected.is_empty() && out.ndjson.is_empty());
}

// ---------------------------------------------------------------------------
// Every rejection reason, with line numbers offset by `first_line`.

#[test]
fn every_reject_reason_is_reported() {
    let short = "2 123456789010 eni-1";
    let bad_int = ssh_with(5, "70000");
    let bad_addr = ssh_with(4, "172.31.16.300");
    let mut bad_utf8 = ssh_with(1, "acct").into_bytes();
    bad_utf8[2..6].copy_from_slice(b"\xffbc\xfe");
    let header = "version srcaddr version";
    let json = r#"{"foo":"bar"}"#;
    let broken = "{not json";

    let mut data = Vec::new();
    for line in [
        short.as_bytes(),
        bad_int.as_bytes(),
        SSH_ACCEPT.as_bytes(),
        bad_addr.as_bytes(),
        &bad_utf8,
        header.as_bytes(),
        json.as_bytes(),
        broken.as_bytes(),
        SSH_ACCEPT.as_bytes(),
    ] {
        data.extend_from_slice(line);
        data.extend_from_slice(b"\r\n");
    }
    let out = run_with(&mut processor(&[]), &data, 100, None);
    assert_eq!(out.records, 2);
    assert_eq!(out.headers, 0);
    assert_eq!(objects(&out), [ssh_accept(), ssh_accept()]);
    let r = &out.rejected;
    assert_eq!(r.len(), 7);
    assert_rejected(
        &r[0],
        100,
        RejectReason::FieldCount,
        None,
        None,
        short.as_bytes(),
    );
    assert!(r[0].message.contains("3 fields"), "{}", r[0].message);
    assert_rejected(
        &r[1],
        101,
        RejectReason::InvalidInteger,
        Some("srcport"),
        Some("70000"),
        bad_int.as_bytes(),
    );
    assert_rejected(
        &r[2],
        103,
        RejectReason::InvalidAddress,
        Some("dstaddr"),
        Some("172.31.16.300"),
        bad_addr.as_bytes(),
    );
    assert_rejected(&r[3], 104, RejectReason::InvalidUtf8, None, None, &bad_utf8);
    assert_rejected(
        &r[4],
        105,
        RejectReason::InvalidHeader,
        Some("version"),
        None,
        header.as_bytes(),
    );
    assert_rejected(
        &r[5],
        106,
        RejectReason::InvalidJson,
        None,
        None,
        json.as_bytes(),
    );
    assert_rejected(
        &r[6],
        107,
        RejectReason::InvalidJson,
        None,
        None,
        broken.as_bytes(),
    );
    assert!(r.iter().all(|r| r.event.is_none()));
    let names: Vec<&str> = r.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        names,
        [
            "field-count",
            "invalid-integer",
            "invalid-address",
            "invalid-utf8",
            "invalid-header",
            "invalid-json",
            "invalid-json"
        ]
    );
}

#[test]
fn line_too_long() {
    let long = vec![b'7'; MAX_LINE_BYTES + 1];
    let exact = vec![b'7'; MAX_LINE_BYTES];
    let mut data = long.clone();
    data.push(b'\n');
    data.extend_from_slice(&exact);
    data.extend_from_slice(b"\r\n");
    data.extend_from_slice(SSH_ACCEPT.as_bytes());
    let out = run_with(&mut processor(&[]), &data, 10, None);
    assert_eq!(out.records, 1);
    assert_eq!(objects(&out), [ssh_accept()]);
    assert_eq!(out.rejected.len(), 2);
    assert_rejected(
        &out.rejected[0],
        10,
        RejectReason::LineTooLong,
        None,
        None,
        &long[..TOO_LONG_RAW_BYTES],
    );
    // Only the start of an over-long line is kept for the report.
    assert_eq!(out.rejected[0].raw.len(), TOO_LONG_RAW_BYTES);
    // Exactly at the limit (the `\r` does not count) it is a one-field record.
    assert_rejected(
        &out.rejected[1],
        11,
        RejectReason::FieldCount,
        None,
        None,
        &exact,
    );
}

#[test]
fn failed_record_leaves_no_partial_output() {
    // The bad value comes late: the fields before it were already written.
    let bad = ssh_with(11, "1418530070x");
    let out = run(&[], &format!("{SSH_ACCEPT}\n{bad}\n{SSH_ACCEPT}\n"));
    assert_eq!(out.rejected[0].field.as_deref(), Some("end"));
    assert_eq!(out.rejected[0].value.as_deref(), Some("1418530070x"));
    assert_eq!(out.records, 2);
    assert_eq!(ndjson_lines(&out).len(), 2);
    assert_eq!(objects(&out), [ssh_accept(), ssh_accept()]);
    // Same with a bad value in the very last field.
    let out = run(
        &["version account-id srcaddr bytes"],
        "2 123456789010 10.0.0.1 12\n2 123456789010 10.0.0.1 1x\n",
    );
    assert_eq!(
        out.ndjson,
        br#"{"version":2,"account_id":"123456789010","srcaddr":"10.0.0.1","bytes":12}
"#
    );
    assert_eq!(out.rejected[0].field.as_deref(), Some("bytes"));
}

// ---------------------------------------------------------------------------
// JSON envelopes.

#[test]
fn message_envelope() {
    let data = format!(
        "{{\"message\":\"{SSH_ACCEPT}\"}}\n\
         \x20 {{\"@timestamp\":\"2024-01-01T00:00:00Z\",\"message\":\"{SSH_ACCEPT}\\n\",\"host\":{{\"name\":\"x\"}}}}\r\n\
         {{\"message\":\"{}\"}}\n\
         {{\"message\":\"  \"}}\n",
        ssh_with(6, "65536")
    );
    let out = run_with(&mut processor(&[]), data.as_bytes(), 20, None);
    assert_eq!(objects(&out), [ssh_accept(), ssh_accept()]);
    assert_eq!(out.skipped, 1, "a blank message");
    assert_rejected(
        &out.rejected[0],
        22,
        RejectReason::InvalidInteger,
        Some("dstport"),
        Some("65536"),
        ssh_with(6, "65536").as_bytes(),
    );
    assert_eq!(out.rejected[0].event, None);
}

#[test]
fn control_characters_inside_envelope_messages_are_escaped() {
    // JSON escapes decode to control characters that are part of a value:
    // the output must escape them again, or an NDJSON line would break.
    let data = r#"{"message":"2 acct\nnext eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK"}
{"logEvents":[{"message":"2 a\u0001b eni-1\u000bx 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK"}]}
{"message":"2 acct eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ACCEPT \"OK\"\\"}
"#;
    let out = run(&[], data);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    assert_eq!(ndjson_lines(&out).len(), 3);
    let records = objects(&out);
    assert_eq!(records[0]["account_id"], "acct\nnext");
    assert_eq!(records[0]["interface_id"], "eni-1");
    assert_eq!(records[1]["account_id"], "a\u{1}b");
    assert_eq!(records[1]["interface_id"], "eni-1\u{b}x");
    assert_eq!(records[2]["log_status"], "\"OK\"\\");
    assert_eq!(records[2]["packets"], 3);
}

#[test]
fn message_envelope_is_not_unwrapped_twice() {
    let out = run(&[], r#"{"message":"{\"message\":\"x\"}"}"#);
    assert_eq!(out.records, 0);
    assert_rejected(
        &out.rejected[0],
        1,
        RejectReason::FieldCount,
        None,
        None,
        br#"{"message":"x"}"#,
    );
}

#[test]
fn malformed_envelopes_are_invalid_json() {
    let lines = [
        r#"{"message": 42}"#,
        r#"{"message": null}"#,
        r#"{"logEvents":[{"id":"1","timestamp":1}]}"#,
        r#"{"logEvents":"nope"}"#,
        r#"{"message":"2 1 eni-1"#,
        "{}",
    ];
    let out = run_with(&mut processor(&[]), lines.join("\n").as_bytes(), 5, None);
    assert_eq!(out.records, 0);
    assert_eq!(out.rejected.len(), lines.len());
    for (index, (rejected, line)) in out.rejected.iter().zip(lines).enumerate() {
        assert_rejected(
            rejected,
            5 + index as u64,
            RejectReason::InvalidJson,
            None,
            None,
            line.as_bytes(),
        );
    }
}

fn cloudwatch(message_type: &str, messages: &[&str]) -> String {
    let events: Vec<Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| {
            json!({
                "id": format!("3195310660696698337880902507980421114328961542429EXAMPLE{i}"),
                "timestamp": 1432826855000u64 + i as u64,
                "message": m
            })
        })
        .collect();
    json!({
        "messageType": message_type,
        "owner": "123456789012",
        "logGroup": "vpc-flow-logs",
        "logStream": "eni-1235b8ca123456789-all",
        "subscriptionFilters": ["to-flowtag"],
        "logEvents": events
    })
    .to_string()
}

#[test]
fn cloudwatch_logs_data_message() {
    let bad = ssh_with(6, "99999");
    let icmp = "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK";
    let payload = cloudwatch("DATA_MESSAGE", &[SSH_ACCEPT, &bad, icmp, ""]);
    let data = format!("{SSH_ACCEPT}\n{payload}\n{SSH_ACCEPT}\n");
    let out = run_with(&mut processor(&[]), data.as_bytes(), 5, None);
    assert_eq!(out.records, 4);
    assert_eq!(out.skipped, 1, "the empty event");
    let records = objects(&out);
    assert_eq!(records[0], ssh_accept());
    assert_eq!(records[1], ssh_accept());
    assert_eq!(records[2]["protocol"], 1);
    assert_eq!(records[2]["srcaddr"], "203.0.113.12");
    assert_eq!(records[3], ssh_accept());
    assert_eq!(out.rejected.len(), 1);
    let rejected = &out.rejected[0];
    assert_rejected(
        rejected,
        6,
        RejectReason::InvalidInteger,
        Some("dstport"),
        Some("99999"),
        bad.as_bytes(),
    );
    assert_eq!(rejected.event, Some(1));
}

#[test]
fn cloudwatch_events_of_several_payloads() {
    let one = cloudwatch("DATA_MESSAGE", &["x y", SSH_ACCEPT]);
    let two = cloudwatch("DATA_MESSAGE", &[SSH_ACCEPT, SSH_ACCEPT, "1 2 3"]);
    let empty = cloudwatch("DATA_MESSAGE", &[]);
    let out = run(&[], &format!("{one}\n{empty}\n{two}"));
    assert_eq!(out.records, 3);
    let places: Vec<(u64, Option<u32>)> = out.rejected.iter().map(|r| (r.line, r.event)).collect();
    assert_eq!(places, [(1, Some(0)), (3, Some(2))]);
    assert_eq!(out.rejected[1].raw, b"1 2 3");
    assert_eq!(out.skipped, 0);
}

#[test]
fn cloudwatch_control_message() {
    let control = cloudwatch(
        "CONTROL_MESSAGE",
        &["CWL CONTROL MESSAGE: Checking health of destination Firehose."],
    );
    let out = run(&[], &format!("{control}\n"));
    assert_eq!(out.records, 0);
    assert!(out.rejected.is_empty());
    assert_eq!(out.skipped, 1);
    assert!(out.ndjson.is_empty());
    let out = run(&[], r#"{"messageType":"CONTROL_MESSAGE"}"#);
    assert_eq!((out.records, out.skipped, out.rejected.len()), (0, 1, 0));
}
