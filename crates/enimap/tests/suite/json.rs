//! `Resource::json`: key order, values against the fixtures, escaping.

use serde_json::{Value, json};

use crate::support::{Ordered, fixture, interfaces, load, text};

/// The keys json() may have, in their order.
const ORDER: [&str; 12] = [
    "interface_id",
    "interface_type",
    "kind",
    "id",
    "name",
    "instance_id",
    "vpc_id",
    "subnet_id",
    "availability_zone",
    "security_group_ids",
    "tags",
    "description",
];

/// Checks every interface's json() against the fixture's own fields, read
/// with serde_json, and against the accessors.
#[test]
fn values_and_key_order_match_the_fixtures() {
    for file in [
        "managed.json",
        "bare-array.json",
        "pages.json",
        "tags.json",
        "prefixes.json",
        "vpc-a.json",
    ] {
        let map = load(&[file]);
        for eni in interfaces(&fixture(file)) {
            let id = text(&eni, "/NetworkInterfaceId").expect("id");
            let r = map.lookup_eni(id).expect("loaded");
            let got = Ordered::parse(r.json());
            let keys = got.keys();
            // Keys appear in ORDER's order (a subsequence), each once.
            let mut positions = keys
                .iter()
                .map(|k| ORDER.iter().position(|o| o == k).expect("known key"));
            let mut last = None;
            for p in &mut positions {
                assert!(last < Some(p), "{id}: keys out of order: {keys:?}");
                last = Some(p);
            }
            assert_eq!(
                &keys[..3],
                ["interface_id", "interface_type", "kind"],
                "{id}"
            );

            let expect_str = |key: &str, value: Option<&str>| {
                assert_eq!(
                    got.get(key).map(|v| v.as_str().expect("a string")),
                    value,
                    "{id}: {key}"
                );
            };
            expect_str("interface_id", Some(id));
            let interface_type = match text(&eni, "/InterfaceType") {
                None => "interface",
                Some("natGateway") => "nat_gateway",
                Some(t) => t,
            };
            expect_str("interface_type", Some(interface_type));
            expect_str("kind", Some(r.kind()));
            expect_str("id", r.id());
            expect_str("name", r.name());
            expect_str("instance_id", text(&eni, "/Attachment/InstanceId"));
            expect_str("vpc_id", text(&eni, "/VpcId"));
            expect_str("subnet_id", text(&eni, "/SubnetId"));
            expect_str("availability_zone", text(&eni, "/AvailabilityZone"));
            expect_str("description", text(&eni, "/Description"));

            let groups: Vec<Value> = eni["Groups"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|g| g["GroupId"].clone())
                .collect();
            assert_eq!(
                got.get("security_group_ids"),
                (!groups.is_empty())
                    .then_some(Value::Array(groups))
                    .as_ref(),
                "{id}"
            );

            // Tags: every key once, first position, last value.
            let mut tags: Vec<(String, Value)> = Vec::new();
            for tag in eni["TagSet"].as_array().into_iter().flatten() {
                let key = tag["Key"].as_str().expect("key").to_owned();
                match tags.iter_mut().find(|(k, _)| *k == key) {
                    Some(slot) => slot.1 = tag["Value"].clone(),
                    None => tags.push((key, tag["Value"].clone())),
                }
            }
            match got.get("tags") {
                None => assert!(tags.is_empty(), "{id}"),
                Some(object) => {
                    let ordered: Ordered =
                        serde_json::from_value(object.clone()).expect("an object");
                    // serde_json::Value may have sorted the members; compare
                    // the order on the raw text below.
                    let mut expected = tags.clone();
                    expected.sort_by(|a, b| a.0.cmp(&b.0));
                    let mut actual = ordered.0;
                    actual.sort_by(|a, b| a.0.cmp(&b.0));
                    assert_eq!(actual, expected, "{id}");
                    let tag_keys: Vec<String> = raw_tag_keys(r.json());
                    let expected_keys: Vec<String> = tags.iter().map(|(k, _)| k.clone()).collect();
                    assert_eq!(tag_keys, expected_keys, "{id}: tag order");
                }
            }
            // The name: the Name tag, else the pattern's.
            if let Some((_, Value::String(name))) = tags.iter().find(|(k, _)| k == "Name")
                && !name.is_empty()
            {
                assert_eq!(r.name(), Some(name.as_str()), "{id}");
            }
        }
    }
}

/// The tags object's keys in the order they appear in json()'s text.
fn raw_tag_keys(json: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct WithTags {
        tags: Ordered,
    }
    let parsed: WithTags = serde_json::from_str(json).expect("json() has tags");
    parsed.tags.0.into_iter().map(|(k, _)| k).collect()
}

#[test]
fn full_strings_written_by_hand() {
    let map = load(&["managed.json"]);
    let expected = [
        (
            "eni-0a000000000web001",
            r#"{"interface_id":"eni-0a000000000web001","interface_type":"interface","kind":"ec2_instance","id":"i-0a1b2c3d4e5f60001","name":"web-1","instance_id":"i-0a1b2c3d4e5f60001","vpc_id":"vpc-0aaa0000000000001","subnet_id":"subnet-0aaa000000000pub1","availability_zone":"us-east-1a","security_group_ids":["sg-0web00000000000001","sg-0ssh00000000000001"],"tags":{"Name":"web-1","env":"prod"},"description":"Primary network interface"}"#,
        ),
        (
            "eni-0a0000000000alb01",
            r#"{"interface_id":"eni-0a0000000000alb01","interface_type":"interface","kind":"load_balancer","id":"app/web-alb/50dc6c495c0c9188","name":"web-alb","vpc_id":"vpc-0aaa0000000000001","subnet_id":"subnet-0aaa000000000pub1","availability_zone":"us-east-1a","security_group_ids":["sg-0alb0000000000001","sg-0alb0000000000002"],"description":"ELB app/web-alb/50dc6c495c0c9188"}"#,
        ),
        (
            "eni-0a00000000000nat3",
            r#"{"interface_id":"eni-0a00000000000nat3","interface_type":"nat_gateway","kind":"nat_gateway","vpc_id":"vpc-0aaa0000000000001"}"#,
        ),
        (
            "eni-0a000000000spare1",
            r#"{"interface_id":"eni-0a000000000spare1","interface_type":"interface","kind":"interface","vpc_id":"vpc-0aaa0000000000001","description":"my spare eni"}"#,
        ),
    ];
    for (id, json) in expected {
        assert_eq!(map.lookup_eni(id).expect("loaded").json(), json);
    }
}

#[test]
fn escaping_of_quotes_backslashes_controls_and_unicode() {
    let map = load(&["tags.json"]);
    let r = map.lookup_eni("eni-0t00000000000001").expect("loaded");
    let expected = r#"{"interface_id":"eni-0t00000000000001","interface_type":"interface","kind":"interface","name":"café \"quoted\"","vpc_id":"vpc-0ttt0000000000001","security_group_ids":["sg-0t00000000000001"],"tags":{"Name":"café \"quoted\"","team":"red","ünïcödé/日本":"雪 ❄ 😀","ctl":"a\nb\u0001c"},"description":"say \"hi\" \\ back\\slash </script> <LS> tab\there"}"#
        .replace("<LS>", "\u{2028}");
    assert_eq!(r.json(), expected);
    // And it parses back to the original strings.
    let parsed: Value = serde_json::from_str(r.json()).expect("valid JSON");
    assert_eq!(
        parsed["tags"],
        json!({"Name": "café \"quoted\"", "team": "red", "ünïcödé/日本": "雪 ❄ 😀", "ctl": "a\nb\u{1}c"})
    );
    assert_eq!(
        parsed["description"],
        "say \"hi\" \\ back\\slash </script> \u{2028} tab\there"
    );
    assert_eq!(r.tag("team"), Some("red"));
    assert_eq!(r.tags().len(), 4);
    assert_eq!(r.security_group_ids(), ["sg-0t00000000000001"]);
}

#[test]
fn every_json_is_one_compact_line() {
    let map = load(&["managed.json", "tags.json"]);
    for r in map.resources() {
        let json = r.json();
        assert!(json.starts_with('{') && json.ends_with('}'), "{json}");
        assert!(!json.contains('\n'), "{json}");
        let _: Value = serde_json::from_str(json).expect("valid JSON");
    }
}
