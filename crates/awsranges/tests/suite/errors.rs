//! Refused files: every message names what is wrong, and where.

use awsranges::{AwsRanges, Error};

fn error(json: &str) -> Error {
    match AwsRanges::from_json(json.as_bytes()) {
        Ok(_) => panic!("accepted: {json}"),
        Err(e) => e,
    }
}

fn message(json: &str) -> String {
    error(json).to_string()
}

/// A file whose `prefixes[1]` has `ip_prefix` `prefix`.
fn second_v4(prefix: &str) -> String {
    format!(
        r#"{{"prefixes":[{{"ip_prefix":"1.0.0.0/8","service":"S3","region":"r","network_border_group":"r"}},{{"ip_prefix":"{prefix}","service":"S3","region":"r","network_border_group":"r"}}]}}"#
    )
}

/// A file whose `ipv6_prefixes[0]` has `ipv6_prefix` `prefix`.
fn first_v6(prefix: &str) -> String {
    format!(
        r#"{{"prefixes":[],"ipv6_prefixes":[{{"ipv6_prefix":"{prefix}","service":"S3","region":"r","network_border_group":"r"}}]}}"#
    )
}

#[test]
fn invalid_json_gives_line_and_column() {
    let e = message("{");
    assert!(
        e.starts_with("not an ip-ranges.json: EOF while parsing"),
        "{e}"
    );
    assert!(e.contains("line 1 column 1"), "{e}");
    let e = message("{\n  \"prefixes\": [,]\n}");
    assert!(e.contains("line 2 column"), "{e}");
    let e = message("{\n\"prefixes\": 7}");
    assert!(e.contains("invalid type: integer `7`"), "{e}");
    assert!(e.contains("line 2 column"), "{e}");
    assert!(matches!(error("[]"), Error::Json(_)));
    let e = message(r#"{"prefixes":[5]}"#);
    assert!(e.contains("expected a JSON object"), "{e}");
    assert!(e.contains("line 1 column 14"), "{e}");
    // Objects only, not arrays of the fields in some order.
    let e = message(r#"{"prefixes":[["1.0.0.0/8",null,"r","S3","r"]]}"#);
    assert!(e.contains("expected a JSON object"), "{e}");
    let e = message(r#"["-","-",[]]"#);
    assert!(e.contains("expected a JSON object at line 1"), "{e}");
}

#[test]
fn missing_prefixes_list() {
    assert!(matches!(error("{}"), Error::NoPrefixes));
    assert!(matches!(error(r#"{"prefixes":null}"#), Error::NoPrefixes));
    assert_eq!(
        message(r#"{"ipv6_prefixes":[]}"#),
        r#"not an ip-ranges.json: there is no "prefixes" list"#
    );
}

#[test]
fn bad_cidr_names_entry_field_and_value() {
    for (prefix, reason) in [
        ("1.2.3/24", "is not an IPv4 CIDR prefix"),
        ("1.2.3.256/32", "is not an IPv4 CIDR prefix"),
        ("1.2.3.0", r#"is not a CIDR prefix (no "/")"#),
        ("1.2.3.0/", r#"has no decimal prefix length after the "/""#),
        ("1.2.3.0/x", r#"has no decimal prefix length after the "/""#),
        (
            "1.2.3.0/+24",
            r#"has no decimal prefix length after the "/""#,
        ),
        (
            "1.2.3.0/024",
            r#"has no decimal prefix length after the "/""#,
        ),
        ("1.2.3.0/33", "has a prefix length outside 0–32"),
        ("1.2.3.0/255", "has a prefix length outside 0–32"),
        ("1.2.3.0/256", "has a prefix length outside 0–32"),
        ("1.2.3.4/24", "has address bits set after the prefix length"),
        (
            "128.0.0.0/0",
            "has address bits set after the prefix length",
        ),
        ("2600::/16", "is an IPv6 prefix in the IPv4 list"),
        ("2600::/64", "is an IPv6 prefix in the IPv4 list"),
    ] {
        assert_eq!(
            message(&second_v4(prefix)),
            format!(r#"prefixes[1].ip_prefix: "{prefix}" {reason}"#),
        );
        assert!(matches!(
            error(&second_v4(prefix)),
            Error::InvalidPrefix { index: 1, .. }
        ));
    }
    for (prefix, reason) in [
        ("2600::/129", "has a prefix length outside 0–128"),
        ("2600::1/64", "has address bits set after the prefix length"),
        ("::1/127", "has address bits set after the prefix length"),
        ("2600:::/16", "is not an IPv6 CIDR prefix"),
        ("52.95.0.0/16", "is an IPv4 prefix in the IPv6 list"),
    ] {
        assert_eq!(
            message(&first_v6(prefix)),
            format!(r#"ipv6_prefixes[0].ipv6_prefix: "{prefix}" {reason}"#),
        );
    }
}

#[test]
fn missing_or_mistyped_fields_name_the_entry() {
    assert_eq!(
        message(
            r#"{"prefixes":[],"ipv6_prefixes":[{"ip_prefix":"1.0.0.0/8","service":"S3","region":"r","network_border_group":"r"}]}"#
        ),
        r#"ipv6_prefixes[0]: the field "ipv6_prefix" is missing"#
    );
    assert_eq!(
        message(
            r#"{"prefixes":[{"ip_prefix":"1.0.0.0/8","region":"r","network_border_group":"r"}]}"#
        ),
        r#"prefixes[0]: the field "service" is missing"#
    );
    assert_eq!(
        message(
            r#"{"prefixes":[{"ip_prefix":"1.0.0.0/8","service":"S3","region":null,"network_border_group":"r"}]}"#
        ),
        r#"prefixes[0]: the field "region" is missing"#
    );
    assert_eq!(
        message(r#"{"prefixes":[{"ip_prefix":"1.0.0.0/8","service":"S3","region":"r"}]}"#),
        r#"prefixes[0]: the field "network_border_group" is missing"#
    );
    assert_eq!(
        message(
            r#"{"prefixes":[{"ip_prefix":"1.0.0.0/8","service":"S3","region":"r","network_border_group":"r"},{"ip_prefix":"2.0.0.0/8","service":7,"region":"r","network_border_group":"r"}]}"#
        ),
        "prefixes[1].service: 7 is not a string"
    );
    assert_eq!(
        message(
            r#"{"prefixes":[{"ip_prefix":["1.0.0.0/8"],"service":"S3","region":"r","network_border_group":"r"}]}"#
        ),
        r#"prefixes[0].ip_prefix: ["1.0.0.0/8"] is not a string"#
    );
}

#[test]
fn error_details_are_reachable() {
    match error(&second_v4("1.2.3.4/24")) {
        Error::InvalidPrefix {
            list,
            index,
            field,
            value,
            ..
        } => {
            assert_eq!((list, index, field), ("prefixes", 1, "ip_prefix"));
            assert_eq!(value, "1.2.3.4/24");
        }
        other => panic!("{other:?}"),
    }
    // serde_json's error is the source.
    let e = error("{");
    assert!(std::error::Error::source(&e).is_some());
}
