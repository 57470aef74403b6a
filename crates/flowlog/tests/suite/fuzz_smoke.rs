//! Runs the fuzz target's invariant checks (`flowlog::fuzz::check`) over a
//! fixed set of seeds and deterministic pseudo-random mutations of them, so
//! that CI (stable Rust, no cargo-fuzz) exercises the same assertions.

use flowlog::MAX_LINE_BYTES;
use flowlog::fuzz::check;

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const SSH_ACCEPT: &str = "2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK";
const DEFAULT_HEADER: &str = "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status";
const NAT_HEADER: &str = "instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr";

/// Batch bodies: AWS documentation examples, headers, envelopes, garbage.
fn bodies() -> Vec<Vec<u8>> {
    let v3 = "3 vpc-abcdefab012345678 subnet-aaaaaaaa012345678 i-01234567890123456 eni-1235b8ca123456789 123456789012 IPv4 52.213.180.42 10.0.0.62 43416 5001 52.213.180.42 10.0.0.62 6 568 8 1566848875 1566848933 ACCEPT 19 OK";
    let tgw = "6 TransitGateway 123456789012 tgw-0123456789abcdef0 tgw-attach-0123456789abcdef0 123456789012 210987654321 vpc-0aaaaaaaaaaaaaaa1 vpc-0bbbbbbbbbbbbbbb2 subnet-0aaaaaaaaaaaaaaa1 subnet-0bbbbbbbbbbbbbbb2 eni-0aaaaaaaaaaaaaaa1 eni-0bbbbbbbbbbbbbbb2 use1-az1 use1-az2 tgw-attach-0fedcba9876543210 10.0.1.10 10.1.2.20 49152 443 6 25 3120 1700000000 1700000060 OK IPv4 0 0 2 0 19 us-east-1 ingress - -";
    let cloudwatch = format!(
        r#"{{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"vpc","logStream":"eni-1","subscriptionFilters":["f"],"logEvents":[{{"id":"1","timestamp":1,"message":"{SSH_ACCEPT}"}},{{"id":"2","timestamp":2,"message":"2 1 eni-1 10.0.0.1 10.0.0.2 1 99999 6 1 1 1 1 ACCEPT OK"}},{{"id":"3","timestamp":3,"message":"{DEFAULT_HEADER}"}}]}}"#
    );
    let control = r#"{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{"id":"","timestamp":1432826855000,"message":"CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}"#;
    let text: Vec<String> = vec![
        format!("{SSH_ACCEPT}\n"),
        format!(
            "{SSH_ACCEPT}\n2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - NODATA\n\
             2 123456789010 eni-11111111aaaaaaaaa - - - - - - - 1431280876 1431280934 - SKIPDATA\n"
        ),
        "2 123456789010 eni-1235b8ca123456789 203.0.113.12 172.31.16.139 0 0 1 4 336 1432917027 1432917142 ACCEPT OK\n\
         2 123456789010 eni-1235b8ca123456789 2001:db8:1234:a100:8d6e:3477:df66:f105 2001:db8:1234:a102:3304:8879:34cf:4071 34892 22 6 54 8855 1477913708 1477913820 ACCEPT OK"
            .to_owned(),
        format!("{v3}\n{v3}\r\n{SSH_ACCEPT}\n"),
        format!(
            "- eni-1235b8ca123456789 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5\n\
             i-01234567890123456 eni-1111aaaa2222bbbb3 10.0.1.5 203.0.113.5 10.0.1.5 203.0.113.5\n"
        ),
        format!("{tgw}\n{SSH_ACCEPT}\n"),
        format!("{DEFAULT_HEADER}\n{SSH_ACCEPT}\n{NAT_HEADER}\n- eni-1 10.0.1.5 10.0.0.220 10.0.1.5 203.0.113.5\n{SSH_ACCEPT}\n"),
        format!("${{version}} account_id ${{srcaddr}}\n2 1 10.0.0.1\n\nsrcaddr dstaddr\n10.0.0.1 ::1\n"),
        "version srcaddr srcaddr\nsrcaddr dstaddr\n10.0.0.1 10.0.0.2\nversion brand-new-field srcaddr\n2 x 10.0.0.1\n"
            .to_owned(),
        format!("{{\"message\":\"{SSH_ACCEPT}\"}}\n  {{\"message\":\"{NAT_HEADER}\"}}\r\n{{\"message\":\"{{}}\"}}\n"),
        format!("{cloudwatch}\n{SSH_ACCEPT}\n{control}\n{{\"logEvents\":[]}}\n"),
        "{\"foo\":1}\n{not json\n{\"message\":5}\n{\n{}\n[1]\n".to_owned(),
        // JSON escapes that decode to separators, control characters, quotes.
        r#"{"message":"2 a\nb eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK"}
{"logEvents":[{"message":"2 a\u0001b eni-1\u000bx 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 \"A\" O\\K"},{"message":"\n\n"}]}
{"message":"2\tacct\reni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK\r\n"}
"#
        .to_owned(),
        format!("  {SSH_ACCEPT}  \r\n\t\n\r\n{}\n", SSH_ACCEPT.replace(' ', " \t ")),
        "2 123456789010 eni-1 10.0.0.1 10.0.0.2 65536 0 256 18446744073709551616 18446744073709551615 0 00 ACCEPT OK\n\
         2 x eni-1 010.0.0.1 2001:db8:::1 1 1 1 1 1 1 1 - -\n- - - - - - - - - - - - - -\n"
            .to_owned(),
        "a\"b back\\slash ctl\u{1} é日本🚀 cr\rin <>&'/\n-\n--\n$\n${\n${}\n_\n".to_owned(),
        String::new(),
        "\n".to_owned(),
    ];
    let mut bodies: Vec<Vec<u8>> = text.into_iter().map(String::into_bytes).collect();
    // Invalid UTF-8 in a record, in a header position and in an envelope.
    bodies.push(
        b"2 12\xff3 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 1 1 1 ACCEPT OK\n\xfe\xff\nversion\xc3\n"
            .to_vec(),
    );
    bodies.push(b"{\"message\":\"\xff\"}\n{\"messageType\":\"DATA_MESSAGE\",\"logEvents\":[{\"message\":\"\xe2\x82\"}]}\n".to_vec());
    // Long tokens and lines (but far below MAX_LINE_BYTES, to stay fast).
    let mut long = vec![b'7'; 10_000];
    long.push(b'\n');
    long.extend(std::iter::repeat_n(b'a', 5_000));
    long.extend_from_slice(b" 10.0.0.1\n");
    long.extend(std::iter::repeat_n(b' ', 3_000));
    long.push(b'\n');
    bodies.push(long);
    bodies
}

/// Whole fuzz inputs: control byte, split byte, body.
fn seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for (index, body) in bodies().iter().enumerate() {
        for preset in 0..4u8 {
            for split in [0u8, 1, 2, 5] {
                // Vary the first line number too (bits 2–6).
                let control = preset | ((index as u8 % 32) << 2);
                let mut seed = vec![control, split];
                seed.extend_from_slice(body);
                seeds.push(seed);
            }
        }
        // Custom formats before a NUL.
        for formats in [
            &b"srcaddr dstaddr|version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status"[..],
            b"${srcaddr}${dstaddr} x_y|a",
            b"a b|c d",
            b"Version",
            b"",
            b"version\xff srcaddr",
        ] {
            let mut seed = vec![0x80, 3];
            seed.extend_from_slice(formats);
            seed.push(0);
            seed.extend_from_slice(body);
            seeds.push(seed);
        }
    }
    seeds.push(Vec::new());
    seeds.push(vec![0x81]);
    seeds.push(vec![0x80, 0]);
    seeds
}

/// Tokens the mutator inserts: separators, line ends, JSON syntax, field
/// names, boundary numbers and addresses.
const DICTIONARY: &[&[u8]] = &[
    b" ",
    b"\t",
    b"\n",
    b"\r\n",
    b"\r",
    b"-",
    b"{",
    b"}",
    b"\"",
    b"\\",
    b":",
    b".",
    b"0",
    b"00",
    b"255",
    b"256",
    b"65535",
    b"65536",
    b"4294967296",
    b"18446744073709551615",
    b"18446744073709551616",
    b"::",
    b"::ffff:1.2.3.4",
    b"10.0.0.1",
    b"version",
    b"srcaddr",
    b"${",
    b"account_id",
    b"brand-new-field",
    b"\\n",
    b"\\r",
    b"\\t",
    b"\\u0001",
    b"\\u00e9",
    b"\xff",
    b"\xc3\xa9",
    b"\x00",
    b"{\"message\":\"",
    b"\"}",
    b"{\"logEvents\":[{\"message\":\"",
    b"\"}]}",
    b"\"messageType\":\"CONTROL_MESSAGE\",",
    b"instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr\n",
];

const MAX_INPUT: usize = 4096;

fn mutate(rng: &mut XorShift, input: &mut Vec<u8>, seeds: &[Vec<u8>]) {
    for _ in 0..=rng.below(4) {
        let len = input.len();
        match rng.below(7) {
            // Overwrite a byte.
            0 if len > 0 => {
                let at = rng.below(len);
                input[at] = rng.next() as u8;
            }
            // Insert a dictionary token.
            1 => {
                let token = DICTIONARY[rng.below(DICTIONARY.len())];
                let at = rng.below(len + 1);
                input.splice(at..at, token.iter().copied());
            }
            // Delete a range.
            2 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(16)).min(len);
                input.drain(at..end);
            }
            // Duplicate a range.
            3 if len > 0 => {
                let at = rng.below(len);
                let end = (at + 1 + rng.below(64)).min(len);
                let chunk = input[at..end].to_vec();
                let to = rng.below(len + 1);
                input.splice(to..to, chunk);
            }
            // Splice in part of another seed.
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                if !other.is_empty() {
                    let at = rng.below(other.len());
                    let end = (at + 1 + rng.below(256)).min(other.len());
                    let to = rng.below(len + 1);
                    input.splice(to..to, other[at..end].iter().copied());
                }
            }
            // New control or split byte.
            5 if len > 1 => input[rng.below(2)] = rng.next() as u8,
            // Replace a digit with another digit.
            _ => {
                let digits: Vec<usize> = (0..len).filter(|&i| input[i].is_ascii_digit()).collect();
                if !digits.is_empty() {
                    input[digits[rng.below(digits.len())]] = b'0' + rng.below(10) as u8;
                }
            }
        }
    }
    input.truncate(MAX_INPUT);
}

#[test]
fn seeds_keep_the_invariants() {
    for seed in seeds() {
        check(&seed);
    }
}

#[test]
fn mutations_keep_the_invariants() {
    let seeds = seeds();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut input = Vec::new();
    for _ in 0..20_000 {
        // Mostly mutate a fresh seed; sometimes keep mutating the last input.
        if input.is_empty() || rng.below(4) != 0 {
            input.clone_from(&seeds[rng.below(seeds.len())]);
        }
        mutate(&mut rng, &mut input, &seeds);
        check(&input);
    }
}

#[test]
fn line_too_long_keeps_the_invariants() {
    let mut input = vec![0u8, 1];
    input.extend_from_slice(SSH_ACCEPT.as_bytes());
    input.push(b'\n');
    input.extend(std::iter::repeat_n(b'{', MAX_LINE_BYTES + 1));
    input.extend_from_slice(b"\r\n");
    input.extend_from_slice(SSH_ACCEPT.as_bytes());
    check(&input);
}
