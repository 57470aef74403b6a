//! Hand-made prefix sets, one per step of the rule, for both families;
//! expectations are written by hand and every lookup is also checked
//! against the independent linear scan.

use awsranges::AwsRanges;

use crate::naive::{Answer, Naive};
use crate::support::{checked, file_json, ip};

/// A file from (prefix, service, region) triples, with the ranges and the
/// reference; the network border group is the region with `-nbg` appended
/// so that it can be told apart.
fn ranges(entries: &[(&str, &str, &str)]) -> (AwsRanges, Naive) {
    let entries: Vec<(String, String, String, String)> = entries
        .iter()
        .map(|(prefix, service, region)| {
            (
                (*prefix).to_owned(),
                (*service).to_owned(),
                (*region).to_owned(),
                format!("{region}-nbg"),
            )
        })
        .collect();
    let json = file_json(&entries);
    let ranges = AwsRanges::from_json(json.as_bytes()).expect("a valid file");
    (ranges, Naive::from_json(&json))
}

fn answer(r: &(AwsRanges, Naive), address: &str) -> Option<Answer> {
    checked(&r.0, &r.1, ip(address))
}

fn service(r: &(AwsRanges, Naive), address: &str) -> Option<String> {
    answer(r, address).map(|a| a.service)
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}

/// (service, region, network border group, services) as one value.
fn full(service: &str, region: &str, nbg: &str, services: &[&str]) -> Answer {
    Answer {
        service: service.to_owned(),
        region: region.to_owned(),
        network_border_group: nbg.to_owned(),
        services: strings(services),
    }
}

#[test]
fn amazon_only_when_nothing_else_matches() {
    let r = ranges(&[
        ("52.94.0.0/16", "AMAZON", "us-east-1"),
        ("52.94.5.0/24", "AMAZON", "eu-west-1"),
        ("52.94.7.0/24", "DYNAMODB", "us-east-1"),
    ]);
    assert_eq!(
        answer(&r, "52.94.1.1"),
        Some(full("AMAZON", "us-east-1", "us-east-1-nbg", &["AMAZON"]))
    );
    // Among AMAZON entries the longest prefix wins.
    assert_eq!(
        answer(&r, "52.94.5.1"),
        Some(full("AMAZON", "eu-west-1", "eu-west-1-nbg", &["AMAZON"]))
    );
    assert_eq!(
        answer(&r, "52.94.7.255"),
        Some(full(
            "DYNAMODB",
            "us-east-1",
            "us-east-1-nbg",
            &["AMAZON", "DYNAMODB"]
        ))
    );
    // A longer AMAZON prefix does not beat a shorter specific one.
    let r = ranges(&[
        ("52.94.0.0/16", "S3", "us-east-1"),
        ("52.94.5.0/24", "AMAZON", "eu-west-1"),
    ]);
    assert_eq!(
        answer(&r, "52.94.5.1"),
        Some(full("S3", "us-east-1", "us-east-1-nbg", &["AMAZON", "S3"]))
    );
    // Equal AMAZON prefixes: by region.
    let r = ranges(&[
        ("52.94.0.0/16", "AMAZON", "us-east-1"),
        ("52.94.0.0/16", "AMAZON", "GLOBAL"),
    ]);
    assert_eq!(answer(&r, "52.94.9.9").expect("an answer").region, "GLOBAL");
}

#[test]
fn amazon_and_ec2_on_the_same_prefix_give_ec2() {
    let r = ranges(&[
        ("54.80.0.0/13", "AMAZON", "us-east-1"),
        ("54.80.0.0/13", "EC2", "us-east-1"),
    ]);
    assert_eq!(
        answer(&r, "54.80.10.20"),
        Some(full(
            "EC2",
            "us-east-1",
            "us-east-1-nbg",
            &["AMAZON", "EC2"]
        ))
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
    // EC2 on a longer prefix beats S3 on a shorter one.
    assert_eq!(
        answer(&r, "3.5.1.1"),
        Some(full("EC2", "eu-west-1", "eu-west-1-nbg", &["EC2", "S3"]))
    );
    assert_eq!(
        answer(&r, "3.5.141.7"),
        Some(full(
            "CLOUDFRONT",
            "GLOBAL",
            "GLOBAL-nbg",
            &["CLOUDFRONT", "EC2", "S3"]
        ))
    );
}

#[test]
fn equal_length_non_ec2_beats_ec2_then_by_name() {
    let r = ranges(&[
        ("18.34.0.0/19", "EC2", "us-east-1"),
        ("18.34.0.0/19", "S3", "us-west-2"),
        ("18.34.0.0/19", "AMAZON", "us-east-1"),
        ("18.34.32.0/20", "EC2", "us-east-1"),
        ("18.34.32.0/20", "IVS_REALTIME", "us-east-1"),
        ("18.34.32.0/20", "DYNAMODB", "us-east-1"),
        ("18.34.48.0/20", "ROUTE53", "eu-west-1"),
        ("18.34.48.0/20", "ROUTE53", "GLOBAL"),
    ]);
    assert_eq!(
        answer(&r, "18.34.0.1"),
        Some(full(
            "S3",
            "us-west-2",
            "us-west-2-nbg",
            &["AMAZON", "EC2", "S3"]
        ))
    );
    assert_eq!(
        answer(&r, "18.34.40.1"),
        Some(full(
            "DYNAMODB",
            "us-east-1",
            "us-east-1-nbg",
            &["DYNAMODB", "EC2", "IVS_REALTIME"]
        ))
    );
    // Same service and length: the region decides, ascending.
    assert_eq!(
        answer(&r, "18.34.50.1"),
        Some(full("ROUTE53", "GLOBAL", "GLOBAL-nbg", &["ROUTE53"]))
    );
    // EC2 alone still wins over AMAZON.
    let r = ranges(&[
        ("18.34.0.0/19", "EC2", "us-east-1"),
        ("18.34.0.0/19", "AMAZON", "us-east-1"),
    ]);
    assert_eq!(service(&r, "18.34.0.1").as_deref(), Some("EC2"));
    // Same service, region: the border group decides.
    let r = AwsRanges::from_json(
        br#"{"prefixes":[
        {"ip_prefix":"15.0.0.0/8","service":"EC2","region":"us-east-1","network_border_group":"us-east-1-wl1"},
        {"ip_prefix":"15.0.0.0/8","service":"EC2","region":"us-east-1","network_border_group":"us-east-1"}]}"#,
    )
    .expect("a valid file");
    let found = r.lookup(ip("15.1.2.3")).expect("an answer");
    assert_eq!(found.network_border_group(), "us-east-1");
    assert_eq!(found.services(), ["EC2"]);
    // The region decides before the border group.
    let r = AwsRanges::from_json(
        br#"{"prefixes":[
        {"ip_prefix":"15.0.0.0/8","service":"EC2","region":"us-west-2","network_border_group":"a"},
        {"ip_prefix":"15.0.0.0/8","service":"EC2","region":"us-east-1","network_border_group":"z"}]}"#,
    )
    .expect("a valid file");
    let found = r.lookup(ip("15.1.2.3")).expect("an answer");
    assert_eq!(
        (found.region(), found.network_border_group()),
        ("us-east-1", "z")
    );
}

#[test]
fn boundaries_of_nested_and_adjacent_prefixes() {
    let r = ranges(&[
        ("10.0.0.0/8", "AMAZON", "r1"),
        ("10.1.0.0/16", "S3", "r2"),
        ("10.2.0.0/16", "EC2", "r3"),
        ("10.1.2.3/32", "ROUTE53", "r4"),
        ("10.255.255.0/24", "EC2", "r6"),
        ("11.0.0.0/8", "S3", "r5"),
    ]);
    for (address, expected) in [
        ("0.0.0.0", None),
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
        ("10.255.254.255", Some("AMAZON")),
        // A prefix ending where its parent ends, next to an adjacent one.
        ("10.255.255.0", Some("EC2")),
        ("10.255.255.255", Some("EC2")),
        ("11.0.0.0", Some("S3")),
        ("11.255.255.255", Some("S3")),
        ("12.0.0.0", None),
        ("255.255.255.255", None),
    ] {
        assert_eq!(service(&r, address).as_deref(), expected, "{address}");
    }
    assert_eq!(
        answer(&r, "10.1.2.3").expect("an answer").services,
        strings(&["AMAZON", "ROUTE53", "S3"])
    );
}

#[test]
fn ipv6_rule_steps() {
    let r = ranges(&[
        // AMAZON only, then AMAZON + EC2 on one prefix.
        ("2600:1f00::/24", "AMAZON", "GLOBAL"),
        ("2600:1f18::/33", "AMAZON", "us-east-1"),
        ("2600:1f18::/33", "EC2", "us-east-1"),
        // Longer prefix, S3 over EC2 at equal length.
        ("2600:1f18:4000::/40", "S3", "us-east-1"),
        ("2600:1f18:4000::/40", "EC2", "us-east-1"),
        // Two non-EC2 at equal length: by name.
        ("2600:1f18:4000:100::/56", "ROUTE53", "us-east-1"),
        ("2600:1f18:4000:100::/56", "DYNAMODB", "us-east-1"),
        // A shorter specific prefix beats a longer AMAZON one.
        ("2600:1f18:4000:200::/64", "AMAZON", "us-east-1"),
        // Adjacent to the /33.
        ("2600:1f18:8000::/33", "EC2", "us-west-2"),
    ]);
    assert_eq!(
        answer(&r, "2600:1f01::1"),
        Some(full("AMAZON", "GLOBAL", "GLOBAL-nbg", &["AMAZON"]))
    );
    assert_eq!(
        answer(&r, "2600:1f18:1234::1"),
        Some(full(
            "EC2",
            "us-east-1",
            "us-east-1-nbg",
            &["AMAZON", "EC2"]
        ))
    );
    assert_eq!(
        answer(&r, "2600:1f18:40ff:ffff:ffff:ffff:ffff:ffff"),
        Some(full(
            "S3",
            "us-east-1",
            "us-east-1-nbg",
            &["AMAZON", "EC2", "S3"]
        ))
    );
    assert_eq!(
        answer(&r, "2600:1f18:4000:1ff::9"),
        Some(full(
            "DYNAMODB",
            "us-east-1",
            "us-east-1-nbg",
            &["AMAZON", "DYNAMODB", "EC2", "ROUTE53", "S3"]
        ))
    );
    assert_eq!(service(&r, "2600:1f18:4000:200::1").as_deref(), Some("S3"));
    for (address, expected) in [
        ("2600:1eff:ffff:ffff:ffff:ffff:ffff:ffff", None),
        ("2600:1f00::", Some("AMAZON")),
        ("2600:1f17:ffff:ffff:ffff:ffff:ffff:ffff", Some("AMAZON")),
        ("2600:1f18::", Some("EC2")),
        ("2600:1f18:3fff:ffff:ffff:ffff:ffff:ffff", Some("EC2")),
        ("2600:1f18:4000::", Some("S3")),
        ("2600:1f18:4000:ff:ffff:ffff:ffff:ffff", Some("S3")),
        ("2600:1f18:4000:100::", Some("DYNAMODB")),
        ("2600:1f18:4000:200::", Some("S3")),
        ("2600:1f18:4100::", Some("EC2")),
        ("2600:1f18:7fff:ffff:ffff:ffff:ffff:ffff", Some("EC2")),
        ("2600:1f18:8000::", Some("EC2")),
        ("2600:1f18:ffff:ffff:ffff:ffff:ffff:ffff", Some("EC2")),
        ("2600:1f19::", Some("AMAZON")),
        ("2600:1fff:ffff:ffff:ffff:ffff:ffff:ffff", Some("AMAZON")),
        ("2600:2000::", None),
    ] {
        assert_eq!(service(&r, address).as_deref(), expected, "{address}");
    }
    assert_eq!(
        answer(&r, "2600:1f18:8000::1").expect("an answer").region,
        "us-west-2"
    );
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
        service(&r, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe").as_deref(),
        Some("AMAZON")
    );
    assert_eq!(
        service(&r, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff").as_deref(),
        Some("S3")
    );
    assert_eq!(answer(&r, "2001:db8::1").expect("an answer").region, "r6");
    // A mapped address is IPv4, whatever the IPv6 list says.
    assert_eq!(
        answer(&r, "::ffff:255.255.255.255")
            .expect("an answer")
            .region,
        "r"
    );
    // Only host prefixes: everything around them is unmatched.
    let r = ranges(&[("1.2.3.4/32", "S3", "r"), ("2600::1/128", "S3", "r")]);
    for (address, expected) in [
        ("1.2.3.3", None),
        ("1.2.3.4", Some("S3")),
        ("1.2.3.5", None),
        ("2600::", None),
        ("2600::1", Some("S3")),
        ("2600::2", None),
    ] {
        assert_eq!(service(&r, address).as_deref(), expected, "{address}");
    }
}

#[test]
fn ipv4_mapped_ipv6_uses_the_ipv4_table() {
    let r = ranges(&[
        ("52.95.110.0/24", "S3", "us-east-1"),
        ("::ffff:0:0/96", "EC2", "v6"),
        ("2600:1f18::/33", "EC2", "us-east-1"),
    ]);
    assert_eq!(service(&r, "::ffff:52.95.110.9").as_deref(), Some("S3"));
    assert_eq!(service(&r, "::ffff:52.95.111.0").as_deref(), None);
    assert_eq!(service(&r, "52.95.111.0").as_deref(), None);
    // Not mapped: IPv4-compatible and other IPv6 forms stay IPv6.
    assert_eq!(service(&r, "::52.95.110.9").as_deref(), None);
    assert_eq!(
        service(&r, "2600:1f18::34.95.110.9").as_deref(),
        Some("EC2")
    );
}

#[test]
fn json_fragment_and_metadata() {
    let (r, _) = ranges(&[
        ("52.95.110.0/24", "AMAZON", "us-east-1"),
        ("52.95.110.0/24", "S3", "us-east-1"),
        ("2600:1f18::/33", "EC2", "us-east-1"),
    ]);
    let found = r.lookup(ip("52.95.110.1")).expect("an answer");
    assert_eq!(
        found.json(),
        r#"{"service":"S3","region":"us-east-1","network_border_group":"us-east-1-nbg","services":["AMAZON","S3"]}"#
    );
    assert_eq!(r.sync_token(), "42");
    assert_eq!(r.create_date(), "2026-11-25-00-00-00");
    assert_eq!((r.ipv4_prefix_count(), r.ipv6_prefix_count()), (2, 1));
}

#[test]
fn empty_lists() {
    let r = AwsRanges::from_json(
        br#"{"syncToken":"7","createDate":"2026-01-01-00-00-00","prefixes":[],"ipv6_prefixes":[]}"#,
    )
    .expect("a valid file");
    assert_eq!(
        (r.sync_token(), r.create_date()),
        ("7", "2026-01-01-00-00-00")
    );
    assert_eq!((r.ipv4_prefix_count(), r.ipv6_prefix_count()), (0, 0));
    for address in [
        "0.0.0.0",
        "1.2.3.4",
        "255.255.255.255",
        "::",
        "::1",
        "::ffff:1.2.3.4",
        "ffff::",
    ] {
        assert!(r.lookup(ip(address)).is_none(), "{address}");
    }
    // Missing optional parts: no ipv6_prefixes, no syncToken/createDate.
    let r = AwsRanges::from_json(br#"{"prefixes":[]}"#).expect("a valid file");
    assert_eq!((r.sync_token(), r.create_date()), ("-", "-"));
    assert!(r.lookup(ip("::1")).is_none());
    // Only one family.
    let (r, _) = ranges(&[("2600::/16", "EC2", "r")]);
    assert!(r.lookup(ip("38.0.0.0")).is_none());
    assert_eq!(r.lookup(ip("2600::")).expect("an answer").service(), "EC2");
}
