//! Validation of single values and their JSON spelling.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses an unsigned decimal integer of at most `max`. Only ASCII digits are
/// accepted: no sign, no spaces, no exponent.
///
/// Up to 16 digits, the usual case in flow logs (account ids have 12,
/// timestamps 10), are checked and converted eight at a time in a `u64`
/// with no loop: in the guest every loop iteration also pays an epoch
/// check of the batch deadline, as does every call: hence always inlined.
#[inline(always)]
pub fn parse_uint(token: &[u8], max: u64) -> Option<u64> {
    let value = match token.len() {
        0 => return None,
        1..=8 => {
            let digits = right_aligned_digits(token);
            eight_digits(digits)?
        }
        9..=16 => {
            let (high, low) = token.split_at(token.len() - 8);
            let low = u64::from_le_bytes(low.try_into().ok()?);
            let high = eight_digits(right_aligned_digits(high))?;
            high * 100_000_000 + eight_digits(low)?
        }
        17..=20 => parse_uint_long(token)?,
        _ => return None,
    };
    (value <= max).then_some(value)
}

/// 17 to 20 digits, a digit at a time.
fn parse_uint_long(token: &[u8]) -> Option<u64> {
    // 19 digits cannot overflow a u64, so only the 20th needs checks: on
    // wasm32 `checked_mul` costs a 128-bit multiply call.
    let (head, last) = match token.split_last() {
        Some((&last, head)) if token.len() == 20 => (head, Some(last)),
        _ => (token, None),
    };
    let mut value: u64 = 0;
    for &byte in head {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value * 10 + u64::from(digit);
    }
    if let Some(byte) = last {
        let digit = byte.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(u64::from(digit))?;
    }
    Some(value)
}

/// The 1 to 8 bytes of `token` in the last lanes of a little-endian `u64`
/// (its first byte in lane `8 - len`), the lanes before them `'0'`: the
/// eight-digit spelling of the same number. Two overlapping 4-byte loads,
/// or three single bytes, so that the guest needs no copy call or loop.
#[inline]
fn right_aligned_digits(token: &[u8]) -> u64 {
    let len = token.len();
    debug_assert!((1..=8).contains(&len));
    // Bits below the token's first lane.
    let shift = 8 * (8 - len as u32);
    let bytes = if len >= 4 {
        let first = u64::from(u32::from_le_bytes([token[0], token[1], token[2], token[3]]));
        let last = u64::from(u32::from_le_bytes([
            token[len - 4],
            token[len - 3],
            token[len - 2],
            token[len - 1],
        ]));
        (first << shift) | (last << 32)
    } else {
        let middle = len / 2;
        (u64::from(token[0]) << shift)
            | (u64::from(token[middle]) << (shift + 8 * middle as u32))
            | (u64::from(token[len - 1]) << 56)
    };
    let zeros = match shift {
        0 => 0,
        _ => 0x3030_3030_3030_3030_u64 >> (64 - shift),
    };
    bytes | zeros
}

/// The value of eight ASCII digits in a little-endian `u64` (first digit in
/// the lowest byte), or `None` if a byte is not a digit.
#[inline]
fn eight_digits(bytes: u64) -> Option<u64> {
    const HIGH_NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    // A digit byte is 0x30..=0x39: its high nibble is 3, and adding 6
    // leaves it 3 (0x3A..=0x3F would carry into 4). A carry out of a lane
    // only comes from a byte >= 0xFA, which fails the first test itself.
    let high = bytes & HIGH_NIBBLES;
    let high_plus_six = bytes.wrapping_add(0x0606_0606_0606_0606) & HIGH_NIBBLES;
    if high | (high_plus_six >> 4) != 0x3333_3333_3333_3333 {
        return None;
    }
    let digits = bytes - 0x3030_3030_3030_3030;
    // Pairs: each 16-bit lane's low byte becomes 10 * first + second.
    let pairs = (digits * 10 + (digits >> 8)) & 0x00FF_00FF_00FF_00FF;
    // Quads: each 32-bit lane becomes 100 * first pair + second pair.
    let quads = (pairs * 100 + (pairs >> 16)) & 0x0000_FFFF_0000_FFFF;
    // Both quads: 10,000 * first + second.
    Some((quads & 0xFFFF) * 10_000 + (quads >> 32))
}

/// Parses an IPv4 address in dotted-quad form without leading zeros
/// (the form AWS writes; `010.1.1.1` is refused, as std refuses it).
/// Written out octet by octet, without a loop, and always inlined (see
/// [`parse_uint`]).
#[inline(always)]
pub fn parse_ipv4(token: &[u8]) -> Option<Ipv4Addr> {
    if token.len() < 7 || token.len() > 15 {
        return None;
    }
    let (a, at) = octet(token, 0)?;
    let (b, at) = octet(token, after_dot(token, at)?)?;
    let (c, at) = octet(token, after_dot(token, at)?)?;
    let (d, at) = octet(token, after_dot(token, at)?)?;
    (at == token.len()).then_some(Ipv4Addr::new(a, b, c, d))
}

/// The position after the `.` at `at`.
#[inline(always)]
fn after_dot(token: &[u8], at: usize) -> Option<usize> {
    (token.get(at) == Some(&b'.')).then_some(at + 1)
}

/// The octet of one to three digits at `at`, and the position after it. A
/// fourth digit is left for the caller, which expects a `.` or the end.
/// Always inlined: as a call it costs the guest an epoch check at each of
/// the four entries per address.
#[inline(always)]
fn octet(token: &[u8], at: usize) -> Option<(u8, usize)> {
    let digit = |i: usize| {
        token
            .get(i)
            .map(|b| b.wrapping_sub(b'0'))
            .filter(|&d| d <= 9)
    };
    let first = digit(at)?;
    let Some(second) = digit(at + 1) else {
        return Some((first, at + 1));
    };
    if first == 0 {
        return None;
    }
    let Some(third) = digit(at + 2) else {
        return Some((first * 10 + second, at + 2));
    };
    let value = u16::from(first) * 100 + u16::from(second) * 10 + u16::from(third);
    u8::try_from(value).ok().map(|value| (value, at + 3))
}

/// Parses an IPv4 or IPv6 address.
#[inline]
pub fn parse_ip(token: &str) -> Option<IpAddr> {
    if token.as_bytes().contains(&b':') {
        token.parse::<Ipv6Addr>().ok().map(IpAddr::V6)
    } else {
        parse_ipv4(token.as_bytes()).map(IpAddr::V4)
    }
}

/// Whether a value must be escaped inside a JSON string.
#[inline]
pub fn needs_escape(bytes: &[u8]) -> bool {
    bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// Appends `value` as the contents of a JSON string (without quotes).
#[inline]
pub fn push_json_str(out: &mut Vec<u8>, value: &str) {
    let bytes = value.as_bytes();
    if !needs_escape(bytes) {
        out.extend_from_slice(bytes);
        return;
    }
    for ch in value.chars() {
        match ch {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\r' => out.extend_from_slice(b"\\r"),
            '\t' => out.extend_from_slice(b"\\t"),
            c if (c as u32) < 0x20 => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let code = c as usize;
                out.extend_from_slice(b"\\u00");
                out.push(HEX[code >> 4]);
                out.push(HEX[code & 0xf]);
            }
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
}

/// Appends `value` as a quoted JSON string.
#[inline]
pub fn push_json_string(out: &mut Vec<u8>, value: &str) {
    out.push(b'"');
    push_json_str(out, value);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_rng::{random_bytes, xorshift};

    #[test]
    fn uint() {
        assert_eq!(parse_uint(b"0", 10), Some(0));
        assert_eq!(parse_uint(b"007", 10), Some(7));
        assert_eq!(
            parse_uint(b"18446744073709551615", u64::MAX),
            Some(u64::MAX)
        );
        assert_eq!(parse_uint(b"18446744073709551616", u64::MAX), None);
        assert_eq!(parse_uint(b"99999999999999999999", u64::MAX), None);
        assert_eq!(
            parse_uint(b"09999999999999999999", u64::MAX),
            Some(9_999_999_999_999_999_999)
        );
        assert_eq!(parse_uint(b"1844674407370955161x", u64::MAX), None);
        assert_eq!(parse_uint(b"000000000000000000001", u64::MAX), None);
        assert_eq!(parse_uint(b"65536", 65535), None);
        for bad in [
            &b""[..],
            b"-1",
            b"+1",
            b"1.0",
            b"1e3",
            b"0x10",
            b" 1",
            b"\xff",
        ] {
            assert_eq!(parse_uint(bad, u64::MAX), None, "{bad:?}");
        }
    }

    /// The reference: a digit at a time in 128 bits.
    fn parse_uint_naive(token: &[u8], max: u64) -> Option<u64> {
        if token.is_empty() || token.len() > 20 || !token.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let value = token
            .iter()
            .fold(0u128, |v, &b| v * 10 + u128::from(b - b'0'));
        u64::try_from(value).ok().filter(|&v| v <= max)
    }

    #[test]
    fn uint_matches_naive() {
        // Digits, the bytes next to them in ASCII, bytes whose +6 carries,
        // and separators; every length up to 22.
        let alphabet = b"0123456789012345678901234567890123456789/:\xfa\xff -.\x00a";
        let maxes = [u64::MAX, 65_535, 255, 9_999_999_999, 0, 99_999_999];
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut accepted = 0;
        for round in 0..400_000 {
            let len = (xorshift(&mut state) % 23) as usize;
            let token = random_bytes(&mut state, alphabet, len);
            let max = maxes[round % maxes.len()];
            let got = parse_uint(&token, max);
            assert_eq!(got, parse_uint_naive(&token, max), "{token:?} max {max}");
            accepted += usize::from(got.is_some());
        }
        assert!(accepted > 10_000, "too few valid tokens: {accepted}");
        // Every length with all nines, all zeros and one bad byte in each
        // position.
        for len in 1..=21 {
            for fill in [b'9', b'0', b'1'] {
                let mut token = vec![fill; len];
                assert_eq!(
                    parse_uint(&token, u64::MAX),
                    parse_uint_naive(&token, u64::MAX),
                    "{token:?}"
                );
                for at in 0..len {
                    for bad in [b'/', b':', 0xfa, 0xff] {
                        let keep = token[at];
                        token[at] = bad;
                        assert_eq!(parse_uint(&token, u64::MAX), None, "{token:?}");
                        token[at] = keep;
                    }
                }
            }
        }
    }

    #[test]
    fn ipv4_matches_std() {
        for text in [
            "0.0.0.0",
            "255.255.255.255",
            "10.0.0.1",
            "1.2.3.4",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "01.2.3.4",
            "1..3.4",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.04",
            "a.b.c.d",
            "1.2.3.4 ",
            "100.200.300.1",
            "172.31.16.139",
        ] {
            assert_eq!(
                parse_ipv4(text.as_bytes()),
                text.parse::<Ipv4Addr>().ok(),
                "{text}"
            );
        }
    }

    #[test]
    fn ipv4_matches_std_on_random_tokens() {
        let alphabet = b"0123456789012345678901234567890123456789....:a /";
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut accepted = 0;
        for _ in 0..300_000 {
            let len = 5 + (xorshift(&mut state) % 13) as usize;
            let text = String::from_utf8(random_bytes(&mut state, alphabet, len))
                .expect("an ASCII alphabet");
            let got = parse_ipv4(text.as_bytes());
            assert_eq!(got, text.parse::<Ipv4Addr>().ok(), "{text}");
            accepted += usize::from(got.is_some());
        }
        // Addresses built to be near-valid: every octet value and width.
        for value in 0..=1000u32 {
            for text in [
                format!("{value}.1.2.3"),
                format!("1.{value}.2.3"),
                format!("1.2.{value}.3"),
                format!("1.2.3.{value}"),
                format!("1.2.3.0{value}"),
                format!("{value}.{value}.{value}.{value}"),
            ] {
                let got = parse_ipv4(text.as_bytes());
                assert_eq!(got, text.parse::<Ipv4Addr>().ok(), "{text}");
                accepted += usize::from(got.is_some());
            }
        }
        assert!(accepted > 1_000, "too few valid addresses: {accepted}");
    }

    #[test]
    fn ip_any() {
        assert!(parse_ip("2001:db8::1").is_some());
        assert!(parse_ip("::ffff:10.0.0.1").is_some());
        assert!(parse_ip("2001:db8:::1").is_none());
        assert!(parse_ip("eni-123").is_none());
    }

    #[test]
    fn json_escaping() {
        let mut out = Vec::new();
        push_json_string(&mut out, "a\"b\\c\u{1}é");
        assert_eq!(String::from_utf8(out).unwrap(), r#""a\"b\\c\u0001é""#);
    }
}
