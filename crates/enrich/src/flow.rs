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

/// `,"protocol_name":"…"` (with the leading comma) for every protocol
/// number, where it has a name, so that a record's name is one copy.
pub fn protocol_name_json_table() -> Vec<Option<Box<[u8]>>> {
    (0..=255u8)
        .map(|number| {
            let name = protocol_name(number)?;
            Some(
                format!(",\"protocol_name\":\"{name}\"")
                    .into_bytes()
                    .into_boxed_slice(),
            )
        })
        .collect()
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
    /// The id's 30 ASCII bytes.
    pub fn as_bytes(&self) -> &[u8; 30] {
        &self.0
    }

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
    community_id_block(
        seed,
        source,
        destination,
        source_port,
        destination_port,
        protocol,
    )
    .map(|block| block.id())
}

/// The one SHA-1 block a Community ID hashes, padded, as big-endian words.
/// [`community_ids4`] hashes four of them at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommunityIdBlock([u32; 16]);

impl CommunityIdBlock {
    /// The Community ID of this block alone.
    pub fn id(&self) -> CommunityId {
        id_from_state(sha1_compress(self.0))
    }
}

/// The block [`community_id`] hashes for the same arguments. Inlined for
/// the IPv4 case, which every record of most flow logs takes; IPv6 builds
/// its block out of line.
#[inline]
pub fn community_id_block(
    seed: u16,
    source: IpAddr,
    destination: IpAddr,
    source_port: u16,
    destination_port: u16,
    protocol: u8,
) -> Option<CommunityIdBlock> {
    if !matches!(protocol, 6 | 17 | 132) {
        return None;
    }
    match (source, destination) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            // Most flows: the 16-byte message written straight into words.
            let (s, d) = (u32::from(s), u32::from(d));
            let ((a, a_port), (b, b_port)) = if (s, source_port) <= (d, destination_port) {
                ((s, source_port), (d, destination_port))
            } else {
                ((d, destination_port), (s, source_port))
            };
            let mut words = [0u32; 16];
            words[0] = (u32::from(seed) << 16) | (a >> 16);
            words[1] = (a << 16) | (b >> 16);
            words[2] = (b << 16) | (u32::from(protocol) << 8);
            words[3] = (u32::from(a_port) << 16) | u32::from(b_port);
            // The padding: a one bit after the message, its length in bits.
            words[4] = 0x8000_0000;
            words[15] = 16 * 8;
            Some(CommunityIdBlock(words))
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => Some(ipv6_block(
            seed,
            s,
            d,
            source_port,
            destination_port,
            protocol,
        )),
        _ => None,
    }
}

/// [`community_id_block`] for IPv6 flows.
#[inline(never)]
fn ipv6_block(
    seed: u16,
    source: std::net::Ipv6Addr,
    destination: std::net::Ipv6Addr,
    source_port: u16,
    destination_port: u16,
    protocol: u8,
) -> CommunityIdBlock {
    let (source_bytes, destination_bytes) = (source.octets(), destination.octets());
    // The flow is hashed in one canonical direction so that both directions
    // get the same id: the smaller endpoint (address, then port) first.
    // As 128-bit numbers, which order like the address bytes, without a
    // slice comparison loop.
    let forward = (u128::from_be_bytes(source_bytes), source_port)
        <= (u128::from_be_bytes(destination_bytes), destination_port);
    let ((a, a_port), (b, b_port)) = if forward {
        (
            (&source_bytes, source_port),
            (&destination_bytes, destination_port),
        )
    } else {
        (
            (&destination_bytes, destination_port),
            (&source_bytes, source_port),
        )
    };
    // seed, a, b, protocol, a zero byte, a's port, b's port: 40 bytes, so
    // the message and its padding are one SHA-1 block. Every copy has a
    // fixed size (variable ones are calls in the guest).
    let mut block = [0u8; 64];
    block[..2].copy_from_slice(&seed.to_be_bytes());
    block[2..18].copy_from_slice(a);
    block[18..34].copy_from_slice(b);
    let mut rest = [0u8; 6];
    rest[0] = protocol;
    rest[2..4].copy_from_slice(&a_port.to_be_bytes());
    rest[4..6].copy_from_slice(&b_port.to_be_bytes());
    block[34..40].copy_from_slice(&rest);
    CommunityIdBlock(padded_words(&mut block, 40))
}

/// Four Community IDs at once, each SHA-1 in one lane of 32-bit vectors:
/// SHA-1's rounds depend on each other, so one hash cannot use the vector
/// unit, but four independent hashes fill its lanes (simd128 in the guest).
pub fn community_ids4(blocks: [&CommunityIdBlock; 4]) -> [CommunityId; 4] {
    let words = std::array::from_fn(|i| {
        Lanes::from_lanes([
            blocks[0].0[i],
            blocks[1].0[i],
            blocks[2].0[i],
            blocks[3].0[i],
        ])
    });
    let state = sha1_compress(words).map(Lanes::to_lanes);
    std::array::from_fn(|lane| id_from_state(state.map(|word| word[lane])))
}

/// `1:` and the base64 of the digest that ends in `state`.
fn id_from_state(state: [u32; 5]) -> CommunityId {
    let mut id = [0u8; 30];
    id[..2].copy_from_slice(b"1:");
    base64_20(&digest_bytes(state), &mut id);
    CommunityId(id)
}

/// The 20-byte SHA-1 digest whose words are `state`.
fn digest_bytes(state: [u32; 5]) -> [u8; 20] {
    let mut digest = [0u8; 20];
    for (i, value) in state.into_iter().enumerate() {
        digest[4 * i..4 * i + 4].copy_from_slice(&value.to_be_bytes());
    }
    digest
}

/// Pads the first `len` bytes of `block` as SHA-1 does (`len` at most 55,
/// so that the padding fits the same block; the rest of `block` zero) and
/// reads it as big-endian words.
fn padded_words(block: &mut [u8; 64], len: usize) -> [u32; 16] {
    debug_assert!(len <= 55);
    block[len] = 0x80;
    block[56..].copy_from_slice(&(len as u64 * 8).to_be_bytes());
    std::array::from_fn(|i| {
        u32::from_be_bytes([
            block[4 * i],
            block[4 * i + 1],
            block[4 * i + 2],
            block[4 * i + 3],
        ])
    })
}

/// SHA-1 (FIPS 180-4) of the first `len` bytes of `block`, which must be at
/// most 55; the rest of `block` must be zero. The padding is written into
/// `block`.
#[cfg(test)]
fn sha1_one_block(block: &mut [u8; 64], len: usize) -> [u8; 20] {
    digest_bytes(sha1_compress(padded_words(block, len)))
}

/// The 32-bit word operations SHA-1 needs: a `u32`, or four in vector lanes.
trait Word: Copy {
    fn splat(value: u32) -> Self;
    fn add(self, other: Self) -> Self;
    fn xor(self, other: Self) -> Self;
    fn and(self, other: Self) -> Self;
    fn or(self, other: Self) -> Self;
    /// `self & !other`.
    fn and_not(self, other: Self) -> Self;
    fn rotl<const N: u32>(self) -> Self;
}

impl Word for u32 {
    #[inline(always)]
    fn splat(value: u32) -> u32 {
        value
    }
    #[inline(always)]
    fn add(self, other: u32) -> u32 {
        self.wrapping_add(other)
    }
    #[inline(always)]
    fn xor(self, other: u32) -> u32 {
        self ^ other
    }
    #[inline(always)]
    fn and(self, other: u32) -> u32 {
        self & other
    }
    #[inline(always)]
    fn or(self, other: u32) -> u32 {
        self | other
    }
    #[inline(always)]
    fn and_not(self, other: u32) -> u32 {
        self & !other
    }
    #[inline(always)]
    fn rotl<const N: u32>(self) -> u32 {
        self.rotate_left(N)
    }
}

/// Four words in the lanes of a wasm SIMD vector.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[derive(Debug, Clone, Copy)]
struct Lanes(core::arch::wasm32::v128);

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl Lanes {
    #[inline(always)]
    fn from_lanes([a, b, c, d]: [u32; 4]) -> Lanes {
        Lanes(core::arch::wasm32::u32x4(a, b, c, d))
    }
    #[inline(always)]
    fn to_lanes(self) -> [u32; 4] {
        use core::arch::wasm32::u32x4_extract_lane as lane;
        [
            lane::<0>(self.0),
            lane::<1>(self.0),
            lane::<2>(self.0),
            lane::<3>(self.0),
        ]
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
impl Word for Lanes {
    #[inline(always)]
    fn splat(value: u32) -> Lanes {
        Lanes(core::arch::wasm32::u32x4_splat(value))
    }
    #[inline(always)]
    fn add(self, other: Lanes) -> Lanes {
        Lanes(core::arch::wasm32::u32x4_add(self.0, other.0))
    }
    #[inline(always)]
    fn xor(self, other: Lanes) -> Lanes {
        Lanes(core::arch::wasm32::v128_xor(self.0, other.0))
    }
    #[inline(always)]
    fn and(self, other: Lanes) -> Lanes {
        Lanes(core::arch::wasm32::v128_and(self.0, other.0))
    }
    #[inline(always)]
    fn or(self, other: Lanes) -> Lanes {
        Lanes(core::arch::wasm32::v128_or(self.0, other.0))
    }
    #[inline(always)]
    fn and_not(self, other: Lanes) -> Lanes {
        Lanes(core::arch::wasm32::v128_andnot(self.0, other.0))
    }
    #[inline(always)]
    fn rotl<const N: u32>(self) -> Lanes {
        use core::arch::wasm32::{u32x4_shl, u32x4_shr, v128_or};
        Lanes(v128_or(u32x4_shl(self.0, N), u32x4_shr(self.0, 32 - N)))
    }
}

/// Four words, lane by lane (the compiler vectorises it where it can).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[derive(Debug, Clone, Copy)]
struct Lanes([u32; 4]);

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
impl Lanes {
    #[inline(always)]
    fn from_lanes(lanes: [u32; 4]) -> Lanes {
        Lanes(lanes)
    }
    #[inline(always)]
    fn to_lanes(self) -> [u32; 4] {
        self.0
    }
    #[inline(always)]
    fn zip(self, other: Lanes, f: impl Fn(u32, u32) -> u32) -> Lanes {
        Lanes(std::array::from_fn(|i| f(self.0[i], other.0[i])))
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
impl Word for Lanes {
    #[inline(always)]
    fn splat(value: u32) -> Lanes {
        Lanes([value; 4])
    }
    #[inline(always)]
    fn add(self, other: Lanes) -> Lanes {
        self.zip(other, u32::wrapping_add)
    }
    #[inline(always)]
    fn xor(self, other: Lanes) -> Lanes {
        self.zip(other, |a, b| a ^ b)
    }
    #[inline(always)]
    fn and(self, other: Lanes) -> Lanes {
        self.zip(other, |a, b| a & b)
    }
    #[inline(always)]
    fn or(self, other: Lanes) -> Lanes {
        self.zip(other, |a, b| a | b)
    }
    #[inline(always)]
    fn and_not(self, other: Lanes) -> Lanes {
        self.zip(other, |a, b| a & !b)
    }
    #[inline(always)]
    fn rotl<const N: u32>(self) -> Lanes {
        Lanes(self.0.map(|a| a.rotate_left(N)))
    }
}

/// SHA-1's compression of one block from the initial state, with the
/// initial state added back: the digest's five words.
#[inline(always)]
fn sha1_compress<W: Word>(mut w: [W; 16]) -> [W; 5] {
    // The message schedule lives in a ring of 16 words, each computed in
    // the round that uses it, and every round below is written out: no
    // loops, which in the guest would each pay an epoch check.
    macro_rules! word {
        ($t:expr) => {{
            if $t >= 16 {
                w[$t & 15] = w[($t - 3) & 15]
                    .xor(w[($t - 8) & 15])
                    .xor(w[($t - 14) & 15])
                    .xor(w[$t & 15])
                    .rotl::<1>();
            }
            w[$t & 15]
        }};
    }
    let [mut a, mut b, mut c, mut d, mut e] = H.map(W::splat);
    // Five rounds at a time with the roles of the variables rotated, so
    // that no round moves values between them.
    macro_rules! five {
        ($t:expr, $f:expr, $k:expr) => {
            let k = W::splat($k);
            e = e.add(a.rotl::<5>()).add($f(b, c, d)).add(k).add(word!($t));
            b = b.rotl::<30>();
            d = d
                .add(e.rotl::<5>())
                .add($f(a, b, c))
                .add(k)
                .add(word!($t + 1));
            a = a.rotl::<30>();
            c = c
                .add(d.rotl::<5>())
                .add($f(e, a, b))
                .add(k)
                .add(word!($t + 2));
            e = e.rotl::<30>();
            b = b
                .add(c.rotl::<5>())
                .add($f(d, e, a))
                .add(k)
                .add(word!($t + 3));
            d = d.rotl::<30>();
            a = a
                .add(b.rotl::<5>())
                .add($f(c, d, e))
                .add(k)
                .add(word!($t + 4));
            c = c.rotl::<30>();
        };
    }
    let choose = |b: W, c: W, d: W| b.and(c).or(d.and_not(b));
    let parity = |b: W, c: W, d: W| b.xor(c).xor(d);
    let majority = |b: W, c: W, d: W| b.and(c).or(d.and(b.or(c)));
    five!(0, choose, 0x5A82_7999);
    five!(5, choose, 0x5A82_7999);
    five!(10, choose, 0x5A82_7999);
    five!(15, choose, 0x5A82_7999);
    five!(20, parity, 0x6ED9_EBA1);
    five!(25, parity, 0x6ED9_EBA1);
    five!(30, parity, 0x6ED9_EBA1);
    five!(35, parity, 0x6ED9_EBA1);
    five!(40, majority, 0x8F1B_BCDC);
    five!(45, majority, 0x8F1B_BCDC);
    five!(50, majority, 0x8F1B_BCDC);
    five!(55, majority, 0x8F1B_BCDC);
    five!(60, parity, 0xCA62_C1D6);
    five!(65, parity, 0xCA62_C1D6);
    five!(70, parity, 0xCA62_C1D6);
    five!(75, parity, 0xCA62_C1D6);
    let h = H.map(W::splat);
    [
        a.add(h[0]),
        b.add(h[1]),
        c.add(h[2]),
        d.add(h[3]),
        e.add(h[4]),
    ]
}

/// SHA-1's initial state.
const H: [u32; 5] = [
    0x6745_2301,
    0xEFCD_AB89,
    0x98BA_DCFE,
    0x1032_5476,
    0xC3D2_E1F0,
];

/// Standard base64 with padding of 20 bytes into `out[2..30]`.
fn base64_20(bytes: &[u8; 20], out: &mut [u8; 30]) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let digit = |n: u32, shift: u32| ALPHABET[((n >> shift) & 63) as usize];
    for group in 0..7 {
        let at = |i: usize| bytes.get(3 * group + i).copied().map_or(0, u32::from);
        let n = (at(0) << 16) | (at(1) << 8) | at(2);
        let o = 2 + 4 * group;
        out[o] = digit(n, 18);
        out[o + 1] = digit(n, 12);
        out[o + 2] = digit(n, 6);
        out[o + 3] = digit(n, 0);
    }
    // 20 = 6 * 3 + 2: the last group has two bytes, so one pad character.
    out[29] = b'=';
}

/// `,"tcp_flags":[…]` (with the leading comma) for every value of the six
/// flag bits, so that a record's flags are one copy.
pub fn tcp_flags_json_table() -> Vec<Box<[u8]>> {
    (0..64u64)
        .map(|flags| {
            let mut json = b",\"tcp_flags\":".to_vec();
            write_tcp_flags(flags, &mut json);
            json.into_boxed_slice()
        })
        .collect()
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
    fn one_block_sha1_matches_a_general_implementation() {
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        for len in 0..=55 {
            for _ in 0..20 {
                let mut block = [0u8; 64];
                for byte in &mut block[..len] {
                    *byte = crate::test_rng::xorshift(&mut state) as u8;
                }
                let expected = sha1_smol::Sha1::from(&block[..len]).digest().bytes();
                assert_eq!(sha1_one_block(&mut block, len), expected, "length {len}");
            }
        }
        // FIPS 180-2 appendix A.1: SHA-1("abc").
        let mut block = [0u8; 64];
        block[..3].copy_from_slice(b"abc");
        let digest = sha1_one_block(&mut block, 3);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
    }

    #[test]
    fn base64_of_twenty_bytes() {
        let mut out = [0u8; 30];
        base64_20(&[0xff; 20], &mut out);
        assert_eq!(&out[2..], b"//////////////////////////8=");
        base64_20(&core::array::from_fn(|i| i as u8), &mut out);
        assert_eq!(&out[2..], b"AAECAwQFBgcICQoLDA0ODxAREhM=");
    }

    #[test]
    fn flag_table_matches_names() {
        let table = tcp_flags_json_table();
        assert_eq!(table.len(), 64);
        assert_eq!(&*table[0], br#","tcp_flags":[]"#);
        assert_eq!(&*table[19], br#","tcp_flags":["FIN","SYN-ACK"]"#);
        assert_eq!(&*table[3], br#","tcp_flags":["FIN","SYN"]"#);
    }

    #[test]
    fn protocol_name_table_matches_names() {
        let table = protocol_name_json_table();
        assert_eq!(table.len(), 256);
        assert_eq!(table[6].as_deref(), Some(&br#","protocol_name":"tcp""#[..]));
        assert_eq!(
            table[58].as_deref(),
            Some(&br#","protocol_name":"ipv6-icmp""#[..])
        );
        assert_eq!(table[253], None);
        for (number, json) in table.iter().enumerate() {
            assert_eq!(json.is_some(), protocol_name(number as u8).is_some());
        }
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

    /// The message as the specification spells it, hashed by a general
    /// SHA-1: the reference for both address families.
    fn community_id_naive(seed: u16, s: IpAddr, d: IpAddr, sp: u16, dp: u16, proto: u8) -> String {
        let bytes = |ip: IpAddr| match ip {
            IpAddr::V4(v4) => v4.octets().to_vec(),
            IpAddr::V6(v6) => v6.octets().to_vec(),
        };
        let (mut a, mut b) = ((bytes(s), sp), (bytes(d), dp));
        if b < a {
            std::mem::swap(&mut a, &mut b);
        }
        let mut message = seed.to_be_bytes().to_vec();
        message.extend(&a.0);
        message.extend(&b.0);
        message.extend([proto, 0]);
        message.extend(a.1.to_be_bytes());
        message.extend(b.1.to_be_bytes());
        let digest = sha1_smol::Sha1::from(&message).digest().bytes();
        let mut id = [0u8; 30];
        base64_20(&digest, &mut id);
        format!("1:{}", std::str::from_utf8(&id[2..]).unwrap())
    }

    #[test]
    fn community_id_matches_the_naive_spelling() {
        let mut state = 0x1234_5678_9ABC_DEF1u64;
        let mut next = || crate::test_rng::xorshift(&mut state);
        for round in 0..20_000 {
            let v6 = round % 2 == 1;
            // Small values make equal addresses (ordered by port) common.
            let mut address = || -> IpAddr {
                let n = if round % 3 == 0 { next() % 4 } else { next() };
                if v6 {
                    IpAddr::from(std::net::Ipv6Addr::from(
                        u128::from(n) << 64 | u128::from(next() % 2),
                    ))
                } else {
                    IpAddr::from((n as u32).to_be_bytes())
                }
            };
            let (s, d) = (address(), address());
            let (sp, dp) = if round % 5 == 0 {
                (80, 80)
            } else {
                (next() as u16, next() as u16)
            };
            let seed = next() as u16;
            let protocol = [6, 17, 132][round % 3];
            let got = community_id(seed, s, d, sp, dp, protocol).expect("an id");
            assert_eq!(
                got.as_str(),
                community_id_naive(seed, s, d, sp, dp, protocol)
            );
        }
    }

    /// Four at a time, lane by lane, equals one at a time: random flows of
    /// both families, seeds and protocols, in every lane.
    #[test]
    fn four_lane_ids_match_single_ids() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || crate::test_rng::xorshift(&mut state);
        let mut flow = || loop {
            let v6 = next() % 3 == 0;
            let address = |n: u64, m: u64| -> IpAddr {
                if v6 {
                    IpAddr::from(std::net::Ipv6Addr::from(
                        u128::from(n) << 64 | u128::from(m),
                    ))
                } else {
                    IpAddr::from((n as u32).to_be_bytes())
                }
            };
            let (s, d) = (address(next(), next()), address(next(), next()));
            let protocol = [6, 17, 132][(next() % 3) as usize];
            let block =
                community_id_block(next() as u16, s, d, next() as u16, next() as u16, protocol);
            if let Some(block) = block {
                break block;
            }
        };
        for _ in 0..5000 {
            let blocks: [CommunityIdBlock; 4] = std::array::from_fn(|_| flow());
            let together = community_ids4([&blocks[0], &blocks[1], &blocks[2], &blocks[3]]);
            for (block, id) in blocks.iter().zip(together) {
                assert_eq!(id, block.id());
            }
        }
        let a: IpAddr = "1.2.3.4".parse().unwrap();
        let b: IpAddr = "5.6.7.8".parse().unwrap();
        let block = community_id_block(0, a, b, 1122, 3344, 6).unwrap();
        let ids = community_ids4([&block; 4]);
        assert!(
            ids.iter()
                .all(|id| id.as_str() == "1:wCb3OG7yAFWelaUydu0D+125CLM=")
        );
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
