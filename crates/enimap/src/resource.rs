//! One network interface and the resource behind it.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};

use crate::Error;
use crate::classify::{Facts, classify, normalize_type};
use crate::error::BadValue;
use crate::parse::RawEni;

/// The AWS resource behind one network interface (ENI), as classified from
/// its describe-network-interfaces entry (see the crate docs), with the
/// addresses and delegated prefixes it holds and a pre-rendered JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    interface_id: String,
    interface_type: String,
    kind: String,
    id: Option<String>,
    name: Option<String>,
    instance_id: Option<String>,
    vpc_id: Option<String>,
    subnet_id: Option<String>,
    availability_zone: Option<String>,
    security_group_ids: Vec<String>,
    tags: Vec<(String, String)>,
    description: Option<String>,
    requester_id: Option<String>,
    owner_id: Option<String>,
    status: Option<String>,
    addresses: Vec<IpAddr>,
    prefixes: Vec<(IpAddr, u8)>,
    json: String,
}

impl Resource {
    /// `NetworkInterfaceId`, e.g. `eni-0123456789abcdef0`.
    pub fn interface_id(&self) -> &str {
        &self.interface_id
    }

    /// `InterfaceType` as the API returned it (the SDK model's `natGateway`
    /// normalized to `nat_gateway`); `interface` when it was missing.
    pub fn interface_type(&self) -> &str {
        &self.interface_type
    }

    /// What the interface belongs to: one of the [`crate::kind`] constants,
    /// else the normalized `InterfaceType`.
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The resource's id, when the classification yields one (e.g.
    /// `nat-…`, `app/NAME/ID`, a function name, `vpce-…`, an instance id).
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The interface's `Name` tag, else the name the description gives
    /// (load balancer, Lambda function, EKS cluster).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// `Attachment.InstanceId`.
    pub fn instance_id(&self) -> Option<&str> {
        self.instance_id.as_deref()
    }

    /// `VpcId`.
    pub fn vpc_id(&self) -> Option<&str> {
        self.vpc_id.as_deref()
    }

    /// `SubnetId`.
    pub fn subnet_id(&self) -> Option<&str> {
        self.subnet_id.as_deref()
    }

    /// `AvailabilityZone`.
    pub fn availability_zone(&self) -> Option<&str> {
        self.availability_zone.as_deref()
    }

    /// `Groups[].GroupId`, in input order.
    pub fn security_group_ids(&self) -> &[String] {
        &self.security_group_ids
    }

    /// `TagSet` as (key, value) pairs in input order, one per key (on a
    /// repeated key the last value wins, at the first one's position).
    pub fn tags(&self) -> &[(String, String)] {
        &self.tags
    }

    /// The value of tag `key`.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `Description`.
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }

    /// `RequesterId` (not in [`Resource::json`]).
    pub fn requester_id(&self) -> Option<&str> {
        self.requester_id.as_deref()
    }

    /// `OwnerId` (not in [`Resource::json`]).
    pub fn owner_id(&self) -> Option<&str> {
        self.owner_id.as_deref()
    }

    /// `Status` (not in [`Resource::json`]).
    pub fn status(&self) -> Option<&str> {
        self.status.as_deref()
    }

    /// Every address indexed for this interface, without repeats, in this
    /// order: `PrivateIpAddress`, each `PrivateIpAddresses[]` entry's private
    /// then associated address(es), `Association`'s address(es),
    /// `Ipv6Address`, `Ipv6Addresses[]`.
    pub fn addresses(&self) -> &[IpAddr] {
        &self.addresses
    }

    /// The delegated prefixes (`Ipv4Prefixes`, `Ipv6Prefixes`) as (network
    /// address, prefix length).
    pub fn prefixes(&self) -> &[(IpAddr, u8)] {
        &self.prefixes
    }

    /// Whether `ip` is one of [`Resource::addresses`] or inside one of
    /// [`Resource::prefixes`].
    pub fn holds(&self, ip: IpAddr) -> bool {
        // By the bits of one family: derived IpAddr equality is slow in
        // the guest, and this runs for both ends of every record.
        let listed = match ip {
            IpAddr::V4(ip) => {
                let bits = ip.to_bits();
                self.addresses
                    .iter()
                    .any(|a| matches!(a, IpAddr::V4(a) if a.to_bits() == bits))
            }
            IpAddr::V6(ip) => {
                let bits = ip.to_bits();
                self.addresses
                    .iter()
                    .any(|a| matches!(a, IpAddr::V6(a) if a.to_bits() == bits))
            }
        };
        listed
            || self
                .prefixes
                .iter()
                .any(|&(net, len)| in_prefix(ip, net, len))
    }

    /// The resource as a compact JSON object, keys in this order, each only
    /// when it has a value: `interface_id`, `interface_type`, `kind`, `id`,
    /// `name`, `instance_id`, `vpc_id`, `subnet_id`, `availability_zone`,
    /// `security_group_ids` (array), `tags` (object), `description`.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// Builds the resource from one raw interface.
    pub(crate) fn from_raw(raw: RawEni, at: &Position<'_>) -> Result<Resource, Error> {
        let interface_id = match raw.network_interface_id {
            Some(id) if !id.is_empty() => id,
            _ => {
                return Err(Error::MissingId {
                    file: at.file.to_owned(),
                    document: at.document,
                    index: at.index,
                });
            }
        };
        let bad = |field: String, value: &str, expected: &'static str| {
            Error::BadValue(Box::new(BadValue {
                file: at.file.to_owned(),
                document: at.document,
                index: at.index,
                interface_id: interface_id.clone(),
                field,
                value: value.to_owned(),
                expected,
            }))
        };

        let mut addresses = Vec::new();
        let mut add = |field: &dyn Fn() -> String, value: Option<&str>| -> Result<(), Error> {
            let Some(value) = value.filter(|v| !v.is_empty()) else {
                return Ok(());
            };
            let ip = value
                .parse::<IpAddr>()
                .map_err(|_| bad(field(), value, "an IP address"))?;
            if !addresses.contains(&ip) {
                addresses.push(ip);
            }
            Ok(())
        };
        add(
            &|| "PrivateIpAddress".to_owned(),
            raw.private_ip_address.as_deref(),
        )?;
        for (i, private) in raw.private_ip_addresses.iter().flatten().enumerate() {
            let path = format!("PrivateIpAddresses[{i}]");
            add(
                &|| format!("{path}.PrivateIpAddress"),
                private.private_ip_address.as_deref(),
            )?;
            if let Some(association) = &private.association {
                add(
                    &|| format!("{path}.Association.PublicIp"),
                    association.public_ip.as_deref(),
                )?;
                add(
                    &|| format!("{path}.Association.CarrierIp"),
                    association.carrier_ip.as_deref(),
                )?;
                add(
                    &|| format!("{path}.Association.CustomerOwnedIp"),
                    association.customer_owned_ip.as_deref(),
                )?;
            }
        }
        if let Some(association) = &raw.association {
            add(
                &|| "Association.PublicIp".to_owned(),
                association.public_ip.as_deref(),
            )?;
            add(
                &|| "Association.CarrierIp".to_owned(),
                association.carrier_ip.as_deref(),
            )?;
            add(
                &|| "Association.CustomerOwnedIp".to_owned(),
                association.customer_owned_ip.as_deref(),
            )?;
        }
        add(&|| "Ipv6Address".to_owned(), raw.ipv6_address.as_deref())?;
        for (i, v6) in raw.ipv6_addresses.iter().flatten().enumerate() {
            add(
                &|| format!("Ipv6Addresses[{i}].Ipv6Address"),
                v6.ipv6_address.as_deref(),
            )?;
        }

        let mut prefixes = Vec::new();
        for (i, p) in raw.ipv4_prefixes.iter().flatten().enumerate() {
            if let Some(text) = p.ipv4_prefix.as_deref().filter(|v| !v.is_empty()) {
                let prefix = parse_prefix(text, false).ok_or_else(|| {
                    bad(
                        format!("Ipv4Prefixes[{i}].Ipv4Prefix"),
                        text,
                        "an IPv4 prefix (a.b.c.d/len)",
                    )
                })?;
                if !prefixes.contains(&prefix) {
                    prefixes.push(prefix);
                }
            }
        }
        for (i, p) in raw.ipv6_prefixes.iter().flatten().enumerate() {
            if let Some(text) = p.ipv6_prefix.as_deref().filter(|v| !v.is_empty()) {
                let prefix = parse_prefix(text, true).ok_or_else(|| {
                    bad(
                        format!("Ipv6Prefixes[{i}].Ipv6Prefix"),
                        text,
                        "an IPv6 prefix (x:x::/len)",
                    )
                })?;
                if !prefixes.contains(&prefix) {
                    prefixes.push(prefix);
                }
            }
        }

        let mut tags: Vec<(String, String)> = Vec::new();
        for tag in raw.tag_set.into_iter().flatten() {
            let Some(key) = tag.key else { continue };
            let value = tag.value.unwrap_or_default();
            match tags.iter_mut().find(|(k, _)| *k == key) {
                Some(slot) => slot.1 = value,
                None => tags.push((key, value)),
            }
        }
        let security_group_ids: Vec<String> = raw
            .groups
            .into_iter()
            .flatten()
            .filter_map(|g| g.group_id.filter(|id| !id.is_empty()))
            .collect();

        let present = |s: Option<String>| s.filter(|s| !s.is_empty());
        let description = present(raw.description);
        let requester_id = present(raw.requester_id);
        let (instance_id, instance_owner_id) = match raw.attachment {
            Some(a) => (present(a.instance_id), present(a.instance_owner_id)),
            None => (None, None),
        };
        let interface_type = normalize_type(raw.interface_type.as_deref()).to_owned();
        let class = classify(&Facts {
            interface_type: &interface_type,
            description: description.as_deref(),
            requester_id: requester_id.as_deref(),
            instance_owner_id: instance_owner_id.as_deref(),
            instance_id: instance_id.as_deref(),
        });
        let name = tags
            .iter()
            .find(|(k, v)| k == "Name" && !v.is_empty())
            .map(|(_, v)| v.clone())
            .or(class.name);

        let mut resource = Resource {
            interface_id,
            interface_type,
            kind: class.kind,
            id: class.id,
            name,
            instance_id,
            vpc_id: present(raw.vpc_id),
            subnet_id: present(raw.subnet_id),
            availability_zone: present(raw.availability_zone),
            security_group_ids,
            tags,
            description,
            requester_id,
            owner_id: present(raw.owner_id),
            status: present(raw.status),
            addresses,
            prefixes,
            json: String::new(),
        };
        resource.json =
            serde_json::to_string(&View(&resource)).map_err(|source| Error::Render {
                file: at.file.to_owned(),
                interface_id: resource.interface_id.clone(),
                source,
            })?;
        Ok(resource)
    }
}

/// Where an interface sits in its file, for error messages.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Position<'a> {
    pub file: &'a str,
    /// 1-based.
    pub document: usize,
    /// 0-based, within the document.
    pub index: usize,
}

/// `ADDRESS/LEN` of the given family, masked to its network address.
fn parse_prefix(text: &str, v6: bool) -> Option<(IpAddr, u8)> {
    let (address, len) = text.split_once('/')?;
    if len.is_empty() || len.len() > 3 || !len.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let len: u8 = len.parse().ok()?;
    if v6 {
        let address: Ipv6Addr = address.parse().ok()?;
        (len <= 128).then(|| {
            (
                IpAddr::V6(Ipv6Addr::from_bits(address.to_bits() & mask128(len))),
                len,
            )
        })
    } else {
        let address: Ipv4Addr = address.parse().ok()?;
        (len <= 32).then(|| {
            (
                IpAddr::V4(Ipv4Addr::from_bits(address.to_bits() & mask32(len))),
                len,
            )
        })
    }
}

/// The netmask of a `/len` IPv4 prefix.
pub(crate) fn mask32(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len.min(32)))
    }
}

/// The netmask of a `/len` IPv6 prefix.
pub(crate) fn mask128(len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        u128::MAX << (128 - u32::from(len.min(128)))
    }
}

fn in_prefix(ip: IpAddr, net: IpAddr, len: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => ip.to_bits() & mask32(len) == net.to_bits(),
        (IpAddr::V6(ip), IpAddr::V6(net)) => ip.to_bits() & mask128(len) == net.to_bits(),
        _ => false,
    }
}

/// The JSON rendering of a [`Resource`].
struct View<'a>(&'a Resource);

impl Serialize for View<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("interface_id", &r.interface_id)?;
        map.serialize_entry("interface_type", &r.interface_type)?;
        map.serialize_entry("kind", &r.kind)?;
        let optional = [
            ("id", &r.id),
            ("name", &r.name),
            ("instance_id", &r.instance_id),
            ("vpc_id", &r.vpc_id),
            ("subnet_id", &r.subnet_id),
            ("availability_zone", &r.availability_zone),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                map.serialize_entry(key, value)?;
            }
        }
        if !r.security_group_ids.is_empty() {
            map.serialize_entry("security_group_ids", &r.security_group_ids)?;
        }
        if !r.tags.is_empty() {
            map.serialize_entry("tags", &Tags(&r.tags))?;
        }
        if let Some(description) = &r.description {
            map.serialize_entry("description", description)?;
        }
        map.end()
    }
}

/// Tags as a JSON object, in order.
struct Tags<'a>(&'a [(String, String)]);

impl Serialize for Tags<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(json: &str) -> Result<Resource, Error> {
        let raw: RawEni = serde_json::from_str(json).expect("a JSON interface");
        Resource::from_raw(
            raw,
            &Position {
                file: "t.json",
                document: 1,
                index: 0,
            },
        )
    }

    #[test]
    fn prefixes_parse_and_mask() {
        assert_eq!(
            parse_prefix("10.0.0.16/28", false),
            Some(("10.0.0.16".parse().unwrap(), 28))
        );
        assert_eq!(
            parse_prefix("10.0.0.17/28", false),
            Some(("10.0.0.16".parse().unwrap(), 28))
        );
        assert_eq!(
            parse_prefix("0.0.0.0/0", false),
            Some(("0.0.0.0".parse().unwrap(), 0))
        );
        assert_eq!(
            parse_prefix("2600:1f14:abcd:1234:5678::/80", true),
            Some(("2600:1f14:abcd:1234:5678::".parse().unwrap(), 80))
        );
        for bad in [
            "10.0.0.16",
            "10.0.0.16/33",
            "10.0.0.16/",
            "10.0.0.16/+8",
            "10.0.0.16/0028",
            "::/28",
        ] {
            assert_eq!(parse_prefix(bad, false), None, "{bad}");
        }
        assert_eq!(parse_prefix("10.0.0.0/8", true), None);
        assert_eq!(parse_prefix("::/129", true), None);
    }

    #[test]
    fn masks() {
        assert_eq!(mask32(0), 0);
        assert_eq!(mask32(28), 0xFFFF_FFF0);
        assert_eq!(mask32(32), u32::MAX);
        assert_eq!(mask128(0), 0);
        assert_eq!(mask128(80), u128::MAX << 48);
        assert_eq!(mask128(128), u128::MAX);
    }

    #[test]
    fn minimal_interface() {
        let r = build(r#"{"NetworkInterfaceId":"eni-1"}"#).unwrap();
        assert_eq!(
            r.json(),
            r#"{"interface_id":"eni-1","interface_type":"interface","kind":"interface"}"#
        );
        assert!(r.addresses().is_empty());
    }

    #[test]
    fn empty_strings_are_absent() {
        let r = build(
            r#"{"NetworkInterfaceId":"eni-1","Description":"","VpcId":"","PrivateIpAddress":"",
                "TagSet":[{"Key":"Name","Value":""},{"Key":"k"}],"Groups":[{"GroupId":""},{"GroupName":"x"}]}"#,
        )
        .unwrap();
        assert_eq!(r.description(), None);
        assert_eq!(r.vpc_id(), None);
        assert_eq!(r.name(), None);
        assert!(r.security_group_ids().is_empty());
        assert_eq!(
            r.tags(),
            [
                ("Name".to_owned(), String::new()),
                ("k".to_owned(), String::new())
            ]
        );
    }

    #[test]
    fn holds_addresses_and_prefixes() {
        let r = build(
            r#"{"NetworkInterfaceId":"eni-1","PrivateIpAddress":"10.0.0.5",
                "Ipv4Prefixes":[{"Ipv4Prefix":"10.0.1.16/28"}],"Ipv6Prefixes":[{"Ipv6Prefix":"2600:1f14::/80"}]}"#,
        )
        .unwrap();
        assert!(r.holds("10.0.0.5".parse().unwrap()));
        assert!(r.holds("10.0.1.31".parse().unwrap()));
        assert!(!r.holds("10.0.1.32".parse().unwrap()));
        assert!(r.holds("2600:1f14::ffff:ffff:ffff".parse().unwrap()));
        assert!(!r.holds("2600:1f14:0:0:1::".parse().unwrap()));
    }

    #[test]
    fn bad_prefix_message() {
        let e = build(r#"{"NetworkInterfaceId":"eni-1","Ipv4Prefixes":[{"Ipv4Prefix":"10.0.1.16/28"},{"Ipv4Prefix":"10.0.1/28"}]}"#)
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            r#"t.json: NetworkInterfaces[0] (eni-1): Ipv4Prefixes[1].Ipv4Prefix: "10.0.1/28" is not an IPv4 prefix (a.b.c.d/len)"#
        );
    }
}
