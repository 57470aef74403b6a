//! Hand-made prefix sets, one per step of the rule, and the errors.

use std::net::IpAddr;

use awsranges::{AwsRanges, Error};

/// A file from (prefix, service, region) triples; the network border group
/// is the region with `-nbg` appended so that it can be told apart.
fn ranges(entries: &[(&str, &str, &str)]) -> AwsRanges {
    let item = |(prefix, service, region): &(&str, &str, &str)| {
        let field = if prefix.contains(':') {
            "ipv6_prefix"
        } else {
            "ip_prefix"
        };
        format!(
            r#"{{"{field}":"{prefix}","service":"{service}","region":"{region}","network_border_group":"{region}-nbg"}}"#
        )
    };
    let v4: Vec<String> = entries
        .iter()
        .filter(|e| !e.0.contains(':'))
        .map(item)
        .collect();
    let v6: Vec<String> = entries
        .iter()
        .filter(|e| e.0.contains(':'))
        .map(item)
        .collect();
    let json = format!(
        r#"{{"syncToken":"42","createDate":"2026-11-25-00-00-00","prefixes":[{}],"ipv6_prefixes":[{}]}}"#,
        v4.join(","),
        v6.join(",")
    );
    AwsRanges::from_json(json.as_bytes()).expect("a valid file")
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

/// (service, region, network border group, services) for `address`,
/// checked against the linear scan too.
fn answer(ranges: &AwsRanges, address: &str) -> Option<(String, String, String, Vec<String>)> {
    let found = ranges.lookup(ip(address)).cloned();
    assert_eq!(found, ranges.lookup_naive(ip(address)), "{address}");
    found.map(|m| {
        (
            m.service().to_owned(),
            m.region().to_owned(),
            m.network_border_group().to_owned(),
            m.services().to_vec(),
        )
    })
}

fn service(ranges: &AwsRanges, address: &str) -> Option<String> {
    answer(ranges, address).map(|a| a.0)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn amazon_only_when_nothing_else_matches() {
    let r = ranges(&[
        ("52.94.0.0/16", "AMAZON", "us-east-1"),
        ("52.94.5.0/24", "AMAZON", "us-east-1"),
        ("52.94.7.0/24", "DYNAMODB", "us-east-1"),
    ]);
    assert_eq!(service(&r, "52.94.1.1").as_deref(), Some("AMAZON"));
    assert_eq!(service(&r, "52.94.5.1").as_deref(), Some("AMAZON"));
    // A longer AMAZON prefix does not beat a shorter specific one.
    let r = ranges(&[
        ("52.94.0.0/16", "S3", "us-east-1"),
        ("52.94.5.0/24", "AMAZON", "us-east-1"),
    ]);
    let a = answer(&r, "52.94.5.1").expect("an answer");
    assert_eq!(a.0, "S3");
    assert_eq!(a.3, strings(&["AMAZON", "S3"]));
}

#[test]
fn amazon_and_ec2_on_the_same_prefix_give_ec2() {
    let r = ranges(&[
        ("54.80.0.0/13", "AMAZON", "us-east-1"),
        ("54.80.0.0/13", "EC2", "us-east-1"),
    ]);
    let a = answer(&r, "54.80.10.20").expect("an answer");
    assert_eq!(
        a,
        (
            "EC2".to_owned(),
            "us-east-1".to_owned(),
            "us-east-1-nbg".to_owned(),
            strings(&["AMAZON", "EC2"])
        )
    );
}

#[test]
fn longest_prefix_wins_whatever_the_service() {
    let r = ranges(&[
        ("3.0.0.0/8", "S3", "us-east-1"),
        ("3.5.0.0/16", "EC2", "eu-west-1"),
        ("3.5.140.0/22", "CLOUDFRONT", "GLOBAL"),
    ]);
    assert_eq!(service(&r, "3.1.0.0").as_deref(), Some("S3"));
    let a = answer(&r, "3.5.1.1").expect("an answer");
    assert_eq!((a.0.as_str(), a.1.as_str()), ("EC2", "eu-west-1"));
    let a = answer(&r, "3.5.141.7").expect("an answer");
    assert_eq!(
        (a.0.as_str(), a.1.as_str(), a.2.as_str()),
        ("CLOUDFRONT", "GLOBAL", "GLOBAL-nbg")
    );
    assert_eq!(a.3, strings(&["CLOUDFRONT", "EC2", "S3"]));
}

#[test]
fn equal_length_non_ec2_beats_ec2_then_by_name() {
    let r = ranges(&[
        ("18.34.0.0/19", "EC2", "us-east-1"),
        ("18.34.0.0/19", "S3", "us-east-1"),
        ("18.34.0.0/19", "AMAZON", "us-east-1"),
        ("18.34.32.0/20", "EC2", "us-east-1"),
        ("18.34.32.0/20", "IVS_REALTIME", "us-east-1"),
        ("18.34.32.0/20", "DYNAMODB", "us-east-1"),
        ("18.34.48.0/20", "ROUTE53", "GLOBAL"),
        ("18.34.48.0/20", "ROUTE53", "eu-west-1"),
    ]);
    assert_eq!(service(&r, "18.34.0.1").as_deref(), Some("S3"));
    assert_eq!(service(&r, "18.34.40.1").as_deref(), Some("DYNAMODB"));
    // Same service and length: the region decides, ascending.
    assert_eq!(answer(&r, "18.34.50.1").expect("an answer").1, "GLOBAL");
    // EC2 alone still wins over AMAZON.
    let r = ranges(&[
        ("18.34.0.0/19", "EC2", "us-east-1"),
        ("18.34.0.0/19", "AMAZON", "us-east-1"),
    ]);
    assert_eq!(service(&r, "18.34.0.1").as_deref(), Some("EC2"));
}

#[test]
fn boundaries_of_nested_and_adjacent_prefixes() {
    let r = ranges(&[
        ("10.0.0.0/8", "AMAZON", "r1"),
        ("10.1.0.0/16", "S3", "r2"),
        ("10.2.0.0/16", "EC2", "r3"),
        ("10.1.2.3/32", "ROUTE53", "r4"),
        ("11.0.0.0/8", "S3", "r5"),
    ]);
    for (address, expected) in [
        ("9.255.255.255", None),
        ("10.0.0.0", Some("AMAZON")),
        ("10.0.255.255", Some("AMAZON")),
        ("10.1.0.0", Some("S3")),
        ("10.1.2.2", Some("S3")),
        ("10.1.2.3", Some("ROUTE53")),
        ("10.1.2.4", Some("S3")),
        ("10.1.255.255", Some("S3")),
        ("10.2.0.0", Some("EC2")),
        ("10.2.255.255", Some("EC2")),
        ("10.3.0.0", Some("AMAZON")),
        ("10.255.255.255", Some("AMAZON")),
        ("11.0.0.0", Some("S3")),
        ("11.255.255.255", Some("S3")),
        ("12.0.0.0", None),
    ] {
        assert_eq!(service(&r, address).as_deref(), expected, "{address}");
    }
}

#[test]
fn whole_space_and_host_prefixes() {
    let r = ranges(&[
        ("0.0.0.0/0", "AMAZON", "r"),
        ("255.255.255.255/32", "S3", "r"),
        ("0.0.0.0/32", "EC2", "r"),
        ("::/0", "AMAZON", "r6"),
        ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "S3", "r6"),
        ("::/128", "EC2", "r6"),
    ]);
    assert_eq!(service(&r, "0.0.0.0").as_deref(), Some("EC2"));
    assert_eq!(service(&r, "0.0.0.1").as_deref(), Some("AMAZON"));
    assert_eq!(service(&r, "255.255.255.254").as_deref(), Some("AMAZON"));
    assert_eq!(service(&r, "255.255.255.255").as_deref(), Some("S3"));
    assert_eq!(service(&r, "::").as_deref(), Some("EC2"));
    assert_eq!(service(&r, "::1").as_deref(), Some("AMAZON"));
    assert_eq!(
        service(&r, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").as_deref(),
        Some("S3")
    );
    assert_eq!(answer(&r, "2001:db8::1").expect("an answer").1, "r6");
}

#[test]
fn ipv6_rule_and_mapped_ipv4() {
    let r = ranges(&[
        ("2600:1f18::/33", "AMAZON", "us-east-1"),
        ("2600:1f18::/33", "EC2", "us-east-1"),
        ("2600:1f18:4000::/40", "S3", "us-east-1"),
        ("2600:1f18:4000::/40", "EC2", "us-east-1"),
        ("52.95.110.0/24", "S3", "us-east-1"),
    ]);
    assert_eq!(service(&r, "2600:1f18:1234::1").as_deref(), Some("EC2"));
    let a = answer(&r, "2600:1f18:40ff:ffff::1").expect("an answer");
    assert_eq!(a.0, "S3");
    assert_eq!(a.3, strings(&["AMAZON", "EC2", "S3"]));
    assert_eq!(service(&r, "2600:1f18:4100::").as_deref(), Some("EC2"));
    assert_eq!(service(&r, "2600:1f18:8000::").as_deref(), None);
    assert_eq!(service(&r, "::ffff:52.95.110.9").as_deref(), Some("S3"));
    assert_eq!(service(&r, "52.95.111.0").as_deref(), None);
}

#[test]
fn json_fragment() {
    let r = ranges(&[
        ("52.95.110.0/24", "AMAZON", "us-east-1"),
        ("52.95.110.0/24", "S3", "us-east-1"),
    ]);
    let found = r.lookup(ip("52.95.110.1")).expect("an answer");
    assert_eq!(
        found.json(),
        r#"{"service":"S3","region":"us-east-1","network_border_group":"us-east-1-nbg","services":["AMAZON","S3"]}"#
    );
    assert_eq!(r.sync_token(), "42");
    assert_eq!(r.create_date(), "2026-11-25-00-00-00");
    assert_eq!((r.ipv4_prefix_count(), r.ipv6_prefix_count()), (2, 0));
}

#[test]
fn empty_lists_and_missing_optional_fields() {
    let r = AwsRanges::from_json(br#"{"prefixes":[]}"#).expect("a valid file");
    assert_eq!((r.sync_token(), r.create_date()), ("-", "-"));
    assert!(r.lookup(ip("1.2.3.4")).is_none());
    assert!(r.lookup(ip("::1")).is_none());
}

fn error(json: &str) -> String {
    match AwsRanges::from_json(json.as_bytes()) {
        Ok(_) => panic!("accepted: {json}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn errors_name_the_entry_field_and_value() {
    assert!(
        error("{").starts_with("not an ip-ranges.json: EOF while parsing"),
        "{}",
        error("{")
    );
    assert!(
        error("{\n\"prefixes\": 7}").contains("line 2"),
        "{}",
        error("{\n\"prefixes\": 7}")
    );
    assert!(matches!(
        AwsRanges::from_json(b"{}"),
        Err(Error::NoPrefixes)
    ));
    let entry = |prefix: &str| {
        format!(
            r#"{{"prefixes":[{{"ip_prefix":"1.0.0.0/8","service":"S3","region":"r","network_border_group":"r"}},{{"ip_prefix":"{prefix}","service":"S3","region":"r","network_border_group":"r"}}]}}"#
        )
    };
    assert_eq!(
        error(&entry("1.2.3/24")),
        r#"prefixes[1].ip_prefix: "1.2.3/24" is not an IPv4 CIDR prefix"#
    );
    assert_eq!(
        error(&entry("1.2.3.0/33")),
        r#"prefixes[1].ip_prefix: "1.2.3.0/33" has a prefix length outside 0–32"#
    );
    assert_eq!(
        error(&entry("1.2.3.4/24")),
        r#"prefixes[1].ip_prefix: "1.2.3.4/24" has bits set after the prefix length"#
    );
    assert_eq!(
        error(&entry("2600::/16")),
        r#"prefixes[1].ip_prefix: "2600::/16" is not an IPv4 CIDR prefix"#
    );
    assert_eq!(
        error(&entry("1.2.3.0")),
        r#"prefixes[1].ip_prefix: "1.2.3.0" is not a CIDR prefix (no "/")"#
    );
    assert_eq!(
        error(
            r#"{"prefixes":[],"ipv6_prefixes":[{"ipv6_prefix":"2600::/129","service":"S3","region":"r","network_border_group":"r"}]}"#
        ),
        r#"ipv6_prefixes[0].ipv6_prefix: "2600::/129" has a prefix length outside 0–128"#
    );
    assert_eq!(
        error(
            r#"{"prefixes":[],"ipv6_prefixes":[{"ip_prefix":"1.0.0.0/8","service":"S3","region":"r","network_border_group":"r"}]}"#
        ),
        r#"ipv6_prefixes[0]: the field "ipv6_prefix" is missing"#
    );
    assert_eq!(
        error(
            r#"{"prefixes":[{"ip_prefix":"1.0.0.0/8","region":"r","network_border_group":"r"}]}"#
        ),
        r#"prefixes[0]: the field "service" is missing"#
    );
}
