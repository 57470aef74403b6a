//! Values derived from a record's own fields: protocol name, TCP flag names,
//! duration and the Community ID.

use std::net::IpAddr;

/// IANA protocol keywords, lower case, for the protocol numbers that have one.
pub fn protocol_name(number: u8) -> Option<&'static str> {
    Some(match number {
        0 => "hopopt",
        1 => "icmp",
        2 => "igmp",
        4 => "ipv4",
        6 => "tcp",
        8 => "egp",
        9 => "igp",
        17 => "udp",
        27 => "rdp",
        33 => "dccp",
        41 => "ipv6",
        43 => "ipv6-route",
        44 => "ipv6-frag",
        46 => "rsvp",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        59 => "ipv6-nonxt",
        60 => "ipv6-opts",
        88 => "eigrp",
        89 => "ospfigp",
        94 => "ipip",
        103 => "pim",
        112 => "vrrp",
        115 => "l2tp",
        132 => "sctp",
        136 => "udplite",
        137 => "mpls-in-ip",
        _ => return None,
    })
}

const FIN: u64 = 0x01;
const SYN: u64 = 0x02;
const RST: u64 = 0x04;
const PSH: u64 = 0x08;
const ACK: u64 = 0x10;
const URG: u64 = 0x20;

/// Names of the bits set in a `tcp-flags` value, in ascending bit order,
/// where SYN together with ACK is the single name `SYN-ACK` (AWS reports
/// 18 for a SYN-ACK packet, not for separate SYN and ACK packets).
pub fn tcp_flag_names(flags: u64) -> TcpFlagNames {
    let mut names = TcpFlagNames::default();
    let syn_ack = flags & (SYN | ACK) == SYN | ACK;
    if flags & FIN != 0 {
        names.push("FIN");
    }
    if syn_ack {
        names.push("SYN-ACK");
    } else if flags & SYN != 0 {
        names.push("SYN");
    }
    if flags & RST != 0 {
        names.push("RST");
    }
    if flags & PSH != 0 {
        names.push("PSH");
    }
    if flags & ACK != 0 && !syn_ack {
        names.push("ACK");
    }
    if flags & URG != 0 {
        names.push("URG");
    }
    names
}

/// Up to six flag names, without allocating.
#[derive(Debug, Clone, Copy, Default)]
pub struct TcpFlagNames {
    names: [&'static str; 6],
    len: usize,
}

impl TcpFlagNames {
    fn push(&mut self, name: &'static str) {
        if let Some(slot) = self.names.get_mut(self.len) {
            *slot = name;
            self.len += 1;
        }
    }
}

impl std::ops::Deref for TcpFlagNames {
    type Target = [&'static str];

    fn deref(&self) -> &[&'static str] {
        &self.names[..self.len]
    }
}

/// A Community ID: `1:` and the base64 of a SHA-1 digest, 30 ASCII bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommunityId([u8; 30]);

impl CommunityId {
    /// The id as text, e.g. `1:wCb3OG7yAFWelaUydu0D+125CLM=`.
    pub fn as_str(&self) -> &str {
        // Built from "1:" and the base64 alphabet only.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// Community ID v1 (<https://github.com/corelight/community-id-spec>) for
/// TCP, UDP and SCTP flows; `None` for other protocols or mixed families.
/// Computed without allocating: it runs for every record.
pub fn community_id(
    seed: u16,
    source: IpAddr,
    destination: IpAddr,
    source_port: u16,
    destination_port: u16,
    protocol: u8,
) -> Option<CommunityId> {
    if !matches!(protocol, 6 | 17 | 132) {
        return None;
    }
    let mut source_bytes = [0u8; 16];
    let mut destination_bytes = [0u8; 16];
    let width = match (source, destination) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            source_bytes[..4].copy_from_slice(&s.octets());
            destination_bytes[..4].copy_from_slice(&d.octets());
            4
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            source_bytes = s.octets();
            destination_bytes = d.octets();
            16
        }
        _ => return None,
    };
    let (source, destination) = (&source_bytes[..width], &destination_bytes[..width]);
    // The flow is hashed in one canonical direction so that both directions
    // get the same id: the smaller endpoint (address, then port) first.
    let forward = (source, source_port) <= (destination, destination_port);
    let ((a, a_port), (b, b_port)) = if forward {
        ((source, source_port), (destination, destination_port))
    } else {
        ((destination, destination_port), (source, source_port))
    };
    let mut input = [0u8; 2 + 16 + 16 + 2 + 4];
    let mut len = 0;
    for part in [
        &seed.to_be_bytes()[..],
        a,
        b,
        &[protocol, 0],
        &a_port.to_be_bytes(),
        &b_port.to_be_bytes(),
    ] {
        input[len..len + part.len()].copy_from_slice(part);
        len += part.len();
    }
    let digest = sha1_smol::Sha1::from(&input[..len]).digest().bytes();
    let mut id = [0u8; 30];
    id[..2].copy_from_slice(b"1:");
    base64(&digest, &mut id[2..]);
    Some(CommunityId(id))
}

/// Standard base64 with padding of 20 bytes into 28.
fn base64(bytes: &[u8; 20], out: &mut [u8]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (group, chunk) in bytes.chunks(3).zip(out.chunks_mut(4)) {
        let at = |i: usize| group.get(i).copied().map_or(0, u32::from);
        let n = (at(0) << 16) | (at(1) << 8) | at(2);
        for (i, slot) in chunk.iter_mut().enumerate() {
            *slot = if i <= group.len() {
                ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]
            } else {
                b'='
            };
        }
    }
}

/// Writes the names of [`tcp_flag_names`] as a JSON array.
pub fn write_tcp_flags(flags: u64, out: &mut Vec<u8>) {
    out.push(b'[');
    for (i, name) in tcp_flag_names(flags).iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'"');
        out.extend_from_slice(name.as_bytes());
        out.push(b'"');
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_names() {
        assert!(tcp_flag_names(0).is_empty());
        let mut json = Vec::new();
        write_tcp_flags(19, &mut json);
        assert_eq!(json, br#"["FIN","SYN-ACK"]"#);
        assert_eq!(*tcp_flag_names(2), ["SYN"]);
        assert_eq!(*tcp_flag_names(18), ["SYN-ACK"]);
        assert_eq!(*tcp_flag_names(19), ["FIN", "SYN-ACK"]);
        assert_eq!(*tcp_flag_names(3), ["FIN", "SYN"]);
        assert_eq!(*tcp_flag_names(1), ["FIN"]);
        assert_eq!(*tcp_flag_names(4), ["RST"]);
        assert_eq!(*tcp_flag_names(16), ["ACK"]);
        assert_eq!(
            *tcp_flag_names(0x3f),
            ["FIN", "SYN-ACK", "RST", "PSH", "URG"]
        );
        assert_eq!(*tcp_flag_names(0x2d), ["FIN", "RST", "PSH", "URG"]);
    }

    #[test]
    fn protocol_names() {
        assert_eq!(protocol_name(6), Some("tcp"));
        assert_eq!(protocol_name(17), Some("udp"));
        assert_eq!(protocol_name(1), Some("icmp"));
        assert_eq!(protocol_name(58), Some("ipv6-icmp"));
        assert_eq!(protocol_name(132), Some("sctp"));
        assert_eq!(protocol_name(253), None);
    }

    /// Test vectors published with the Community ID specification.
    #[test]
    fn community_id_spec_vectors() {
        let a: IpAddr = "1.2.3.4".parse().unwrap();
        let b: IpAddr = "5.6.7.8".parse().unwrap();
        for (seed, protocol, expected) in [
            (0, 6, "1:wCb3OG7yAFWelaUydu0D+125CLM="),
            (0, 17, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg="),
            (1, 6, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk="),
            (1, 17, "1:OShq+iKDAMVouh/4bMxB9Sz4amw="),
        ] {
            assert_eq!(
                community_id(seed, a, b, 1122, 3344, protocol)
                    .map(|id| id.as_str().to_owned())
                    .as_deref(),
                Some(expected)
            );
            // Both directions of a flow share the id.
            assert_eq!(
                community_id(seed, b, a, 3344, 1122, protocol)
                    .map(|id| id.as_str().to_owned())
                    .as_deref(),
                Some(expected)
            );
        }
        assert_eq!(community_id(0, a, b, 0, 0, 1), None);
        let v6: IpAddr = "2001:db8::1".parse().unwrap();
        assert_eq!(community_id(0, a, v6, 1, 2, 6), None);
        assert!(community_id(0, v6, "2001:db8::2".parse().unwrap(), 1, 2, 132).is_some());
    }
}
