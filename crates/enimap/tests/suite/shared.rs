//! The real public examples in `<shared>/data/aws/eni/`: AWS CLI and botocore
//! describe-network-interfaces outputs, the AWS CLI docs page they come from,
//! and the EC2 model's field lists.
//!
//! `botocore-examples-describe-network-interfaces.json` is the example's
//! `output` member as botocore ships it, i.e. plain describe-network-interfaces
//! output, so it is loaded like the others. `botocore-ec2-networkinterface-shape.json`
//! is not output but the model: it must be rejected as such, and its
//! `NetworkInterfaceType.enum` drives a check of the `interface_type`
//! normalization.

use std::collections::HashSet;
use std::path::Path;

use enimap::EniMap;
use serde_json::Value;

use crate::support::{addresses_of, interfaces, ip, shared_eni_dir, text};

/// The describe-network-interfaces outputs among the examples.
const OUTPUTS: [&str; 3] = [
    "awscli-describe-network-interfaces-all.json",
    "awscli-describe-network-interfaces-tag-filter.json",
    "botocore-examples-describe-network-interfaces.json",
];

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Counts checked against serde_json's own reading of each file.
fn check_counts(name: &str, bytes: &[u8]) {
    let expected = interfaces(bytes);
    assert!(!expected.is_empty(), "{name} has interfaces");
    let ids: HashSet<&str> = expected
        .iter()
        .filter_map(|e| text(e, "/NetworkInterfaceId"))
        .collect();
    let addresses: HashSet<_> = expected.iter().flat_map(addresses_of).collect();
    let mut map = EniMap::default();
    let added = map.add_json(bytes, name).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(added, ids.len(), "{name}");
    assert_eq!(map.eni_count(), ids.len(), "{name}");
    assert_eq!(map.address_count(), addresses.len(), "{name}");
    for eni in &expected {
        let id = text(eni, "/NetworkInterfaceId").expect("id");
        let r = map.lookup_eni(id).expect("loaded");
        assert_eq!(r.vpc_id(), text(eni, "/VpcId"), "{name}: {id}");
        assert_eq!(
            r.instance_id(),
            text(eni, "/Attachment/InstanceId"),
            "{name}: {id}"
        );
        for a in addresses_of(eni) {
            assert!(map.eni_holds(id, a), "{name}: {id} holds {a}");
            assert_eq!(
                map.lookup_ip(a).map(|r| r.interface_id()),
                Some(id),
                "{name}: {a}"
            );
        }
    }
}

#[test]
fn real_outputs_load_with_the_right_counts() {
    let Some(dir) = shared_eni_dir() else { return };
    for name in OUTPUTS {
        check_counts(name, &read(&dir, name));
    }
}

#[test]
fn real_outputs_classify() {
    let Some(dir) = shared_eni_dir() else { return };
    let mut map = EniMap::default();
    for name in OUTPUTS {
        map.add_json(&read(&dir, name), name)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    // eni-e5aa89a3 is in both the CLI's and botocore's example: one ENI.
    let all: HashSet<String> = OUTPUTS
        .iter()
        .flat_map(|name| interfaces(&read(&dir, name)))
        .filter_map(|e| text(&e, "/NetworkInterfaceId").map(str::to_owned))
        .collect();
    assert_eq!(map.eni_count(), all.len());
    assert_eq!(map.eni_count(), 3);

    let r = map.lookup_ip(ip("203.0.113.12")).expect("EIP");
    assert_eq!(
        r.json(),
        r#"{"interface_id":"eni-e5aa89a3","interface_type":"interface","kind":"ec2_instance","id":"i-1234567890abcdef0","instance_id":"i-1234567890abcdef0","vpc_id":"vpc-a01106c2","subnet_id":"subnet-b61f49f0","availability_zone":"us-east-1d","security_group_ids":["sg-8637d3e3"],"description":"my network interface"}"#
    );
    let primary = map.lookup_ip(ip("198.51.100.0")).expect("public");
    assert_eq!(
        (primary.interface_id(), primary.kind()),
        ("eni-f9ba99bf", "ec2_instance")
    );
    let prod = map.lookup_ip(ip("10.0.1.117")).expect("secondary");
    assert_eq!(
        (prod.interface_id(), prod.kind(), prod.tag("Purpose")),
        ("eni-b9a5ac93", "interface", Some("Prod"))
    );
    assert_eq!(
        prod.json(),
        r#"{"interface_id":"eni-b9a5ac93","interface_type":"interface","kind":"interface","vpc_id":"vpc-8941ebec","subnet_id":"subnet-31d6c219","availability_zone":"us-east-1d","security_group_ids":["sg-905002f5"],"tags":{"Purpose":"Prod"},"description":"ProdENI"}"#
    );
}

/// The AWS CLI docs page: each `Output::` block is an example output.
#[test]
fn the_cli_docs_examples_load() {
    let Some(dir) = shared_eni_dir() else { return };
    let rst = String::from_utf8(read(&dir, "awscli-1.46.3-describe-network-interfaces.rst"))
        .expect("UTF-8");
    let mut blocks = Vec::new();
    let mut lines = rst.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "Output::" {
            continue;
        }
        let mut block = String::new();
        for line in lines.by_ref() {
            if !line.is_empty() && !line.starts_with(' ') {
                break;
            }
            block.push_str(line);
            block.push('\n');
        }
        blocks.push(block);
    }
    assert_eq!(blocks.len(), 2, "the page has two examples");
    for (i, block) in blocks.iter().enumerate() {
        check_counts(&format!("rst example {i}"), block.as_bytes());
    }
    // Concatenated, as a user might paste them.
    let joined = blocks.concat();
    let mut map = EniMap::default();
    assert_eq!(
        map.add_json(joined.as_bytes(), "rst")
            .unwrap_or_else(|e| panic!("{e}")),
        3
    );
}

#[test]
fn the_model_file_is_not_output_and_its_types_normalize() {
    let Some(dir) = shared_eni_dir() else { return };
    let name = "botocore-ec2-networkinterface-shape.json";
    let bytes = read(&dir, name);
    let mut map = EniMap::default();
    let e = map
        .add_json(&bytes, name)
        .expect_err("the model is not output");
    assert!(
        e.to_string().starts_with(&format!(
            "{name}: the object has no \"NetworkInterfaces\" key"
        )),
        "{e}"
    );

    let model: Value = serde_json::from_slice(&bytes).expect("JSON");
    let types: Vec<&str> = model["NetworkInterfaceType.enum"]
        .as_array()
        .expect("the enum")
        .iter()
        .map(|v| v.as_str().expect("a string"))
        .collect();
    assert!(types.contains(&"natGateway"));
    for (i, t) in types.iter().enumerate() {
        let json = format!(r#"[{{"NetworkInterfaceId":"eni-{i}","InterfaceType":"{t}"}}]"#);
        map.add_json(json.as_bytes(), name)
            .unwrap_or_else(|e| panic!("{e}"));
        let r = map.lookup_eni(&format!("eni-{i}")).expect("loaded");
        let expected = if *t == "natGateway" { "nat_gateway" } else { t };
        assert_eq!(r.interface_type(), expected);
        // kind: a known kind for the service types, else the type itself.
        let kind = match expected {
            "nat_gateway" | "lambda" => expected,
            "load_balancer" | "network_load_balancer" | "gateway_load_balancer" => "load_balancer",
            "vpc_endpoint" | "gateway_load_balancer_endpoint" => "vpc_endpoint",
            "transit_gateway" => "transit_gateway_attachment",
            other => other,
        };
        assert_eq!(r.kind(), kind, "{t}");
    }
    // The fields enimap reads are all in the model.
    let members = model["NetworkInterface.members"]
        .as_object()
        .expect("members");
    for field in [
        "NetworkInterfaceId",
        "InterfaceType",
        "Description",
        "RequesterId",
        "VpcId",
        "SubnetId",
        "AvailabilityZone",
        "PrivateIpAddress",
        "PrivateIpAddresses",
        "Ipv6Address",
        "Ipv6Addresses",
        "Ipv4Prefixes",
        "Ipv6Prefixes",
        "Association",
        "Attachment",
        "Groups",
        "TagSet",
    ] {
        assert!(members.contains_key(field), "{field}");
    }
    let association = model["NetworkInterfaceAssociation.members"]
        .as_object()
        .expect("association");
    for field in ["PublicIp", "CarrierIp", "CustomerOwnedIp"] {
        assert!(association.contains_key(field), "{field}");
    }
}
