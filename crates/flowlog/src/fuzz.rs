//! Invariant checks shared by the cargo-fuzz target (`fuzz/fuzz_targets/parse.rs`)
//! and the deterministic smoke test (`tests/suite/fuzz_smoke.rs`). Not part
//! of the supported API.
//!
//! Input layout:
//! - byte 0 (`control`): bits 0–1 pick one of [`PRESETS`]; bits 2–6 pick the
//!   first line number (`1 + n * 1000`); with bit 7 set and a NUL byte in the
//!   rest, the bytes before the NUL are `|`-separated formats instead.
//! - byte 1: the split point, as an index into the line starts of the batch.
//! - the rest: the batch.

use crate::batch::{
    BatchOutput, Config, MAX_LINE_BYTES, Processor, RejectReason, TOO_LONG_RAW_BYTES,
};
use crate::format::{DEFAULT_FORMAT, Format};

/// Configurations picked by bits 0–1 of the first byte.
pub const PRESETS: [&[&str]; 4] = [
    // The default version 2 format.
    &[],
    // Several formats, told apart by field count (14, 21, 6, 36, 5, 3).
    &[
        DEFAULT_FORMAT,
        "version vpc-id subnet-id instance-id interface-id account-id type srcaddr dstaddr srcport dstport pkt-srcaddr pkt-dstaddr protocol bytes packets start end action tcp-flags log-status",
        "instance-id interface-id srcaddr dstaddr pkt-srcaddr pkt-dstaddr",
        "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets bytes start end log-status type packets-lost-no-route packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region flow-direction pkt-src-aws-service pkt-dst-aws-service",
        "srcaddr dstaddr srcport dstport protocol",
        "version brand-new-field srcaddr",
    ],
    // A short format, so that mutated lines often still parse.
    &["${srcaddr} ${dstaddr} ${dstport} ${protocol}"],
    // The default format in the other two spellings, split over two formats.
    &[
        "${version}${account-id}${interface-id} srcaddr dstaddr srcport dstport protocol packets bytes start end action log_status",
        "srcaddr",
    ],
];

/// Runs the processor over `data` as described in the module documentation
/// and panics if an invariant does not hold.
pub fn check(data: &[u8]) {
    let (control, split, rest) = match data {
        [control, split, rest @ ..] => (*control, *split, rest),
        [control] => (*control, 0, &[][..]),
        [] => (0, 0, &[][..]),
    };
    let first_line = 1 + u64::from((control >> 2) & 0x1f) * 1000;
    let custom = if control & 0x80 != 0 {
        rest.iter().position(|&b| b == 0).map(|nul| {
            let formats = String::from_utf8_lossy(&rest[..nul])
                .split('|')
                .map(str::to_owned)
                .collect::<Vec<_>>();
            (formats, &rest[nul + 1..])
        })
    } else {
        None
    };
    let (formats, batch) = custom.unwrap_or_else(|| {
        let preset = PRESETS[usize::from(control & 3)];
        (preset.iter().map(|f| (*f).to_owned()).collect(), rest)
    });
    let config = Config { formats };
    let mut processor = match Processor::new(&config) {
        Ok(processor) => processor,
        Err(error) => {
            assert!(!error.to_string().is_empty(), "empty config error text");
            return;
        }
    };
    check_batch(&mut processor, batch, first_line, split);
}

fn check_batch(processor: &mut Processor, batch: &[u8], first_line: u64, split: u8) {
    let whole = processor.process(batch, first_line, None);
    verify(batch, first_line, &whole);

    // Split at a line start, carrying the header state across.
    let starts: Vec<usize> = std::iter::once(0)
        .chain(memchr::memchr_iter(b'\n', batch).map(|i| i + 1))
        .collect();
    let at = starts[usize::from(split) % starts.len()];
    let (head, tail) = batch.split_at(at);
    let first = processor.process(head, first_line, None);
    verify(head, first_line, &first);
    let tail_line = first_line + line_count(head);
    let second = processor.process(tail, tail_line, first.header.as_deref());
    verify(tail, tail_line, &second);

    let mut ndjson = first.ndjson.clone();
    ndjson.extend_from_slice(&second.ndjson);
    assert!(
        ndjson == whole.ndjson,
        "split at byte {at}: the NDJSON differs from the whole batch's"
    );
    assert_eq!(first.records + second.records, whole.records, "records");
    assert_eq!(
        first.rejected.len() + second.rejected.len(),
        whole.rejected.len(),
        "rejected count"
    );
    let rejected: Vec<_> = first.rejected.iter().chain(&second.rejected).collect();
    for (split, whole) in rejected.iter().zip(&whole.rejected) {
        assert_eq!(*split, whole, "rejection differs after split at byte {at}");
    }
    assert_eq!(first.headers + second.headers, whole.headers, "headers");
    assert_eq!(first.skipped + second.skipped, whole.skipped, "skipped");
    assert_eq!(second.header, whole.header, "header state at the end");

    // The processor keeps no state that changes a later result.
    let again = processor.process(batch, first_line, None);
    assert!(again == whole, "the same batch gave a different result");
}

/// Number of lines `process` sees in `data`.
fn line_count(data: &[u8]) -> u64 {
    let newlines = memchr::memchr_iter(b'\n', data).count();
    let tail = usize::from(!data.is_empty() && data.last() != Some(&b'\n'));
    (newlines + tail) as u64
}

/// Token separators, as in `batch::is_separator`: spaces, tabs and a stray `\r`.
fn is_separator(byte: u8) -> bool {
    byte == b' ' || byte == b'\t' || byte == b'\r'
}

/// Checks one batch's output against its input.
fn verify(data: &[u8], first_line: u64, out: &BatchOutput) {
    // NDJSON: UTF-8, one flat JSON object per record.
    let text = match std::str::from_utf8(&out.ndjson) {
        Ok(text) => text,
        Err(error) => panic!("the NDJSON is not UTF-8: {error}"),
    };
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "the NDJSON does not end with a newline"
    );
    let mut objects = 0u64;
    for line in text.split_terminator('\n') {
        let value: serde_json::Value = match serde_json::from_str(line) {
            Ok(value) => value,
            Err(error) => panic!("NDJSON line is not JSON ({error}): {line}"),
        };
        let Some(object) = value.as_object() else {
            panic!("NDJSON line is not a JSON object: {line}");
        };
        for (key, value) in object {
            assert!(
                !key.is_empty() && !key.contains('-'),
                "bad key `{key}` in {line}"
            );
            assert!(
                value.is_u64() || value.is_string(),
                "`{key}` is neither an unsigned integer nor a string in {line}"
            );
        }
        objects += 1;
    }
    assert_eq!(objects, out.records, "records vs NDJSON lines");

    // Rejections point at a line of this batch, in order.
    let lines: Vec<&[u8]> = {
        let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
        if data.is_empty() || data.last() == Some(&b'\n') {
            lines.pop();
        }
        lines
    };
    let mut envelopes = 0u64;
    for line in &lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.len() <= MAX_LINE_BYTES && line.iter().find(|&&b| !is_separator(b)) == Some(&b'{') {
            envelopes += 1;
        }
    }
    let total = lines.len() as u64;
    let mut previous = first_line;
    for rejected in &out.rejected {
        assert!(
            rejected.line >= first_line && rejected.line < first_line + total,
            "rejected line {} outside {first_line}..{}",
            rejected.line,
            first_line + total
        );
        assert!(rejected.line >= previous, "rejections out of order");
        previous = rejected.line;
        assert!(!rejected.message.is_empty(), "empty message");
        let index = usize::try_from(rejected.line - first_line).unwrap_or(usize::MAX);
        let line = lines[index];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let envelope =
            line.len() <= MAX_LINE_BYTES && line.iter().find(|&&b| !is_separator(b)) == Some(&b'{');
        if rejected.event.is_some() {
            assert!(envelope, "an event index on a line that is no envelope");
        }
        if rejected.reason == RejectReason::LineTooLong {
            // Only the start of an over-long line is kept.
            assert!(
                line.len() > MAX_LINE_BYTES,
                "line {} is not too long",
                rejected.line
            );
            assert_eq!(
                rejected.raw,
                line[..TOO_LONG_RAW_BYTES],
                "raw of line {}",
                rejected.line
            );
        } else if !envelope {
            assert!(
                rejected.raw == line,
                "raw of line {} is not the line",
                rejected.line
            );
        }
        match rejected.reason {
            RejectReason::LineTooLong => {}
            RejectReason::InvalidUtf8 => assert!(std::str::from_utf8(&rejected.raw).is_err()),
            RejectReason::InvalidInteger | RejectReason::InvalidAddress => {
                assert!(rejected.field.is_some(), "no field for {rejected:?}");
                let Some(value) = rejected.value.as_deref() else {
                    panic!("no value for {rejected:?}");
                };
                assert!(
                    rejected
                        .raw
                        .split(|&b| is_separator(b))
                        .any(|token| token == value.as_bytes()),
                    "the refused value is not a token of the record: {rejected:?}"
                );
            }
            RejectReason::InvalidHeader => {
                assert!(rejected.field.is_some(), "no field for {rejected:?}");
            }
            RejectReason::FieldCount | RejectReason::InvalidJson => {
                assert!(rejected.field.is_none() && rejected.value.is_none());
            }
        }
    }

    // Every line has exactly one outcome, except envelopes (zero or more).
    let outcomes = out.records + out.rejected.len() as u64 + out.headers + out.skipped;
    if envelopes == 0 {
        assert_eq!(outcomes, total, "outcomes vs lines");
    } else {
        assert!(outcomes >= total - envelopes, "fewer outcomes than lines");
    }

    // The header handed out can be handed back.
    if let Some(header) = &out.header {
        match Format::parse(header) {
            Ok(format) => assert_eq!(&format.to_header(), header, "header not canonical"),
            Err(error) => panic!("the header `{header}` does not parse: {error}"),
        }
    }
}
