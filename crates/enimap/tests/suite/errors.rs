//! Error cases and their messages.

use enimap::{EniMap, Error};

fn error(bytes: &[u8]) -> (Error, String) {
    let mut map = EniMap::default();
    let e = map
        .add_json(bytes, "enis.json")
        .expect_err("the input is bad");
    assert_eq!(map.eni_count(), 0, "a failed file adds nothing");
    let message = e.to_string();
    (e, message)
}

#[test]
fn empty_and_blank_files() {
    for input in [&b""[..], b"   \n\t\n", b"\xEF\xBB\xBF\n"] {
        let (e, message) = error(input);
        assert!(matches!(e, Error::Empty { .. }), "{e:?}");
        assert_eq!(
            message,
            "enis.json: holds no describe-network-interfaces output (it is empty or blank)"
        );
    }
}

#[test]
fn malformed_json_gives_line_and_column() {
    let (e, message) =
        error(b"{\n  \"NetworkInterfaces\": [\n    {\"NetworkInterfaceId\": \"eni-1\",}\n  ]\n}");
    assert!(matches!(e, Error::Json { .. }), "{e:?}");
    assert_eq!(message, "enis.json: trailing comma at line 3 column 36");

    let (_, message) = error(br#"{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-1"}]"#);
    assert_eq!(
        message,
        "enis.json: EOF while parsing an object at line 1 column 53"
    );

    // Garbage after a good document.
    let (_, message) = error(b"{\"NetworkInterfaces\":[]}\ngarbage");
    assert_eq!(message, "enis.json: expected value at line 2 column 1");
}

#[test]
fn wrong_shapes() {
    let (_, message) = error(br#"{"syncToken":"1","prefixes":[]}"#);
    assert_eq!(
        message,
        "enis.json: the object has no \"NetworkInterfaces\" key, so it is not describe-network-interfaces \
         output at line 1 column 31"
    );
    let (_, message) = error(b"\"eni-1\"");
    assert_eq!(
        message,
        "enis.json: invalid type: string \"eni-1\", expected describe-network-interfaces output (an object \
         with a NetworkInterfaces array, or an array of network interfaces) at line 1 column 7"
    );
    let (_, message) = error(br#"{"NetworkInterfaces":{"NetworkInterfaceId":"eni-1"}}"#);
    assert_eq!(
        message,
        "enis.json: invalid type: map, expected a sequence at line 1 column 21"
    );
    let (_, message) = error(br#"[{"NetworkInterfaceId":"eni-1","PrivateIpAddress":10}]"#);
    assert_eq!(
        message,
        "enis.json: invalid type: integer `10`, expected a string at line 1 column 52"
    );
    let (_, message) =
        error(br#"[{"NetworkInterfaceId":"eni-1","TagSet":[{"Key":"a","Value":1}]}]"#);
    assert_eq!(
        message,
        "enis.json: invalid type: integer `1`, expected a string at line 1 column 61"
    );
}

#[test]
fn missing_or_empty_interface_id() {
    let (e, message) = error(br#"{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-1"},{"PrivateIpAddress":"10.0.0.1"}]}"#);
    assert!(
        matches!(
            e,
            Error::MissingId {
                index: 1,
                document: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        message,
        "enis.json: NetworkInterfaces[1]: NetworkInterfaceId is missing or empty"
    );
    let (_, message) = error(br#"[{"NetworkInterfaceId":""}]"#);
    assert_eq!(
        message,
        "enis.json: NetworkInterfaces[0]: NetworkInterfaceId is missing or empty"
    );
    let (_, message) = error(br#"[{"NetworkInterfaceId":null}]"#);
    assert_eq!(
        message,
        "enis.json: NetworkInterfaces[0]: NetworkInterfaceId is missing or empty"
    );
}

#[test]
fn bad_addresses_name_the_interface_field_and_value() {
    let (e, message) = error(
        br#"{"NetworkInterfaces":[
            {"NetworkInterfaceId":"eni-0"},{"NetworkInterfaceId":"eni-1"},{"NetworkInterfaceId":"eni-2"},
            {"NetworkInterfaceId":"eni-0abc","PrivateIpAddresses":[{"PrivateIpAddress":"10.0.0.1"},{"PrivateIpAddress":"10.0.0.300"}]}]}"#,
    );
    match &e {
        Error::BadValue(bad) => {
            assert_eq!(
                **bad,
                enimap::BadValue {
                    file: "enis.json".to_owned(),
                    document: 1,
                    index: 3,
                    interface_id: "eni-0abc".to_owned(),
                    field: "PrivateIpAddresses[1].PrivateIpAddress".to_owned(),
                    value: "10.0.0.300".to_owned(),
                    expected: "an IP address",
                }
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        message,
        r#"enis.json: NetworkInterfaces[3] (eni-0abc): PrivateIpAddresses[1].PrivateIpAddress: "10.0.0.300" is not an IP address"#
    );

    let cases: [(&[u8], &str); 7] = [
        (
            br#"[{"NetworkInterfaceId":"eni-1","PrivateIpAddress":"10.0.0"}]"#,
            r#"PrivateIpAddress: "10.0.0" is not an IP address"#,
        ),
        (
            br#"[{"NetworkInterfaceId":"eni-1","Association":{"PublicIp":"203.0.113.x"}}]"#,
            r#"Association.PublicIp: "203.0.113.x" is not an IP address"#,
        ),
        (
            br#"[{"NetworkInterfaceId":"eni-1","PrivateIpAddresses":[{"Association":{"PublicIp":" 1.2.3.4"}}]}]"#,
            r#"PrivateIpAddresses[0].Association.PublicIp: " 1.2.3.4" is not an IP address"#,
        ),
        (
            br#"[{"NetworkInterfaceId":"eni-1","Ipv6Addresses":[{"Ipv6Address":"2600::1"},{"Ipv6Address":"2600:::1"}]}]"#,
            r#"Ipv6Addresses[1].Ipv6Address: "2600:::1" is not an IP address"#,
        ),
        (
            br#"[{"NetworkInterfaceId":"eni-1","Ipv6Address":"fe80::1%eth0"}]"#,
            r#"Ipv6Address: "fe80::1%eth0" is not an IP address"#,
        ),
        (
            br#"[{"NetworkInterfaceId":"eni-1","Ipv4Prefixes":[{"Ipv4Prefix":"10.0.0.16/33"}]}]"#,
            r#"Ipv4Prefixes[0].Ipv4Prefix: "10.0.0.16/33" is not an IPv4 prefix (a.b.c.d/len)"#,
        ),
        (
            br#"[{"NetworkInterfaceId":"eni-1","Ipv6Prefixes":[{"Ipv6Prefix":"10.0.0.0/80"}]}]"#,
            r#"Ipv6Prefixes[0].Ipv6Prefix: "10.0.0.0/80" is not an IPv6 prefix (x:x::/len)"#,
        ),
    ];
    for (input, tail) in cases {
        let (_, message) = error(input);
        assert_eq!(
            message,
            format!("enis.json: NetworkInterfaces[0] (eni-1): {tail}")
        );
    }
}

#[test]
fn errors_in_later_documents_name_the_document() {
    let (e, message) = error(
        br#"{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-1"}]}
            {"NetworkInterfaces":[{"NetworkInterfaceId":"eni-2"},{"NetworkInterfaceId":"eni-3","PrivateIpAddress":"bogus"}]}"#,
    );
    assert!(
        matches!(&e, Error::BadValue(bad) if bad.document == 2 && bad.index == 1),
        "{e:?}"
    );
    assert_eq!(
        message,
        r#"enis.json: document 2: NetworkInterfaces[1] (eni-3): PrivateIpAddress: "bogus" is not an IP address"#
    );
    let (_, message) = error(br#"[] [{"VpcId":"vpc-1"}]"#);
    assert_eq!(
        message,
        "enis.json: document 2: NetworkInterfaces[0]: NetworkInterfaceId is missing or empty"
    );
}

#[test]
fn a_failed_file_leaves_the_map_as_it_was() {
    let mut map = EniMap::default();
    map.add_json(
        br#"[{"NetworkInterfaceId":"eni-1","PrivateIpAddress":"10.0.0.1"}]"#,
        "good.json",
    )
    .unwrap();
    let bad = br#"[{"NetworkInterfaceId":"eni-1","PrivateIpAddress":"10.0.0.2"},{"NetworkInterfaceId":"eni-2","PrivateIpAddress":"nope"}]"#;
    let e = map.add_json(bad, "bad.json").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("bad.json: NetworkInterfaces[1] (eni-2): "),
        "{e}"
    );
    assert_eq!((map.eni_count(), map.address_count()), (1, 1));
    assert!(map.eni_holds("eni-1", "10.0.0.1".parse().unwrap()));
}

#[test]
fn errors_have_a_json_source() {
    use std::error::Error as _;
    let (e, _) = error(b"[");
    assert!(e.source().is_some());
    let (e, _) = error(b"[{}]");
    assert!(e.source().is_none());
}
