//! Classification of every kind, from the hand-written fixtures.

use crate::support::{fixture, interfaces, ip, load, text};

/// (interface id, interface_type, kind, id, name).
type Row = (
    &'static str,
    &'static str,
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
);

/// Every interface of managed.json, written by hand from the classification
/// rules.
const MANAGED: &[Row] = &[
    (
        "eni-0a00000000000nat1",
        "nat_gateway",
        "nat_gateway",
        Some("nat-0a1b2c3d4e5f60001"),
        None,
    ),
    // The SDK model's spelling is normalized; the Name tag names it.
    (
        "eni-0a00000000000nat2",
        "nat_gateway",
        "nat_gateway",
        Some("nat-0a1b2c3d4e5f60002"),
        Some("egress-b"),
    ),
    (
        "eni-0a00000000000nat3",
        "nat_gateway",
        "nat_gateway",
        None,
        None,
    ),
    // An ALB whose InterfaceType says "interface".
    (
        "eni-0a0000000000alb01",
        "interface",
        "load_balancer",
        Some("app/web-alb/50dc6c495c0c9188"),
        Some("web-alb"),
    ),
    (
        "eni-0a0000000000nlb01",
        "network_load_balancer",
        "load_balancer",
        Some("net/api-nlb/0123456789abcdef"),
        Some("api-nlb"),
    ),
    (
        "eni-0a000000000gwlb01",
        "gateway_load_balancer",
        "load_balancer",
        Some("gwy/inspect-gwlb/0fedcba987654321"),
        Some("inspect-gwlb"),
    ),
    (
        "eni-0a000000000clb001",
        "interface",
        "load_balancer",
        Some("legacy-web"),
        Some("legacy-web"),
    ),
    // A function name with dashes, the UUID stripped from the end.
    (
        "eni-0a00000000lambda1",
        "lambda",
        "lambda",
        Some("orders-api-handler"),
        Some("orders-api-handler"),
    ),
    ("eni-0a00000000lambda2", "lambda", "lambda", None, None),
    (
        "eni-0a000000000vpce01",
        "vpc_endpoint",
        "vpc_endpoint",
        Some("vpce-0d8ddce4be80e4474"),
        None,
    ),
    (
        "eni-0a000000000vpce02",
        "interface",
        "vpc_endpoint",
        Some("vpce-0f00567fa8477a1e6"),
        None,
    ),
    (
        "eni-0a00000000gwlbe01",
        "gateway_load_balancer_endpoint",
        "vpc_endpoint",
        Some("vpce-0123abcd4567ef890"),
        None,
    ),
    (
        "eni-0a0000000000ecs01",
        "interface",
        "ecs_task",
        Some("arn:aws:ecs:us-east-1:123456789012:attachment/a1b2c3d4-5678-90ab-cdef-11111EXAMPLE"),
        None,
    ),
    ("eni-0a0000000000rds01", "interface", "rds", None, None),
    (
        "eni-0a0000000000efs01",
        "interface",
        "efs_mount_target",
        Some("fsmt-0123456789abcdef0"),
        None,
    ),
    (
        "eni-0a0000000000eks01",
        "interface",
        "eks",
        Some("prod-cluster"),
        Some("prod-cluster"),
    ),
    (
        "eni-0a000000000cache1",
        "interface",
        "elasticache",
        Some("sessions-redis-0001-001"),
        None,
    ),
    (
        "eni-0a0000000000tgw01",
        "transit_gateway",
        "transit_gateway_attachment",
        Some("tgw-attach-0a1b2c3d4e5f60718"),
        None,
    ),
    (
        "eni-0a000000000web001",
        "interface",
        "ec2_instance",
        Some("i-0a1b2c3d4e5f60001"),
        Some("web-1"),
    ),
    // No description: RequesterId amazon-elb is the hint.
    (
        "eni-0a00000000hintelb",
        "interface",
        "load_balancer",
        None,
        None,
    ),
    ("eni-0a0000000000efa01", "efa", "efa", None, None),
    ("eni-0a000000branch001", "branch", "branch", None, None),
    // No InterfaceType, nothing recognizable, not attached.
    (
        "eni-0a000000000spare1",
        "interface",
        "interface",
        None,
        None,
    ),
];

#[test]
fn every_kind_in_the_managed_fixture() {
    let map = load(&["managed.json"]);
    assert_eq!(map.eni_count(), MANAGED.len());
    for &(interface_id, interface_type, kind, id, name) in MANAGED {
        let r = map
            .lookup_eni(interface_id)
            .unwrap_or_else(|| panic!("{interface_id} missing"));
        assert_eq!(r.interface_id(), interface_id);
        assert_eq!(
            (r.interface_type(), r.kind(), r.id(), r.name()),
            (interface_type, kind, id, name),
            "{interface_id}"
        );
    }
}

#[test]
fn the_table_covers_the_whole_fixture() {
    let ids: Vec<String> = interfaces(&fixture("managed.json"))
        .iter()
        .map(|eni| text(eni, "/NetworkInterfaceId").expect("an id").to_owned())
        .collect();
    let table: Vec<&str> = MANAGED.iter().map(|row| row.0).collect();
    assert_eq!(ids, table);
}

#[test]
fn every_documented_kind_appears() {
    let map = load(&["managed.json"]);
    let kinds: std::collections::BTreeSet<&str> = map.resources().map(|r| r.kind()).collect();
    for kind in [
        enimap::kind::NAT_GATEWAY,
        enimap::kind::LOAD_BALANCER,
        enimap::kind::LAMBDA,
        enimap::kind::VPC_ENDPOINT,
        enimap::kind::ECS_TASK,
        enimap::kind::RDS,
        enimap::kind::EFS_MOUNT_TARGET,
        enimap::kind::EKS,
        enimap::kind::ELASTICACHE,
        enimap::kind::TRANSIT_GATEWAY_ATTACHMENT,
        enimap::kind::EC2_INSTANCE,
    ] {
        assert!(kinds.contains(kind), "{kind} not covered");
    }
}

#[test]
fn instance_id_whenever_attached() {
    let map = load(&["managed.json", "bare-array.json"]);
    let web = map.lookup_eni("eni-0a000000000web001").expect("web");
    assert_eq!(web.instance_id(), Some("i-0a1b2c3d4e5f60001"));
    // An attachment without an instance (service-managed) has none.
    let alb = map.lookup_eni("eni-0a0000000000alb01").expect("alb");
    assert_eq!(alb.instance_id(), None);
    let bare = map.lookup_eni("eni-0b00000000000002").expect("bare");
    assert_eq!(
        (bare.kind(), bare.id(), bare.instance_id()),
        (
            "ec2_instance",
            Some("i-0b00000000000002"),
            Some("i-0b00000000000002")
        )
    );
}

#[test]
fn extra_fields_are_kept() {
    let map = load(&["managed.json"]);
    let lambda = map.lookup_eni("eni-0a00000000lambda1").expect("lambda");
    assert_eq!(
        lambda.requester_id(),
        Some("AROA3XFRBF535EXAMPLE:9d9a0c3c-2f5e-4d4b-9a3e-1f2e3d4c5b6a")
    );
    let nat = map.lookup_eni("eni-0a00000000000nat1").expect("nat");
    assert_eq!(nat.owner_id(), Some("123456789012"));
    assert_eq!(nat.status(), Some("in-use"));
    assert_eq!(nat.addresses(), [ip("10.0.0.10"), ip("203.0.113.10")]);
}

/// Description decides over InterfaceType, and an attached instance only
/// counts when no pattern matched.
#[test]
fn precedence() {
    let mut map = enimap::EniMap::default();
    map.add_json(
        br#"[
            {"NetworkInterfaceId":"eni-1","InterfaceType":"lambda","Description":"ELB app/x/1"},
            {"NetworkInterfaceId":"eni-2","Description":"RDSNetworkInterface","Attachment":{"InstanceId":"i-2"}},
            {"NetworkInterfaceId":"eni-3","InterfaceType":"trunk","Attachment":{"InstanceId":"i-3"}},
            {"NetworkInterfaceId":"eni-4","InterfaceType":"trunk"},
            {"NetworkInterfaceId":"eni-5","RequesterId":"amazon-rds","Attachment":{"InstanceId":"i-5"}},
            {"NetworkInterfaceId":"eni-6","InterfaceType":"interface","Description":"Primary network interface","RequesterId":"AROAEXAMPLE:awslambda_42_20240101"}
        ]"#,
        "p.json",
    )
    .unwrap();
    let kind = |id: &str| map.lookup_eni(id).unwrap().kind().to_owned();
    assert_eq!(kind("eni-1"), "load_balancer");
    assert_eq!(kind("eni-2"), "rds");
    assert_eq!(map.lookup_eni("eni-2").unwrap().instance_id(), Some("i-2"));
    assert_eq!(kind("eni-3"), "ec2_instance");
    assert_eq!(kind("eni-4"), "trunk");
    assert_eq!(kind("eni-5"), "ec2_instance");
    assert_eq!(kind("eni-6"), "lambda");
}
