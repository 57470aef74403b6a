//! Address and interface lookups: every address kind, input forms, repeated
//! interfaces, overlapping private ranges, delegated prefixes.

use std::collections::HashMap;
use std::net::IpAddr;

use enimap::EniMap;

use crate::support::{addresses_of, fixture, interfaces, ip, load, text};

/// Every address of every fixture interface resolves to that interface
/// (counted independently from the fixture).
#[test]
fn every_address_resolves_to_its_interface() {
    let files = [
        "managed.json",
        "pages.json",
        "bare-array.json",
        "prefixes.json",
        "tags.json",
    ];
    let map = load(&files);
    let mut holders: HashMap<IpAddr, Vec<String>> = HashMap::new();
    let mut enis = 0;
    for file in files {
        for eni in interfaces(&fixture(file)) {
            enis += 1;
            let id = text(&eni, "/NetworkInterfaceId").expect("id").to_owned();
            for a in addresses_of(&eni) {
                holders.entry(a).or_default().push(id.clone());
            }
        }
    }
    assert_eq!(map.eni_count(), enis);
    assert_eq!(map.address_count(), holders.len());
    for (a, ids) in &holders {
        assert_eq!(ids.len(), 1, "{a} is held once in these fixtures");
        let found = map.lookup_ip(*a).unwrap_or_else(|| panic!("{a} not found"));
        assert_eq!(found.interface_id(), ids[0], "{a}");
        assert!(map.eni_holds(&ids[0], *a), "{} holds {a}", ids[0]);
        assert_eq!(
            map.lookup_ip_in(*a, Some("vpc-elsewhere"))
                .map(|r| r.interface_id()),
            Some(ids[0].as_str())
        );
    }
}

#[test]
fn multiple_private_public_and_ipv6_addresses() {
    let map = load(&["managed.json"]);
    let web = "eni-0a000000000web001";
    for a in [
        "10.0.1.80",
        "10.0.1.81",
        "10.0.1.82",
        "198.51.100.80",
        "203.0.113.81",
        "2600:1f18:aaaa:1000::80",
        "2600:1f18:aaaa:1000::81",
        // Another spelling of the same IPv6 address.
        "2600:1f18:aaaa:1000:0:0:0:81",
    ] {
        assert_eq!(
            map.lookup_ip(ip(a)).map(|r| r.interface_id()),
            Some(web),
            "{a}"
        );
        assert!(map.eni_holds(web, ip(a)), "{a}");
    }
    let r = map.lookup_eni(web).expect("web");
    assert_eq!(
        r.addresses(),
        [
            ip("10.0.1.80"),
            ip("198.51.100.80"),
            ip("10.0.1.81"),
            ip("203.0.113.81"),
            ip("10.0.1.82"),
            ip("2600:1f18:aaaa:1000::80"),
            ip("2600:1f18:aaaa:1000::81"),
        ]
    );
    for a in ["10.0.1.83", "2600:1f18:aaaa:1000::82", "198.51.100.81"] {
        assert!(map.lookup_ip(ip(a)).is_none(), "{a}");
        assert!(!map.eni_holds(web, ip(a)), "{a}");
    }
    // NAT gateway public address, ECS task IPv6.
    assert_eq!(
        map.lookup_ip(ip("203.0.113.10")).map(|r| r.kind()),
        Some("nat_gateway")
    );
    assert_eq!(
        map.lookup_ip(ip("2600:1f18:aaaa:5000::50"))
            .map(|r| r.kind()),
        Some("ecs_task")
    );
}

#[test]
fn eni_holds_is_per_interface() {
    let map = load(&["managed.json"]);
    assert!(map.eni_holds("eni-0a00000000000nat1", ip("10.0.0.10")));
    assert!(map.eni_holds("eni-0a00000000000nat1", ip("203.0.113.10")));
    assert!(!map.eni_holds("eni-0a00000000000nat1", ip("10.0.1.80")));
    assert!(!map.eni_holds("eni-unknown", ip("10.0.0.10")));
    assert!(map.lookup_eni("eni-unknown").is_none());
}

#[test]
fn concatenated_pages() {
    let mut map = EniMap::default();
    assert_eq!(
        map.add_json(&fixture("pages.json"), "pages.json").unwrap(),
        5
    );
    assert_eq!(map.eni_count(), 5);
    assert_eq!(map.address_count(), 5);
    for i in 1..=5 {
        let id = format!("eni-0p0000000000000{i}");
        let r = map.lookup_ip(ip(&format!("10.1.0.{i}"))).expect("found");
        assert_eq!(r.interface_id(), id);
        assert_eq!(r.vpc_id(), Some("vpc-0ppp0000000000001"));
    }
    // Pages without whitespace between them, and a bare array among them.
    let joined = br#"{"NetworkInterfaces":[{"NetworkInterfaceId":"eni-x1"}]}{"NetworkInterfaces":[]}[{"NetworkInterfaceId":"eni-x2"}]"#;
    assert_eq!(map.add_json(joined, "joined").unwrap(), 2);
    assert_eq!(map.eni_count(), 7);
}

#[test]
fn bare_array() {
    let mut map = EniMap::default();
    assert_eq!(
        map.add_json(&fixture("bare-array.json"), "bare-array.json")
            .unwrap(),
        2
    );
    let alb = map.lookup_ip(ip("10.2.0.1")).expect("alb");
    assert_eq!(
        (alb.kind(), alb.name()),
        ("load_balancer", Some("internal-alb"))
    );
    assert_eq!(
        map.lookup_ip(ip("10.2.0.2")).map(|r| r.kind()),
        Some("ec2_instance")
    );
    // An empty array is a valid (empty) answer.
    assert_eq!(map.add_json(b"[]", "empty-array").unwrap(), 0);
    assert_eq!(
        map.add_json(br#"{"NetworkInterfaces":[]}"#, "empty-page")
            .unwrap(),
        0
    );
}

#[test]
fn a_repeated_interface_replaces_the_earlier_one() {
    let mut map = EniMap::default();
    assert_eq!(
        map.add_json(&fixture("dup-1.json"), "dup-1.json").unwrap(),
        2
    );
    assert_eq!(map.address_count(), 4);
    let before = map.lookup_ip(ip("10.9.0.2")).expect("before");
    assert_eq!(
        (before.name(), before.description()),
        (Some("old-name"), Some("before"))
    );
    assert_eq!(
        map.add_json(&fixture("dup-2.json"), "dup-2.json").unwrap(),
        1
    );
    assert_eq!(map.eni_count(), 2);
    // 10.9.0.1 stays, 10.9.0.3 arrives; 10.9.0.2 and 198.51.100.9 are gone.
    assert_eq!(map.address_count(), 3);
    for gone in ["10.9.0.2", "198.51.100.9"] {
        assert!(map.lookup_ip(ip(gone)).is_none(), "{gone}");
        assert!(!map.eni_holds("eni-0d00000000000001", ip(gone)), "{gone}");
    }
    for held in ["10.9.0.1", "10.9.0.3"] {
        let r = map.lookup_ip(ip(held)).expect("held");
        assert_eq!(r.interface_id(), "eni-0d00000000000001");
        assert_eq!(
            (r.name(), r.description(), r.kind(), r.instance_id()),
            (
                Some("new-name"),
                Some("after"),
                "ec2_instance",
                Some("i-0d00000000000001")
            )
        );
    }
    // The other interface is untouched.
    assert_eq!(
        map.lookup_ip(ip("10.9.0.20")).map(|r| r.interface_id()),
        Some("eni-0d00000000000002")
    );
    assert_eq!(map.resources().count(), 2);
}

#[test]
fn a_repeated_interface_within_one_file_counts_once() {
    let mut map = EniMap::default();
    let file = br#"[{"NetworkInterfaceId":"eni-r","PrivateIpAddress":"10.0.0.1"}]
                   [{"NetworkInterfaceId":"eni-r","PrivateIpAddress":"10.0.0.2"}]"#;
    assert_eq!(map.add_json(file, "overlap").unwrap(), 1);
    assert_eq!((map.eni_count(), map.address_count()), (1, 1));
    assert!(map.lookup_ip(ip("10.0.0.1")).is_none());
    assert!(map.eni_holds("eni-r", ip("10.0.0.2")));
}

#[test]
fn overlapping_private_addresses_in_two_vpcs() {
    let map = load(&["vpc-a.json", "vpc-b.json"]);
    let shared = ip("10.0.1.10");
    assert_eq!(map.address_count(), 3);
    // Ambiguous without a VPC, or with a VPC that holds neither.
    assert!(map.lookup_ip(shared).is_none());
    assert!(map.lookup_ip_in(shared, None).is_none());
    assert!(
        map.lookup_ip_in(shared, Some("vpc-0ccc0000000000001"))
            .is_none()
    );
    let a = map
        .lookup_ip_in(shared, Some("vpc-0aaa0000000000001"))
        .expect("in a");
    assert_eq!(
        (a.interface_id(), a.name()),
        ("eni-0aaa0000000000001", Some("app-in-a"))
    );
    let b = map
        .lookup_ip_in(shared, Some("vpc-0bbb0000000000001"))
        .expect("in b");
    assert_eq!(
        (b.interface_id(), b.name()),
        ("eni-0bbb0000000000001", Some("app-in-b"))
    );
    // Both hold it, each by its own id.
    assert!(map.eni_holds("eni-0aaa0000000000001", shared));
    assert!(map.eni_holds("eni-0bbb0000000000001", shared));
    let mut holders: Vec<&str> = map
        .holders(shared)
        .iter()
        .map(|r| r.interface_id())
        .collect();
    holders.sort_unstable();
    assert_eq!(holders, ["eni-0aaa0000000000001", "eni-0bbb0000000000001"]);
    // Unique addresses resolve whatever VPC is given.
    for (a, id) in [
        ("10.0.1.11", "eni-0aaa0000000000001"),
        ("10.0.1.12", "eni-0bbb0000000000001"),
    ] {
        assert_eq!(map.lookup_ip(ip(a)).map(|r| r.interface_id()), Some(id));
        assert_eq!(
            map.lookup_ip_in(ip(a), Some("vpc-0bbb0000000000001"))
                .map(|r| r.interface_id()),
            Some(id)
        );
    }
}

#[test]
fn two_holders_in_the_same_vpc_stay_ambiguous() {
    let mut map = load(&["vpc-a.json", "vpc-b.json"]);
    map.add_json(
        br#"[{"NetworkInterfaceId":"eni-0aaa0000000000002","VpcId":"vpc-0aaa0000000000001","PrivateIpAddress":"10.0.1.10"}]"#,
        "stale.json",
    )
    .unwrap();
    let shared = ip("10.0.1.10");
    assert!(
        map.lookup_ip_in(shared, Some("vpc-0aaa0000000000001"))
            .is_none()
    );
    assert_eq!(
        map.lookup_ip_in(shared, Some("vpc-0bbb0000000000001"))
            .map(|r| r.interface_id()),
        Some("eni-0bbb0000000000001")
    );
    assert_eq!(map.holders(shared).len(), 3);
}

#[test]
fn a_holder_moving_away_ends_the_ambiguity() {
    let mut map = load(&["vpc-a.json", "vpc-b.json"]);
    map.add_json(
        br#"[{"NetworkInterfaceId":"eni-0bbb0000000000001","VpcId":"vpc-0bbb0000000000001","PrivateIpAddress":"10.0.1.99"}]"#,
        "moved.json",
    )
    .unwrap();
    assert_eq!(
        map.lookup_ip(ip("10.0.1.10")).map(|r| r.interface_id()),
        Some("eni-0aaa0000000000001")
    );
    assert!(map.lookup_ip(ip("10.0.1.12")).is_none());
    assert_eq!(map.address_count(), 3);
}

#[test]
fn delegated_prefixes() {
    let map = load(&["prefixes.json"]);
    let node = "eni-0e00000000000001";
    assert_eq!((map.address_count(), map.prefix_count()), (2, 3));
    let r = map.lookup_eni(node).expect("node");
    assert_eq!(
        r.prefixes(),
        [
            (ip("10.3.5.16"), 28),
            (ip("10.3.5.48"), 28),
            (ip("2600:1f14:abcd:1234:5678::"), 80)
        ]
    );
    for held in [
        "10.3.5.4",
        "10.3.5.16",
        "10.3.5.20",
        "10.3.5.31",
        "10.3.5.48",
        "10.3.5.63",
        "2600:1f14:abcd:1200::5",
        "2600:1f14:abcd:1234:5678::",
        "2600:1f14:abcd:1234:5678:ffff:ffff:ffff",
    ] {
        assert_eq!(
            map.lookup_ip(ip(held)).map(|r| r.interface_id()),
            Some(node),
            "{held}"
        );
        assert!(map.eni_holds(node, ip(held)), "{held}");
    }
    for not_held in [
        "10.3.5.15",
        "10.3.5.32",
        "10.3.5.47",
        "10.3.5.64",
        "2600:1f14:abcd:1234:5679::",
        "2600:1f14:abcd:1200::6",
    ] {
        assert!(map.lookup_ip(ip(not_held)).is_none(), "{not_held}");
        assert!(!map.eni_holds(node, ip(not_held)), "{not_held}");
    }
}

#[test]
fn prefixes_overlapping_between_vpcs() {
    let mut map = load(&["prefixes.json"]);
    map.add_json(
        br#"[{"NetworkInterfaceId":"eni-other","VpcId":"vpc-other","Ipv4Prefixes":[{"Ipv4Prefix":"10.3.5.16/28"}]},
             {"NetworkInterfaceId":"eni-exact","VpcId":"vpc-third","PrivateIpAddress":"10.3.5.50"}]"#,
        "other.json",
    )
    .unwrap();
    assert!(map.lookup_ip(ip("10.3.5.20")).is_none());
    assert_eq!(
        map.lookup_ip_in(ip("10.3.5.20"), Some("vpc-other"))
            .map(|r| r.interface_id()),
        Some("eni-other")
    );
    assert_eq!(
        map.lookup_ip_in(ip("10.3.5.20"), Some("vpc-0eee0000000000001"))
            .map(|r| r.interface_id()),
        Some("eni-0e00000000000001")
    );
    // An exact address and another VPC's prefix both cover 10.3.5.50.
    assert!(map.lookup_ip(ip("10.3.5.50")).is_none());
    assert_eq!(
        map.lookup_ip_in(ip("10.3.5.50"), Some("vpc-third"))
            .map(|r| r.interface_id()),
        Some("eni-exact")
    );
    assert_eq!(map.holders(ip("10.3.5.50")).len(), 2);
    assert_eq!(map.prefix_count(), 3);
}

#[test]
fn counts_accumulate_over_files() {
    let mut map = EniMap::default();
    assert_eq!(
        map.add_json(&fixture("managed.json"), "managed.json")
            .unwrap(),
        23
    );
    let (enis, addresses) = (map.eni_count(), map.address_count());
    assert_eq!(
        map.add_json(&fixture("pages.json"), "pages.json").unwrap(),
        5
    );
    assert_eq!(map.eni_count(), enis + 5);
    assert_eq!(map.address_count(), addresses + 5);
    // The same file again changes nothing.
    assert_eq!(
        map.add_json(&fixture("pages.json"), "pages.json").unwrap(),
        5
    );
    assert_eq!(
        (map.eni_count(), map.address_count()),
        (enis + 5, addresses + 5)
    );
}
