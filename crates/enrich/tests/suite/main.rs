//! The enricher joined to the parser natively: which objects appear, the
//! VPC that tells apart ENIs holding the same private address, direction
//! inference, and data errors. The full output contract is checked end to
//! end by the golden tests in `tests/golden/enriched.*`.

use enrich::{DataFile, DataKind, Enricher, Sources};
use serde_json::Value;

// The crate's own generator for its unit tests, so that both draw alike.
#[path = "../../src/test_rng.rs"]
mod test_rng;
use test_rng::xorshift;

/// Two VPCs that both use 10.0.0.5.
const ENIS: &str = r#"{"NetworkInterfaces":[
  {"NetworkInterfaceId":"eni-0aaaaaaaaaaaaaaa1","VpcId":"vpc-a","PrivateIpAddress":"10.0.0.5",
   "Attachment":{"InstanceId":"i-0aaaaaaaaaaaaaaa1"},"TagSet":[{"Key":"Name","Value":"in-a"}]},
  {"NetworkInterfaceId":"eni-0bbbbbbbbbbbbbbb2","VpcId":"vpc-b","PrivateIpAddress":"10.0.0.5",
   "Attachment":{"InstanceId":"i-0bbbbbbbbbbbbbbb2"},"TagSet":[{"Key":"Name","Value":"in-b"}]},
  {"NetworkInterfaceId":"eni-0bbbbbbbbbbbbbbb3","VpcId":"vpc-b","PrivateIpAddress":"10.0.0.9",
   "Attachment":{"InstanceId":"i-0bbbbbbbbbbbbbbb3"},"TagSet":[{"Key":"Name","Value":"b-peer"}]}
]}"#;

fn enricher(enis: &str, derive_flow: bool) -> Enricher {
    Enricher::load(Sources {
        eni_maps: vec![DataFile {
            name: "enis.json".to_owned(),
            data: enis.as_bytes().to_vec(),
            verified: false,
        }],
        derive_flow,
        ..Sources::default()
    })
    .expect("valid data")
}

/// Parses `lines` (with an optional format) and returns the records.
fn process(enricher: Enricher, formats: &[&str], lines: &str) -> Vec<Value> {
    let config = flowlog::Config {
        formats: formats.iter().map(|f| (*f).to_owned()).collect(),
    };
    let mut processor = flowlog::Processor::new(&config).expect("valid formats");
    processor.set_enricher(Box::new(enricher));
    let out = processor.process(lines.as_bytes(), 1, None);
    assert!(out.rejected.is_empty(), "{:?}", out.rejected);
    String::from_utf8(out.ndjson)
        .expect("UTF-8")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect()
}

fn name(record: &Value, end: &str) -> Option<String> {
    record[end]["resource"]["name"].as_str().map(str::to_owned)
}

#[test]
fn record_vpc_picks_the_holder_of_a_shared_private_address() {
    let records = process(
        enricher(ENIS, false),
        &["interface-id srcaddr dstaddr vpc-id"],
        "eni-0zzzzzzzzzzzzzzz9 10.0.0.5 10.0.0.9 vpc-a\n\
         eni-0zzzzzzzzzzzzzzz9 10.0.0.5 10.0.0.9 vpc-b\n\
         eni-0zzzzzzzzzzzzzzz9 10.0.0.5 10.0.0.9 -\n",
    );
    assert_eq!(name(&records[0], "src").as_deref(), Some("in-a"));
    assert_eq!(name(&records[1], "src").as_deref(), Some("in-b"));
    // No VPC and an unknown interface: ambiguous, so no answer.
    assert_eq!(name(&records[2], "src"), None);
    // 10.0.0.9 has one holder: found whatever the VPC says.
    for record in &records {
        assert_eq!(name(record, "dst").as_deref(), Some("b-peer"));
        assert!(record.get("interface").is_none());
    }
}

#[test]
fn interface_vpc_picks_the_holder_when_the_record_has_no_vpc() {
    let records = process(
        enricher(ENIS, true),
        &["interface-id srcaddr dstaddr srcport dstport protocol"],
        "eni-0bbbbbbbbbbbbbbb3 10.0.0.9 10.0.0.5 1000 22 6\n\
         eni-0bbbbbbbbbbbbbbb3 10.0.0.5 10.0.0.9 22 1000 6\n\
         eni-0aaaaaaaaaaaaaaa1 10.0.0.5 10.0.0.9 22 1000 6\n\
         eni-0bbbbbbbbbbbbbbb3 10.0.0.9 10.0.0.5 1000 22 6\n\
         eni-0bbbbbbbbbbbbbbb3 10.0.0.5 192.0.2.1 22 1000 6\n\
         eni-0aaaaaaaaaaaaaaa1 10.0.0.9 10.0.0.5 1000 22 6\n",
    );
    assert_eq!(name(&records[0], "dst").as_deref(), Some("in-b"));
    assert_eq!(records[0]["interface"]["name"], "b-peer");
    // Direction from the ENI map: the interface holds srcaddr, or dstaddr.
    assert_eq!(records[0]["flow"]["direction"], "egress");
    assert_eq!(records[1]["flow"]["direction"], "ingress");
    assert_eq!(name(&records[2], "src").as_deref(), Some("in-a"));
    assert_eq!(records[2]["flow"]["direction"], "egress");
    assert_eq!(records[2]["flow"]["protocol_name"], "tcp");
    // The same addresses again come from the endpoint cache, with the same
    // holder and so the same direction.
    assert_eq!(records[3], records[0]);
    // The interface holds neither end (10.0.0.5 is held in its VPC by
    // another ENI): no direction.
    assert_eq!(name(&records[4], "src").as_deref(), Some("in-b"));
    assert!(records[4]["flow"].get("direction").is_none());
    // srcaddr has one holder, but not this interface; the interface holds
    // dstaddr (shared with another VPC).
    assert_eq!(records[5]["flow"]["direction"], "ingress");
    assert_eq!(records.len(), 6);
}

#[test]
fn flow_only_enricher_and_inert_enricher() {
    let flow_only = Enricher::load(Sources {
        derive_flow: true,
        ..Sources::default()
    })
    .expect("nothing to load");
    assert!(!flow_only.is_inert());
    let records = process(
        flow_only,
        &[],
        "2 123456789010 eni-0a1b2c3d4e5f60001 10.0.0.1 10.0.0.2 1024 80 6 1 60 1700000000 1700000042 ACCEPT OK\n",
    );
    let record = records[0].as_object().expect("an object");
    assert_eq!(record["flow"]["duration"], 42);
    assert_eq!(record["flow"]["protocol_name"], "tcp");
    // No flow-direction and no ENI map: no direction.
    assert!(record["flow"].get("direction").is_none());
    assert!(record.get("src").is_none() && record.get("interface").is_none());
    assert!(
        Enricher::load(Sources::default())
            .expect("nothing")
            .is_inert()
    );
}

#[test]
fn data_errors_name_the_file_once() {
    let error = Enricher::load(Sources {
        eni_maps: vec![DataFile {
            name: "enis.json".to_owned(),
            data: b"[1]".to_vec(),
            verified: false,
        }],
        ..Sources::default()
    })
    .expect_err("not an ENI map");
    assert_eq!(error.file, "enis.json");
    assert_eq!(error.kind, DataKind::EniMap);
    assert!(!error.message.starts_with("enis.json"), "{}", error.message);
    let error = Enricher::load(Sources {
        geoip: vec![DataFile {
            name: "x.mmdb".to_owned(),
            data: b"nope".to_vec(),
            // Opening still checks what it reads.
            verified: true,
        }],
        ..Sources::default()
    })
    .expect_err("not a database");
    assert_eq!(
        (error.file.as_str(), error.kind),
        ("x.mmdb", DataKind::Geoip)
    );
    assert!(error.message.contains("MaxMind DB"), "{}", error.message);
}

#[test]
fn envelopes_and_crlf_lines_enrich_like_plain_lines() {
    let record = "2 123456789010 eni-0bbbbbbbbbbbbbbb3 10.0.0.9 10.0.0.5 1024 80 6 1 60 1700000000 1700000042 ACCEPT OK";
    let input = format!(
        "{record}\n{record}\r\n{{\"message\":\"{record}\"}}\n{{\"messageType\":\"DATA_MESSAGE\",\"logEvents\":[{{\"message\":\"{record}\"}},{{\"message\":\"{record}\"}}]}}\n"
    );
    let records = process(enricher(ENIS, true), &[], &input);
    assert_eq!(records.len(), 5);
    for record in &records {
        assert_eq!(record, &records[0]);
    }
    assert_eq!(records[0]["flow"]["direction"], "egress");
    assert_eq!(records[0]["flow"]["duration"], 42);
    assert_eq!(name(&records[0], "src").as_deref(), Some("b-peer"));
    assert_eq!(records[0]["interface"]["name"], "b-peer");
}

/// Community IDs are hashed four records at a time and written over
/// placeholders: every record's id must still be its own, whatever the
/// batch size, with records that have no id (ICMP, IPv6 to IPv4, no
/// fields) or are rejected in between, and nothing may be left over from
/// one batch to the next.
#[test]
fn deferred_community_ids_are_each_records_own() {
    let lines = mixed_lines(200);
    let mut processor = flowlog::Processor::new(&flowlog::Config::default()).expect("default");
    processor.set_enricher(Box::new(enricher(ENIS, true)));
    let mut checked = 0;
    let mut rest = &lines[..];
    let mut size = 1;
    while !rest.is_empty() {
        let (batch, after) = rest.split_at(size.min(rest.len()));
        rest = after;
        size = size % 9 + 1;
        let text: String = batch.iter().map(|l| format!("{l}\n")).collect();
        let out = processor.process(text.as_bytes(), 1, None);
        let records: Vec<Value> = String::from_utf8(out.ndjson)
            .expect("UTF-8")
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON"))
            .collect();
        assert_eq!(records.len() + out.rejected.len(), batch.len());
        for record in &records {
            let field = |name: &str| record[name].as_str().map(str::to_owned);
            let port = |name: &str| record[name].as_u64().map(|p| p as u16);
            let expected = match (field("srcaddr"), field("dstaddr")) {
                (Some(s), Some(d)) => enrich::flow::community_id(
                    0,
                    s.parse().expect("address"),
                    d.parse().expect("address"),
                    port("srcport").expect("port"),
                    port("dstport").expect("port"),
                    record["protocol"].as_u64().expect("protocol") as u8,
                ),
                _ => None,
            };
            let got = record["flow"]["community_id"].as_str();
            assert_eq!(got, expected.as_ref().map(|id| id.as_str()), "{record}");
            checked += usize::from(got.is_some());
        }
    }
    assert!(checked > 100, "only {checked} records had an id");
}

/// The component hands its NDJSON to the host in pieces while a batch runs
/// (`process_streaming`). Pieces followed by the rest must be exactly what
/// `process` returns, for any piece size: every piece whole lines, and the
/// deferred Community IDs filled in before their piece leaves.
#[test]
fn streamed_pieces_and_rest_are_the_whole_output() {
    let text: String = mixed_lines(300).iter().map(|l| format!("{l}\n")).collect();
    let new_processor = || {
        let mut processor = flowlog::Processor::new(&flowlog::Config::default()).expect("default");
        processor.set_enricher(Box::new(enricher(ENIS, true)));
        processor
    };
    let whole = new_processor().process(text.as_bytes(), 1, None);
    assert!(whole.records > 250 && !whole.rejected.is_empty());
    // One processor for all sizes: nothing may carry over between calls.
    let mut processor = new_processor();
    for piece_bytes in [0, 1, 200, 1000, 4096, 1 << 20] {
        let mut pieces: Vec<Vec<u8>> = Vec::new();
        let out =
            processor.process_streaming(text.as_bytes(), 1, None, piece_bytes, &mut |piece| {
                pieces.push(piece.to_vec())
            });
        for piece in &pieces {
            assert!(
                piece.len() >= piece_bytes.max(1),
                "piece of {} bytes",
                piece.len()
            );
            assert_eq!(piece.last(), Some(&b'\n'), "a piece that ends mid-line");
        }
        if piece_bytes >= 1 << 20 {
            assert!(pieces.is_empty());
        } else {
            assert!(pieces.len() > 1, "{piece_bytes}: {} pieces", pieces.len());
        }
        let mut streamed = pieces.concat();
        streamed.extend_from_slice(&out.ndjson);
        assert!(
            streamed == whole.ndjson,
            "piece size {piece_bytes}: output differs"
        );
        assert_eq!(out.records, whole.records);
        assert_eq!(out.rejected, whole.rejected);
    }
}

/// Default-format lines with IPv4, IPv6 and mixed ends, several protocols,
/// a rejected line every 23 and a line of `-` every 23.
fn mixed_lines(count: u64) -> Vec<String> {
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut lines = Vec::new();
    for i in 0..count {
        let r = xorshift(&mut state);
        let (src, dst) = match r % 7 {
            0 => (
                format!("2001:db8::{:x}", r >> 48),
                format!("2001:db8:1::{:x}", r >> 32 & 0xffff),
            ),
            1 => ("2001:db8::1".to_owned(), "10.1.2.3".to_owned()),
            _ => (
                format!("10.{}.{}.{}", r >> 8 & 255, r >> 16 & 255, r >> 24 & 255),
                format!("52.{}.{}.{}", r >> 32 & 255, r >> 40 & 255, r >> 48 & 255),
            ),
        };
        let protocol = [6, 17, 1, 132, 6, 17][(r >> 56) as usize % 6];
        lines.push(match i % 23 {
            // Rejected: a port that is not a number.
            5 => {
                format!("2 1 eni-0a1b2c3d4e5f60001 {src} {dst} x 80 {protocol} 1 60 1 2 ACCEPT OK")
            }
            // Accepted, with no fields to write.
            11 => "- - - - - - - - - - - - - -".to_owned(),
            _ => format!(
                "2 1 eni-0a1b2c3d4e5f60001 {src} {dst} {} {} {protocol} 1 60 1 2 ACCEPT OK",
                r & 0xffff,
                r >> 16 & 0xffff
            ),
        });
    }
    lines
}

/// Interfaces whose addresses are shared, public, inside another's
/// delegated prefix, or plain: the endpoint answers an enricher gives (from
/// its caches, or from an interface's own address without a lookup) must be
/// what the ENI map and ip-ranges say for each record.
const TRICKY_ENIS: &str = r#"{"NetworkInterfaces":[
  {"NetworkInterfaceId":"eni-0000000000000000a","VpcId":"vpc-a","PrivateIpAddress":"10.0.0.5",
   "PrivateIpAddresses":[{"PrivateIpAddress":"10.0.0.5"},
     {"PrivateIpAddress":"10.0.0.6","Association":{"PublicIp":"52.1.1.1"}}],
   "TagSet":[{"Key":"Name","Value":"shared-primary"}]},
  {"NetworkInterfaceId":"eni-0000000000000000b","VpcId":"vpc-b","PrivateIpAddress":"10.0.0.5",
   "TagSet":[{"Key":"Name","Value":"other-vpc"}]},
  {"NetworkInterfaceId":"eni-0000000000000000c","VpcId":"vpc-a","PrivateIpAddress":"10.0.0.7",
   "Ipv6Addresses":[{"Ipv6Address":"2001:db8::7"}],
   "Attachment":{"InstanceId":"i-0000000000000000c"}},
  {"NetworkInterfaceId":"eni-0000000000000000d","VpcId":"vpc-a","PrivateIpAddress":"10.0.1.4",
   "Ipv4Prefixes":[{"Ipv4Prefix":"10.0.2.0/28"}]},
  {"NetworkInterfaceId":"eni-0000000000000000e","VpcId":"vpc-b","PrivateIpAddress":"10.0.2.3"},
  {"NetworkInterfaceId":"eni-0000000000000000f","VpcId":"vpc-a","PrivateIpAddress":"52.1.2.3"}
]}"#;

const TRICKY_RANGES: &str = r#"{"syncToken":"1","createDate":"2024-01-01-00-00-00",
 "prefixes":[{"ip_prefix":"52.1.0.0/16","region":"us-east-1","service":"EC2","network_border_group":"us-east-1"}],
 "ipv6_prefixes":[]}"#;

#[test]
fn endpoint_answers_match_the_maps_for_every_interface_and_vpc() {
    let load = || {
        Enricher::load(Sources {
            aws_ip_ranges: Some(DataFile {
                name: "ip-ranges.json".to_owned(),
                data: TRICKY_RANGES.as_bytes().to_vec(),
                verified: false,
            }),
            eni_maps: vec![DataFile {
                name: "enis.json".to_owned(),
                data: TRICKY_ENIS.as_bytes().to_vec(),
                verified: false,
            }],
            derive_flow: true,
            ..Sources::default()
        })
        .expect("valid data")
    };
    let mut enis = enimap::EniMap::default();
    enis.add_json(TRICKY_ENIS.as_bytes(), "enis.json")
        .expect("valid");
    let ranges = awsranges::AwsRanges::from_json(TRICKY_RANGES.as_bytes()).expect("valid");
    let interfaces = [
        "eni-0000000000000000a",
        "eni-0000000000000000b",
        "eni-0000000000000000c",
        "eni-0000000000000000d",
        "eni-0000000000000000e",
        "eni-0000000000000000f",
        "eni-00000000000000009",
        "-",
    ];
    let addresses = [
        "10.0.0.5",
        "10.0.0.6",
        "52.1.1.1",
        "10.0.0.7",
        "2001:db8::7",
        "10.0.1.4",
        "10.0.2.3",
        "10.0.2.9",
        "52.1.2.3",
        "192.0.2.1",
    ];
    let mut lines = Vec::new();
    for interface in interfaces {
        for src in addresses {
            for dst in addresses {
                for vpc in ["vpc-a", "vpc-b", "-"] {
                    lines.push(format!("{interface} {src} {dst} {vpc} 6 1000 22"));
                }
            }
        }
    }
    // Twice, shuffled: first answers and cached ones, in every order.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut order: Vec<usize> = (0..lines.len() * 2).map(|i| i % lines.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, (xorshift(&mut state) % (i as u64 + 1)) as usize);
    }
    let input: String = order.iter().map(|&i| format!("{}\n", lines[i])).collect();
    let records = process(
        load(),
        &["interface-id srcaddr dstaddr vpc-id protocol srcport dstport"],
        &input,
    );
    assert_eq!(records.len(), order.len());
    let json = |text: &str| serde_json::from_str::<Value>(text).expect("JSON");
    let mut own_ends = 0;
    for record in &records {
        let interface = record["interface_id"].as_str();
        let capturing = interface.and_then(|id| enis.lookup_eni(id));
        let hint = record["vpc_id"]
            .as_str()
            .or_else(|| capturing.and_then(|r| r.vpc_id()));
        for (field, end) in [("srcaddr", "src"), ("dstaddr", "dst")] {
            let ip = record[field]
                .as_str()
                .expect("address")
                .parse()
                .expect("ip");
            let mut expected = serde_json::Map::new();
            if let Some(found) = ranges.lookup(ip) {
                expected.insert("aws".to_owned(), json(found.json()));
            }
            if let Some(resource) = enis.lookup_ip_in(ip, hint) {
                expected.insert("resource".to_owned(), json(resource.json()));
                own_ends += usize::from(Some(resource.interface_id()) == interface);
            }
            let got = record.get(end).cloned().unwrap_or_default();
            let expected = if expected.is_empty() {
                Value::Null
            } else {
                Value::Object(expected)
            };
            assert_eq!(got, expected, "{end} of {record}");
        }
        let expected_interface = capturing.map_or(Value::Null, |r| json(r.json()));
        assert_eq!(
            record.get("interface").cloned().unwrap_or_default(),
            expected_interface,
            "{record}"
        );
        let holds = |field: &str| {
            interface.is_some_and(|id| {
                enis.eni_holds(id, record[field].as_str().expect("ip").parse().expect("ip"))
            })
        };
        let direction = if holds("srcaddr") {
            Some("egress")
        } else if holds("dstaddr") {
            Some("ingress")
        } else {
            None
        };
        assert_eq!(
            record["flow"].get("direction").and_then(Value::as_str),
            direction,
            "{record}"
        );
    }
    assert!(own_ends > 400, "{own_ends} ends held by their interface");
}
