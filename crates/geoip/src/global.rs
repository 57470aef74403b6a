//! Which addresses are globally routable, from the IANA special-purpose
//! address registries (IPv4 and IPv6), and which address a lookup uses.
//!
//! Rules, IPv4:
//!
//! - Not global: `0.0.0.0/8` (this network), `10.0.0.0/8`, `100.64.0.0/10`
//!   (CGNAT), `127.0.0.0/8`, `169.254.0.0/16`, `172.16.0.0/12`,
//!   `192.0.0.0/24` (IETF protocol assignments, including DS-Lite, the dummy
//!   address and NAT64 discovery), `192.0.2.0/24`, `198.51.100.0/24` and
//!   `203.0.113.0/24` (documentation), `192.168.0.0/16`, `198.18.0.0/15`
//!   (benchmarking), `224.0.0.0/4` (multicast) and `240.0.0.0/4` (reserved,
//!   including the limited broadcast address).
//! - Global although inside one of those blocks (the registry marks them
//!   globally reachable): `192.0.0.9` (PCP anycast) and `192.0.0.10` (TURN
//!   anycast).
//! - Everything else is global, including the AS112 blocks and the
//!   deprecated 6to4 relay anycast block `192.88.99.0/24`.
//!
//! Rules, IPv6:
//!
//! - `::ffff:0:0/96` (IPv4-mapped): the embedded IPv4 address decides, and
//!   lookups use the IPv4 address.
//! - `64:ff9b::/96` (the NAT64 well-known prefix, RFC 6052): the embedded
//!   IPv4 address decides, and lookups use the IPv4 address. RFC 6052 forbids
//!   embedding non-global IPv4 addresses in it, and AWS NAT64 writes the real
//!   IPv4 destination there, so its location is the one worth reporting.
//! - Outside `2000::/3` (the only block IANA allocates as global unicast):
//!   not global. This covers `::/128`, `::1/128`, the deprecated
//!   IPv4-compatible `::/96`, `64:ff9b:1::/48`, `100::/64`, `5f00::/16`,
//!   `fc00::/7` (unique local), `fe80::/10` (link-local), `fec0::/10` and
//!   `ff00::/8` (multicast).
//! - Inside `2000::/3`, not global: `2001::/23` (IETF protocol assignments,
//!   including Teredo `2001::/32` and benchmarking `2001:2::/48`),
//!   `2001:db8::/32` and `3fff::/20` (documentation), and `2002::/16` (6to4)
//!   when its embedded IPv4 address is not global.
//! - Global although inside `2001::/23`: `2001:1::1`, `2001:1::2`,
//!   `2001:1::3` (anycast services), `2001:3::/32` (AMT), `2001:4:112::/48`
//!   (AS112-v6), `2001:20::/28` (ORCHIDv2) and `2001:30::/28` (DRIP).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// IPv4 blocks that are not globally reachable, as (network, prefix length).
const V4_NOT_GLOBAL: &[(u32, u8)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
    (0x0A00_0000, 8),  // 10.0.0.0/8 private
    (0x6440_0000, 10), // 100.64.0.0/10 shared address space (CGNAT)
    (0x7F00_0000, 8),  // 127.0.0.0/8 loopback
    (0xA9FE_0000, 16), // 169.254.0.0/16 link-local
    (0xAC10_0000, 12), // 172.16.0.0/12 private
    (0xC000_0000, 24), // 192.0.0.0/24 IETF protocol assignments
    (0xC000_0200, 24), // 192.0.2.0/24 documentation (TEST-NET-1)
    (0xC0A8_0000, 16), // 192.168.0.0/16 private
    (0xC612_0000, 15), // 198.18.0.0/15 benchmarking
    (0xC633_6400, 24), // 198.51.100.0/24 documentation (TEST-NET-2)
    (0xCB00_7100, 24), // 203.0.113.0/24 documentation (TEST-NET-3)
    (0xE000_0000, 4),  // 224.0.0.0/4 multicast
    (0xF000_0000, 4),  // 240.0.0.0/4 reserved, with 255.255.255.255
];

/// IPv4 addresses inside [`V4_NOT_GLOBAL`] that are globally reachable.
const V4_GLOBAL_EXCEPTIONS: &[(u32, u8)] = &[
    (0xC000_0009, 32), // 192.0.0.9 PCP anycast
    (0xC000_000A, 32), // 192.0.0.10 TURN anycast
];

/// IPv6 blocks inside `2000::/3` that are not globally reachable.
const V6_NOT_GLOBAL: &[(u128, u8)] = &[
    (0x2001_0000 << 96, 23), // 2001::/23 IETF protocol assignments
    (0x2001_0db8 << 96, 32), // 2001:db8::/32 documentation
    (0x3fff_0000 << 96, 20), // 3fff::/20 documentation
];

/// IPv6 addresses inside [`V6_NOT_GLOBAL`] that are globally reachable.
const V6_GLOBAL_EXCEPTIONS: &[(u128, u8)] = &[
    ((0x2001_0001 << 96) | 1, 128), // 2001:1::1 PCP anycast
    ((0x2001_0001 << 96) | 2, 128), // 2001:1::2 TURN anycast
    ((0x2001_0001 << 96) | 3, 128), // 2001:1::3 DNS-SD SRP anycast
    (0x2001_0003 << 96, 32),        // 2001:3::/32 AMT
    (0x2001_0004_0112 << 80, 48),   // 2001:4:112::/48 AS112-v6
    (0x2001_0020 << 96, 28),        // 2001:20::/28 ORCHIDv2
    (0x2001_0030 << 96, 28),        // 2001:30::/28 drone remote ID
];

/// `64:ff9b::/96`, the NAT64 well-known prefix.
const NAT64_WKP: u128 = 0x0064_ff9b << 96;

fn in_v4(addr: u32, &(net, len): &(u32, u8)) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
    addr & mask == net
}

fn in_v6(addr: u128, &(net, len): &(u128, u8)) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
    addr & mask == net
}

/// Whether an IPv4 address is globally routable (see the module docs).
pub fn is_global_v4(ip: Ipv4Addr) -> bool {
    let addr = u32::from(ip);
    if V4_GLOBAL_EXCEPTIONS.iter().any(|n| in_v4(addr, n)) {
        return true;
    }
    !V4_NOT_GLOBAL.iter().any(|n| in_v4(addr, n))
}

/// Whether an IPv6 address is globally routable (see the module docs).
pub fn is_global_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_global_v4(v4);
    }
    let addr = u128::from(ip);
    // 2000::/3, global unicast.
    if addr >> 125 != 1 {
        return false;
    }
    // 2002::/16, 6to4: the IPv4 address in bits 16..48 decides.
    if addr >> 112 == 0x2002 {
        // Truncation keeps exactly the 32 bits after the prefix.
        return is_global_v4(Ipv4Addr::from((addr >> 80) as u32));
    }
    if V6_GLOBAL_EXCEPTIONS.iter().any(|n| in_v6(addr, n)) {
        return true;
    }
    !V6_NOT_GLOBAL.iter().any(|n| in_v6(addr, n))
}

/// Whether an address is globally routable: the addresses that get a GeoIP
/// answer. Private, loopback, link-local, CGNAT, multicast, documentation,
/// benchmarking and reserved addresses are not; IPv4-mapped and NAT64
/// (`64:ff9b::/96`) IPv6 addresses are judged by their IPv4 address. The
/// full list is in the source of this module.
///
/// ```
/// use geoip::is_global;
/// assert!(is_global("89.160.20.112".parse().unwrap()));
/// assert!(!is_global("10.0.0.1".parse().unwrap()));
/// assert!(!is_global("198.51.100.7".parse().unwrap()));
/// assert!(!is_global("fe80::1".parse().unwrap()));
/// assert!(is_global("::ffff:89.160.20.112".parse().unwrap()));
/// ```
pub fn is_global(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_global_v4(v4),
        IpAddr::V6(v6) => is_global_v6(v6),
    }
}

/// The IPv4 address carried by an IPv4-mapped (`::ffff:0:0/96`) or NAT64
/// well-known-prefix (`64:ff9b::/96`) IPv6 address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    let addr = u128::from(ip);
    if addr >> 32 == NAT64_WKP >> 32 {
        // Truncation keeps exactly the low 32 bits.
        return Some(Ipv4Addr::from(addr as u32));
    }
    None
}

/// The address to look up for `ip`, or `None` when it is not global.
/// IPv4-mapped and NAT64 addresses become their IPv4 address.
pub(crate) fn lookup_address(ip: IpAddr) -> Option<IpAddr> {
    let canonical = match ip {
        IpAddr::V6(v6) => embedded_v4(v6).map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    };
    is_global(canonical).then_some(canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(s: &str) -> bool {
        is_global(s.parse().unwrap())
    }

    #[test]
    fn ipv4_not_global() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.255",
            "127.0.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.0",
            "192.0.0.8",
            "192.0.0.170",
            "192.0.0.171",
            "192.0.0.255",
            "192.0.2.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.255",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!g(s), "{s} should not be global");
        }
    }

    #[test]
    fn ipv4_global() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "52.213.180.42",
            "81.2.69.142",
            "89.160.20.112",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.0",
            "175.16.199.0",
            "192.0.0.9",
            "192.0.0.10",
            "192.0.1.0",
            "192.0.3.0",
            "192.31.196.1",
            "192.52.193.1",
            "192.88.99.1",
            "192.167.255.255",
            "192.169.0.0",
            "192.175.48.1",
            "198.17.255.255",
            "198.20.0.0",
            "198.51.99.255",
            "198.51.101.0",
            "203.0.112.255",
            "203.0.114.0",
            "216.160.83.56",
            "223.255.255.255",
        ] {
            assert!(g(s), "{s} should be global");
        }
    }

    #[test]
    fn ipv6_not_global() {
        for s in [
            "::",
            "::1",
            "::8.8.8.8",
            "::ffff:10.0.0.1",
            "::ffff:127.0.0.1",
            "::ffff:198.51.100.1",
            "64:ff9b::10.1.2.3",
            "64:ff9b::192.168.0.1",
            "64:ff9b:1::1",
            "100::1",
            "100:0:0:1::1",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:2::1",
            "2001:10::1",
            "2001:1::4",
            "2001:1ff:ffff::1",
            "2001:db8::1",
            "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff",
            "2002:c0a8:101::1",
            "2002:a00:1::1",
            "3fff::1",
            "3fff:fff:ffff::1",
            "5f00::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf:ffff::1",
            "fec0::1",
            "ff02::1",
            "ff0e::1",
            "4000::1",
            "1fff:ffff::1",
        ] {
            assert!(!g(s), "{s} should not be global");
        }
    }

    #[test]
    fn ipv6_global() {
        for s in [
            "2000::1",
            "2001:200::1",
            "2001:218::1",
            "2001:1::1",
            "2001:1::2",
            "2001:1::3",
            "2001:3::1",
            "2001:4:112::1",
            "2001:20::1",
            "2001:2f:ffff::1",
            "2001:30::1",
            "2001:4860:4860::8888",
            "2001:db7:ffff::1",
            "2001:db9::1",
            "2002:5951:1470::1",
            "2620:4f:8000::1",
            "2a02:cf40::",
            "2600:1f18::1",
            "3ffe::1",
            "3fff:1000::1",
            "3fff:ffff:ffff::1",
            "::ffff:89.160.20.112",
            "64:ff9b::8.8.8.8",
        ] {
            assert!(g(s), "{s} should be global");
        }
    }

    #[test]
    fn lookup_address_maps_embedded_ipv4() {
        let v4: IpAddr = "89.160.20.112".parse().unwrap();
        assert_eq!(
            lookup_address("::ffff:89.160.20.112".parse().unwrap()),
            Some(v4)
        );
        assert_eq!(
            lookup_address("64:ff9b::89.160.20.112".parse().unwrap()),
            Some(v4)
        );
        assert_eq!(lookup_address(v4), Some(v4));
        let v6: IpAddr = "2a02:cf40::1".parse().unwrap();
        assert_eq!(lookup_address(v6), Some(v6));
        assert_eq!(lookup_address("10.0.0.1".parse().unwrap()), None);
        assert_eq!(lookup_address("::ffff:10.0.0.1".parse().unwrap()), None);
    }
}
