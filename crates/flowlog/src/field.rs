//! The table of every field AWS defines for VPC and Transit Gateway flow logs.

/// How a field's value is validated and written to JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// An unsigned decimal integer no larger than `max`, written as a JSON number.
    Integer {
        /// Largest accepted value.
        max: u64,
    },
    /// An IPv4 or IPv6 address, validated, written as a JSON string.
    Address,
    /// Anything else, written as a JSON string.
    Text,
}

const U8: FieldKind = FieldKind::Integer {
    max: u8::MAX as u64,
};
const U16: FieldKind = FieldKind::Integer {
    max: u16::MAX as u64,
};
const U32: FieldKind = FieldKind::Integer {
    max: u32::MAX as u64,
};
const U64: FieldKind = FieldKind::Integer { max: u64::MAX };
const ADDR: FieldKind = FieldKind::Address;
const TEXT: FieldKind = FieldKind::Text;

/// A field AWS documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownField {
    /// The AWS name, hyphenated (`account-id`).
    pub name: &'static str,
    /// The flow-log version that introduced it; 6 marks the Transit Gateway fields.
    pub version: u8,
    /// How its value is validated.
    pub kind: FieldKind,
}

const fn f(name: &'static str, version: u8, kind: FieldKind) -> KnownField {
    KnownField {
        name,
        version,
        kind,
    }
}

/// Every known field, VPC versions 2–11 and Transit Gateway (version 6).
pub static KNOWN_FIELDS: &[KnownField] = &[
    // Version 2: the default format.
    f("version", 2, U32),
    f("account-id", 2, TEXT),
    f("interface-id", 2, TEXT),
    f("srcaddr", 2, ADDR),
    f("dstaddr", 2, ADDR),
    f("srcport", 2, U16),
    f("dstport", 2, U16),
    f("protocol", 2, U8),
    f("packets", 2, U64),
    f("bytes", 2, U64),
    f("start", 2, U64),
    f("end", 2, U64),
    f("action", 2, TEXT),
    f("log-status", 2, TEXT),
    // Version 3.
    f("vpc-id", 3, TEXT),
    f("subnet-id", 3, TEXT),
    f("instance-id", 3, TEXT),
    f("tcp-flags", 3, U8),
    f("type", 3, TEXT),
    f("pkt-srcaddr", 3, ADDR),
    f("pkt-dstaddr", 3, ADDR),
    // Version 4.
    f("region", 4, TEXT),
    f("az-id", 4, TEXT),
    f("sublocation-type", 4, TEXT),
    f("sublocation-id", 4, TEXT),
    // Version 5.
    f("pkt-src-aws-service", 5, TEXT),
    f("pkt-dst-aws-service", 5, TEXT),
    f("flow-direction", 5, TEXT),
    f("traffic-path", 5, U8),
    // Version 7: ECS.
    f("ecs-cluster-arn", 7, TEXT),
    f("ecs-cluster-name", 7, TEXT),
    f("ecs-container-instance-arn", 7, TEXT),
    f("ecs-container-instance-id", 7, TEXT),
    f("ecs-container-id", 7, TEXT),
    f("ecs-second-container-id", 7, TEXT),
    f("ecs-service-name", 7, TEXT),
    f("ecs-task-definition-arn", 7, TEXT),
    f("ecs-task-arn", 7, TEXT),
    f("ecs-task-id", 7, TEXT),
    // Version 8.
    f("reject-reason", 8, TEXT),
    // Version 9.
    f("resource-id", 9, TEXT),
    // Version 10.
    f("encryption-status", 10, U8),
    // Version 11.
    f("instance-tag", 11, TEXT),
    f("instance-tag-2", 11, TEXT),
    f("interface-tag", 11, TEXT),
    f("interface-tag-2", 11, TEXT),
    f("asg-tag", 11, TEXT),
    f("asg-tag-2", 11, TEXT),
    f("interface-type", 11, TEXT),
    f("next-hop-interface-id", 11, TEXT),
    f("next-hop-subnet-id", 11, TEXT),
    f("next-hop-az-id", 11, TEXT),
    f("next-hop-vpc-id", 11, TEXT),
    f("next-hop-interface-type", 11, TEXT),
    // Transit Gateway flow logs (version 6).
    f("resource-type", 6, TEXT),
    f("tgw-id", 6, TEXT),
    f("tgw-attachment-id", 6, TEXT),
    f("tgw-src-vpc-account-id", 6, TEXT),
    f("tgw-dst-vpc-account-id", 6, TEXT),
    f("tgw-src-vpc-id", 6, TEXT),
    f("tgw-dst-vpc-id", 6, TEXT),
    f("tgw-src-subnet-id", 6, TEXT),
    f("tgw-dst-subnet-id", 6, TEXT),
    f("tgw-src-eni", 6, TEXT),
    f("tgw-dst-eni", 6, TEXT),
    f("tgw-src-az-id", 6, TEXT),
    f("tgw-dst-az-id", 6, TEXT),
    f("tgw-pair-attachment-id", 6, TEXT),
    f("packets-lost-no-route", 6, U64),
    f("packets-lost-blackhole", 6, U64),
    f("packets-lost-mtu-exceeded", 6, U64),
    f("packets-lost-ttl-expired", 6, U64),
];

/// Looks a field up by its hyphenated AWS name.
pub fn lookup(name: &str) -> Option<&'static KnownField> {
    KNOWN_FIELDS.iter().find(|field| field.name == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_hyphenated() {
        let mut names: Vec<_> = KNOWN_FIELDS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate field in KNOWN_FIELDS");
        for name in names {
            assert!(
                name.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{name}"
            );
        }
    }
}
