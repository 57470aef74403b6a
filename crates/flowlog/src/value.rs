//! Validation of single values and their JSON spelling.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Parses an unsigned decimal integer of at most `max`. Only ASCII digits are
/// accepted: no sign, no spaces, no exponent.
#[inline]
pub fn parse_uint(token: &[u8], max: u64) -> Option<u64> {
    // 19 digits cannot overflow a u64, so the common case needs no overflow
    // checks: on wasm32 `checked_mul` costs a 128-bit multiply call.
    if token.is_empty() || token.len() > 20 {
        return None;
    }
    let (head, last) = if token.len() == 20 {
        (&token[..19], Some(token[19]))
    } else {
        (token, None)
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
    (value <= max).then_some(value)
}

/// Parses an IPv4 address in dotted-quad form without leading zeros
/// (the form AWS writes; `010.1.1.1` is refused, as std refuses it).
#[inline]
pub fn parse_ipv4(token: &[u8]) -> Option<Ipv4Addr> {
    if token.len() < 7 || token.len() > 15 {
        return None;
    }
    let mut octets = [0u8; 4];
    let mut index = 0;
    let mut value: u16 = 0;
    let mut digits = 0;
    for &byte in token {
        if byte == b'.' {
            if digits == 0 || index == 3 {
                return None;
            }
            octets[index] = value as u8;
            index += 1;
            value = 0;
            digits = 0;
        } else {
            let digit = byte.wrapping_sub(b'0');
            if digit > 9 || (digits == 1 && value == 0) {
                return None;
            }
            value = value * 10 + u16::from(digit);
            digits += 1;
            if value > 255 {
                return None;
            }
        }
    }
    if index != 3 || digits == 0 {
        return None;
    }
    octets[3] = value as u8;
    Some(Ipv4Addr::from(octets))
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
