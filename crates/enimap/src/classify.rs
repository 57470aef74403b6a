//! What resource an interface belongs to, from its `Description`,
//! `InterfaceType`, attachment and requester (rules in the crate docs).

use crate::kind;

/// The facts classification reads.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Facts<'a> {
    /// The normalized `InterfaceType` (`interface` when absent).
    pub interface_type: &'a str,
    pub description: Option<&'a str>,
    pub requester_id: Option<&'a str>,
    /// `Attachment.InstanceOwnerId`.
    pub instance_owner_id: Option<&'a str>,
    /// `Attachment.InstanceId`.
    pub instance_id: Option<&'a str>,
}

/// `kind`, `id` and the name the pattern gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Class {
    pub kind: String,
    pub id: Option<String>,
    pub name: Option<String>,
}

impl Class {
    fn new(kind: &str, id: Option<&str>, name: Option<&str>) -> Class {
        Class {
            kind: kind.to_owned(),
            id: id.filter(|s| !s.is_empty()).map(str::to_owned),
            name: name.filter(|s| !s.is_empty()).map(str::to_owned),
        }
    }
}

/// `InterfaceType` as reported, except the SDK model's `natGateway` becomes
/// `nat_gateway`, and a missing (or empty) one is `interface`.
pub(crate) fn normalize_type(interface_type: Option<&str>) -> &str {
    match interface_type {
        None | Some("") => "interface",
        Some("natGateway") => "nat_gateway",
        Some(other) => other,
    }
}

/// Classifies one interface.
pub(crate) fn classify(facts: &Facts<'_>) -> Class {
    if let Some(class) = facts.description.and_then(by_description) {
        return class;
    }
    if let Some(kind) = by_type(facts.interface_type) {
        return Class::new(kind, None, None);
    }
    if let Some(instance) = facts.instance_id.filter(|s| !s.is_empty()) {
        return Class::new(kind::EC2_INSTANCE, Some(instance), None);
    }
    if let Some(kind) = by_requester(facts.requester_id, facts.instance_owner_id) {
        return Class::new(kind, None, None);
    }
    Class::new(facts.interface_type, None, None)
}

/// The description patterns; `None` when none matches.
fn by_description(description: &str) -> Option<Class> {
    let d = description.trim();
    if let Some(rest) = after(d, "Interface for NAT Gateway") {
        return Some(Class::new(kind::NAT_GATEWAY, first_token(rest), None));
    }
    if let Some(rest) = d.strip_prefix("ELB ") {
        return load_balancer(rest.trim());
    }
    if let Some(rest) = d.strip_prefix("AWS Lambda VPC ENI") {
        return lambda(rest);
    }
    if let Some(rest) = after(d, "VPC Endpoint Interface") {
        return Some(Class::new(kind::VPC_ENDPOINT, first_token(rest), None));
    }
    if is_ecs_attachment(d) {
        return Some(Class::new(kind::ECS_TASK, Some(d), None));
    }
    if d.starts_with("RDSNetworkInterface") {
        return Some(Class::new(kind::RDS, None, None));
    }
    if let Some(rest) = after(d, "EFS mount target for") {
        return Some(Class::new(kind::EFS_MOUNT_TARGET, efs_id(rest), None));
    }
    if let Some(rest) = after(d, "Amazon EKS") {
        let cluster = Some(rest).filter(|s| !s.is_empty());
        return Some(Class::new(kind::EKS, cluster, cluster));
    }
    if let Some(rest) = after(d, "ElastiCache") {
        return Some(Class::new(kind::ELASTICACHE, Some(rest), None));
    }
    if let Some(rest) = after(d, "Network Interface for Transit Gateway Attachment") {
        return Some(Class::new(
            kind::TRANSIT_GATEWAY_ATTACHMENT,
            first_token(rest),
            None,
        ));
    }
    None
}

/// The text after `prefix`, when `prefix` is followed by the end, a space or
/// a colon; leading colons and spaces are skipped.
fn after<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = text.strip_prefix(prefix)?;
    if rest.is_empty() || rest.starts_with(|c: char| c == ':' || c.is_whitespace()) {
        Some(
            rest.trim_start_matches(|c: char| c == ':' || c.is_whitespace())
                .trim_end(),
        )
    } else {
        None
    }
}

fn first_token(text: &str) -> Option<&str> {
    text.split_whitespace().next()
}

/// `app/NAME/ID`, `net/NAME/ID`, `gwy/NAME/ID`, or a classic `NAME`.
fn load_balancer(rest: &str) -> Option<Class> {
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return None;
    }
    let mut parts = rest.split('/');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some("app" | "net" | "gwy"), Some(name), Some(id), None)
            if !name.is_empty() && !id.is_empty() =>
        {
            Some(Class::new(kind::LOAD_BALANCER, Some(rest), Some(name)))
        }
        (Some(_), None, ..) => Some(Class::new(kind::LOAD_BALANCER, Some(rest), Some(rest))),
        _ => None,
    }
}

/// After `AWS Lambda VPC ENI`: `-FUNCTION-UUID`, `-FUNCTION`, `: FUNCTION`,
/// or nothing.
fn lambda(rest: &str) -> Option<Class> {
    let function = if rest.is_empty() {
        ""
    } else if let Some(named) = rest.strip_prefix('-') {
        named.trim()
    } else if rest.starts_with(|c: char| c == ':' || c.is_whitespace()) {
        rest.trim_start_matches(|c: char| c == ':' || c.is_whitespace())
            .trim_end()
    } else {
        return None;
    };
    let function = strip_uuid(function);
    let function = Some(function).filter(|f| !f.is_empty());
    Some(Class::new(kind::LAMBDA, function, function))
}

/// `NAME-UUID` → `NAME`; a bare UUID → ``; anything else unchanged.
fn strip_uuid(text: &str) -> &str {
    let n = text.len();
    if n >= 36 && is_uuid(&text.as_bytes()[n - 36..]) {
        if n == 36 {
            return "";
        }
        if text.as_bytes()[n - 37] == b'-' {
            return &text[..n - 37];
        }
    }
    text
}

/// 8-4-4-4-12 hexadecimal digits.
fn is_uuid(bytes: &[u8]) -> bool {
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, &b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

/// `arn:PARTITION:ecs:REGION:ACCOUNT:attachment/ID`.
fn is_ecs_attachment(text: &str) -> bool {
    let mut parts = text.splitn(6, ':');
    parts.next() == Some("arn")
        && parts.next().is_some_and(|p| p.starts_with("aws"))
        && parts.next() == Some("ecs")
        && parts.next().is_some()
        && parts.next().is_some()
        && parts
            .next()
            .and_then(|r| r.strip_prefix("attachment/"))
            .is_some_and(|id| !id.is_empty() && !id.contains(char::is_whitespace))
}

/// The mount target id (`fsmt-…`), else the file system id (`fs-…`).
fn efs_id(rest: &str) -> Option<&str> {
    let tokens = || {
        rest.split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | ',' | ';'))
            .filter(|t| !t.is_empty())
    };
    tokens()
        .find(|t| t.starts_with("fsmt-"))
        .or_else(|| tokens().find(|t| t.starts_with("fs-")))
}

/// `InterfaceType`s that name a kind by themselves.
fn by_type(interface_type: &str) -> Option<&'static str> {
    Some(match interface_type {
        "nat_gateway" => kind::NAT_GATEWAY,
        "lambda" => kind::LAMBDA,
        "load_balancer" | "network_load_balancer" | "gateway_load_balancer" => kind::LOAD_BALANCER,
        "vpc_endpoint" | "gateway_load_balancer_endpoint" => kind::VPC_ENDPOINT,
        "transit_gateway" => kind::TRANSIT_GATEWAY_ATTACHMENT,
        _ => return None,
    })
}

/// The service principals in `RequesterId` / `Attachment.InstanceOwnerId`.
fn by_requester(
    requester_id: Option<&str>,
    instance_owner_id: Option<&str>,
) -> Option<&'static str> {
    [requester_id, instance_owner_id]
        .into_iter()
        .flatten()
        .find_map(|who| {
            Some(match who {
                "amazon-elb" => kind::LOAD_BALANCER,
                "amazon-rds" => kind::RDS,
                "amazon-elasticache" => kind::ELASTICACHE,
                "amazon-redshift" => kind::REDSHIFT,
                // An assumed role's session; Lambda's are `awslambda_…`.
                _ if who
                    .split_once(':')
                    .is_some_and(|(_, session)| session.starts_with("awslambda_")) =>
                {
                    kind::LAMBDA
                }
                _ => return None,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn desc(description: &str) -> (String, Option<String>, Option<String>) {
        let class = classify(&Facts {
            interface_type: "interface",
            description: Some(description),
            ..Facts::default()
        });
        (class.kind, class.id, class.name)
    }

    fn t(
        kind: &str,
        id: Option<&str>,
        name: Option<&str>,
    ) -> (String, Option<String>, Option<String>) {
        (
            kind.to_owned(),
            id.map(str::to_owned),
            name.map(str::to_owned),
        )
    }

    #[test]
    fn description_patterns() {
        let cases = [
            (
                "Interface for NAT Gateway nat-0a1b2c3d4e5f60789",
                t("nat_gateway", Some("nat-0a1b2c3d4e5f60789"), None),
            ),
            ("Interface for NAT Gateway", t("nat_gateway", None, None)),
            (
                "ELB app/my-alb/50dc6c495c0c9188",
                t(
                    "load_balancer",
                    Some("app/my-alb/50dc6c495c0c9188"),
                    Some("my-alb"),
                ),
            ),
            (
                "ELB net/my-nlb/0123abcd",
                t("load_balancer", Some("net/my-nlb/0123abcd"), Some("my-nlb")),
            ),
            (
                "ELB gwy/my-gwlb/0123abcd",
                t(
                    "load_balancer",
                    Some("gwy/my-gwlb/0123abcd"),
                    Some("my-gwlb"),
                ),
            ),
            (
                "ELB my-classic-lb",
                t(
                    "load_balancer",
                    Some("my-classic-lb"),
                    Some("my-classic-lb"),
                ),
            ),
            (
                "AWS Lambda VPC ENI-my-func-name-1a2b3c4d-1111-2222-3333-aaaabbbbcccc",
                t("lambda", Some("my-func-name"), Some("my-func-name")),
            ),
            (
                "AWS Lambda VPC ENI-SendSummaryEmail",
                t("lambda", Some("SendSummaryEmail"), Some("SendSummaryEmail")),
            ),
            (
                "AWS Lambda VPC ENI: my-fn",
                t("lambda", Some("my-fn"), Some("my-fn")),
            ),
            ("AWS Lambda VPC ENI", t("lambda", None, None)),
            (
                "AWS Lambda VPC ENI-1A2B3C4D-1111-2222-3333-AAAABBBBCCCC",
                t("lambda", None, None),
            ),
            (
                "VPC Endpoint Interface vpce-0d8ddce4be80e4474",
                t("vpc_endpoint", Some("vpce-0d8ddce4be80e4474"), None),
            ),
            (
                "VPC Endpoint Interface: vpce-0f00567fa8477a1e6",
                t("vpc_endpoint", Some("vpce-0f00567fa8477a1e6"), None),
            ),
            (
                "arn:aws:ecs:us-east-1:123456789012:attachment/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
                t(
                    "ecs_task",
                    Some(
                        "arn:aws:ecs:us-east-1:123456789012:attachment/a1b2c3d4-5678-90ab-cdef-EXAMPLE11111",
                    ),
                    None,
                ),
            ),
            ("RDSNetworkInterface", t("rds", None, None)),
            (
                "EFS mount target for fsmt-0123abcd",
                t("efs_mount_target", Some("fsmt-0123abcd"), None),
            ),
            (
                "EFS mount target for fs-0123 (fsmt-0456)",
                t("efs_mount_target", Some("fsmt-0456"), None),
            ),
            (
                "EFS mount target for fs-0123",
                t("efs_mount_target", Some("fs-0123"), None),
            ),
            (
                "Amazon EKS prod-cluster",
                t("eks", Some("prod-cluster"), Some("prod-cluster")),
            ),
            (
                "ElastiCache my-redis-0001-001",
                t("elasticache", Some("my-redis-0001-001"), None),
            ),
            (
                "Network Interface for Transit Gateway Attachment tgw-attach-0123abcd",
                t(
                    "transit_gateway_attachment",
                    Some("tgw-attach-0123abcd"),
                    None,
                ),
            ),
        ];
        for (description, expected) in cases {
            assert_eq!(desc(description), expected, "{description}");
        }
    }

    #[test]
    fn near_misses_are_not_patterns() {
        for description in [
            "ELB",
            "ELB app/only-two",
            "ELB a b",
            "ELBow",
            "AWS Lambda VPC ENIx",
            "VPC Endpoint Interfaces",
            "arn:aws:ecs:us-east-1:123456789012:task/abc",
            "arn:aws:ec2:us-east-1:123456789012:attachment/abc",
            "Amazon EKSfoo",
            "Primary network interface",
        ] {
            assert_eq!(
                desc(description),
                t("interface", None, None),
                "{description}"
            );
        }
    }

    #[test]
    fn fallbacks() {
        let class = |interface_type, requester_id, instance_owner_id, instance_id| {
            classify(&Facts {
                interface_type,
                description: None,
                requester_id,
                instance_owner_id,
                instance_id,
            })
            .kind
        };
        assert_eq!(class("nat_gateway", None, None, None), "nat_gateway");
        assert_eq!(class("lambda", None, None, None), "lambda");
        assert_eq!(
            class("network_load_balancer", None, None, None),
            "load_balancer"
        );
        assert_eq!(
            class("gateway_load_balancer_endpoint", None, None, None),
            "vpc_endpoint"
        );
        assert_eq!(
            class("transit_gateway", None, None, None),
            "transit_gateway_attachment"
        );
        assert_eq!(class("interface", None, None, Some("i-1")), "ec2_instance");
        assert_eq!(class("efa", None, None, Some("i-1")), "ec2_instance");
        assert_eq!(
            class("interface", Some("amazon-elb"), None, None),
            "load_balancer"
        );
        assert_eq!(class("interface", None, Some("amazon-rds"), None), "rds");
        assert_eq!(
            class("interface", Some("amazon-elasticache"), None, None),
            "elasticache"
        );
        assert_eq!(
            class("interface", Some("amazon-redshift"), None, None),
            "redshift"
        );
        assert_eq!(
            class(
                "interface",
                Some("AROAEXAMPLE:awslambda_123_456"),
                None,
                None
            ),
            "lambda"
        );
        assert_eq!(
            class("interface", Some("AROAEXAMPLE:i-0123"), None, None),
            "interface"
        );
        assert_eq!(
            class("interface", Some("123456789012"), Some("amazon-aws"), None),
            "interface"
        );
        assert_eq!(class("quicksight", None, None, None), "quicksight");
    }

    #[test]
    fn description_decides_over_type_and_instance() {
        let class = classify(&Facts {
            interface_type: "lambda",
            description: Some("ELB app/a/b"),
            instance_id: Some("i-1"),
            ..Facts::default()
        });
        assert_eq!(class.kind, "load_balancer");
    }

    #[test]
    fn type_normalization() {
        assert_eq!(normalize_type(None), "interface");
        assert_eq!(normalize_type(Some("")), "interface");
        assert_eq!(normalize_type(Some("natGateway")), "nat_gateway");
        assert_eq!(normalize_type(Some("nat_gateway")), "nat_gateway");
        assert_eq!(normalize_type(Some("efa-only")), "efa-only");
    }

    #[test]
    fn uuid_stripping() {
        assert_eq!(
            strip_uuid("a-b-c-12345678-1234-1234-1234-123456789abc"),
            "a-b-c"
        );
        assert_eq!(
            strip_uuid("x12345678-1234-1234-1234-123456789abc"),
            "x12345678-1234-1234-1234-123456789abc"
        );
        assert_eq!(
            strip_uuid("fn-12345678-1234-1234-1234-123456789abg"),
            "fn-12345678-1234-1234-1234-123456789abg"
        );
        assert_eq!(strip_uuid("fn"), "fn");
    }
}
