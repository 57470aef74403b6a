//! Batch processing: raw input lines in, NDJSON and rejection reports out.
//!
//! This is the whole work of the component; the guest only converts types.

use std::borrow::Cow;

use serde::Deserialize;

use crate::field::FieldKind;
use crate::format::{self, ConfigError, FieldSpec, Format, FormatSet};
use crate::out::Out;
use crate::value;

/// Longest line accepted, in bytes (4 MiB). Flow-log records are far shorter;
/// the limit leaves room for CloudWatch Logs subscription payloads (≤ 1 MiB
/// of events, plus JSON overhead) and bounds memory on input without newlines.
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// The NDJSON that [`Processor::process_streaming`] gathers before it hands
/// a piece over, in the component: a piece this size stays in the CPU's
/// first- and second-level caches until the host has copied it.
pub const PIECE_BYTES: usize = 32 * 1024;

/// How much of an over-long line its rejection keeps in `raw` (64 KiB).
pub const TOO_LONG_RAW_BYTES: usize = 64 * 1024;

/// Processor configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Config {
    /// Custom formats; empty means the default version 2 format.
    pub formats: Vec<String>,
}

/// The kind of problem that made a record unusable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RejectReason {
    /// The number of fields matches no known format.
    FieldCount,
    /// An integer field holds something else, or a value out of range.
    InvalidInteger,
    /// An address field holds something that is not an IP address.
    InvalidAddress,
    /// The line is not valid UTF-8.
    InvalidUtf8,
    /// The line is longer than [`MAX_LINE_BYTES`].
    LineTooLong,
    /// A header line that cannot be used as a format.
    InvalidHeader,
    /// A `{`-line that is not a JSON envelope flowtag understands.
    InvalidJson,
}

impl RejectReason {
    /// The kebab-case name used in reports (and in the WIT enum).
    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::FieldCount => "field-count",
            RejectReason::InvalidInteger => "invalid-integer",
            RejectReason::InvalidAddress => "invalid-address",
            RejectReason::InvalidUtf8 => "invalid-utf8",
            RejectReason::LineTooLong => "line-too-long",
            RejectReason::InvalidHeader => "invalid-header",
            RejectReason::InvalidJson => "invalid-json",
        }
    }
}

/// A record that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Line number in the source (1-based).
    pub line: u64,
    /// Index of the log event, for records inside a CloudWatch Logs payload.
    pub event: Option<u32>,
    /// The field (hyphenated AWS name) whose value was refused.
    pub field: Option<String>,
    /// The refused value.
    pub value: Option<String>,
    /// The kind of problem.
    pub reason: RejectReason,
    /// Human-readable explanation.
    pub message: String,
    /// The raw record.
    pub raw: Vec<u8>,
}

/// The result of processing one batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchOutput {
    /// One JSON object per accepted record, each ended by `\n`.
    pub ndjson: Vec<u8>,
    /// Accepted records.
    pub records: u64,
    /// Rejected records, in input order.
    pub rejected: Vec<Rejected>,
    /// Header lines seen.
    pub headers: u64,
    /// Blank lines and CloudWatch Logs control messages.
    pub skipped: u64,
    /// The header in force at the end of the batch.
    pub header: Option<String>,
}

/// Adds fields to every accepted record (enrichment). Called after the
/// record's own fields are written and validated.
pub trait Enrich: std::fmt::Debug {
    /// Appends `,"key":value` pairs (each with its leading comma) to `out`,
    /// straight after the record's own fields.
    fn enrich(&mut self, record: &RecordView<'_>, out: &mut Out);

    /// Fills in whatever [`Enrich::enrich`] left to be filled in later (the
    /// bytes it wrote keep their length). Called at the end of every batch,
    /// before the output is handed over, and before any byte that `enrich`
    /// wrote is moved.
    fn finish(&mut self, _out: &mut Out) {}
}

/// A field's value as validation parsed it, kept for [`RecordView`] so
/// that enrichers do not parse numbers and addresses a second time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parsed {
    /// `-`, or a text field.
    Other,
    Integer(u64),
    Address(std::net::IpAddr),
}

/// Read access to a validated record, for [`Enrich`].
#[derive(Debug, Clone, Copy)]
pub struct RecordView<'a> {
    format: &'a Format,
    data: &'a [u8],
    tokens: &'a [(usize, usize)],
    /// One entry per field, in format order.
    values: &'a [Parsed],
    /// The record's line as text, starting at offset `line_start` of
    /// `data`, when it is valid UTF-8: fields are then sliced from it
    /// instead of being checked one by one (enrichers read a dozen).
    line: Option<&'a str>,
    line_start: usize,
}

impl<'a> RecordView<'a> {
    /// The format the record was parsed with.
    pub fn format(&self) -> &'a Format {
        self.format
    }

    /// The value at `position`, or `None` for `-` or no position.
    #[inline]
    pub fn text(&self, position: Option<usize>) -> Option<&'a str> {
        let (start, end) = *self.tokens.get(position?)?;
        let token = match self.line {
            Some(line) => line.get(start.checked_sub(self.line_start)?..end - self.line_start)?,
            None => std::str::from_utf8(&self.data[start..end]).ok()?,
        };
        (token != "-").then_some(token)
    }

    /// The bytes of the field at `position`, or `None` for `-` or no
    /// position: for callers that look at a field before they need it as
    /// text, which costs a UTF-8 check.
    #[inline]
    pub fn bytes(&self, position: Option<usize>) -> Option<&'a [u8]> {
        let (start, end) = *self.tokens.get(position?)?;
        let token = self.data.get(start..end)?;
        (token != b"-").then_some(token)
    }

    /// The integer at `position`, or `None` for `-`, no position or a
    /// field that is not an integer field.
    #[inline]
    pub fn integer(&self, position: Option<usize>) -> Option<u64> {
        match self.values.get(position?)? {
            Parsed::Integer(number) => Some(*number),
            _ => None,
        }
    }

    /// The address at `position`, or `None` for `-`, no position or a field
    /// that is not an address field.
    #[inline]
    pub fn address(&self, position: Option<usize>) -> Option<std::net::IpAddr> {
        match self.values.get(position?)? {
            Parsed::Address(ip) => Some(*ip),
            _ => None,
        }
    }
}

/// A header line in force, with its parsed format.
#[derive(Debug, Clone)]
struct ActiveHeader {
    text: String,
    format: Format,
}

/// A configured flow-log processor. Holds no stream state between calls: the
/// header in force travels in and out of [`Processor::process`].
#[derive(Debug)]
pub struct Processor {
    formats: FormatSet,
    /// The header of the last batch, kept so that a batch that starts under
    /// the same header does not parse it again.
    header: Option<ActiveHeader>,
    /// Scratch: token offsets of the current line.
    tokens: Vec<(usize, usize)>,
    /// Scratch: the parsed values of the current line's fields.
    values: Vec<Parsed>,
    /// Adds enrichment to every accepted record.
    enricher: Option<Box<dyn Enrich>>,
    /// Output bytes per input byte of the last batch, in eighths: sizes the
    /// next batch's buffer (enrichment makes records 10x longer), so that
    /// it is not grown, copied and zeroed again several times per batch.
    expansion: usize,
}

/// Where a line came from, for reports.
#[derive(Debug, Clone, Copy)]
struct LineRef {
    line: u64,
    event: Option<u32>,
    /// Inside a JSON envelope: never parsed as JSON again.
    nested: bool,
}

/// Why one record was refused, before the line context is added.
struct Refusal {
    field: Option<String>,
    value: Option<String>,
    reason: RejectReason,
    message: String,
}

impl Refusal {
    fn new(reason: RejectReason, message: String) -> Refusal {
        Refusal {
            field: None,
            value: None,
            reason,
            message,
        }
    }
}

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "messageType")]
    message_type: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "logEvents")]
    log_events: Option<Vec<LogEvent<'a>>>,
}

#[derive(Deserialize)]
struct LogEvent<'a> {
    #[serde(borrow)]
    message: Cow<'a, str>,
}

impl Processor {
    /// Validates the configuration and builds a processor.
    pub fn new(config: &Config) -> Result<Processor, ConfigError> {
        Ok(Processor {
            formats: FormatSet::new(&config.formats)?,
            header: None,
            tokens: Vec::with_capacity(64),
            values: Vec::with_capacity(64),
            enricher: None,
            // A default-format record grows by about 2.3x as JSON.
            expansion: 20,
        })
    }

    /// Adds `enricher`'s fields to every accepted record.
    pub fn set_enricher(&mut self, enricher: Box<dyn Enrich>) {
        self.enricher = Some(enricher);
    }

    /// The configured formats.
    pub fn formats(&self) -> &FormatSet {
        &self.formats
    }

    /// Processes every line of `data`. `first_line` is the line number of
    /// the first line; `header` the header in force at the start (from the
    /// previous batch's [`BatchOutput::header`]), or `None` at the start of
    /// a source.
    pub fn process(&mut self, data: &[u8], first_line: u64, header: Option<&str>) -> BatchOutput {
        let capacity = (data.len().saturating_mul(self.expansion) / 8).saturating_add(4096);
        self.run(data, first_line, header, capacity, usize::MAX, &mut |_| {})
    }

    /// As [`Processor::process`], but hands the NDJSON to `sink` as it is
    /// made, in pieces of whole lines (each at least `piece_bytes` long and
    /// never empty), and returns in [`BatchOutput::ndjson`] only what
    /// follows the last piece. The pieces and that rest, concatenated, are
    /// what `process` returns.
    ///
    /// A piece of a few tens of KiB is still in the CPU's caches when the
    /// sink copies it, and the processor needs no buffer for the whole
    /// batch's output (megabytes with enrichment) that it would write once
    /// and then have copied out of memory.
    pub fn process_streaming(
        &mut self,
        data: &[u8],
        first_line: u64,
        header: Option<&str>,
        piece_bytes: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) -> BatchOutput {
        // Room for a piece plus the record that takes it past the mark.
        let capacity = piece_bytes.saturating_add(64 * 1024);
        self.run(data, first_line, header, capacity, piece_bytes, sink)
    }

    fn run(
        &mut self,
        data: &[u8],
        first_line: u64,
        header: Option<&str>,
        capacity: usize,
        piece_bytes: usize,
        sink: &mut dyn FnMut(&[u8]),
    ) -> BatchOutput {
        let mut ndjson = Out::with_capacity(capacity);
        let mut handed_over = 0;
        let mut out = BatchOutput::default();
        self.set_header(header);
        let clean = is_clean(data);
        let mut line = first_line;
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', data) {
            let at = LineRef {
                line,
                event: None,
                nested: false,
            };
            self.line(data, start, end, clean, at, &mut out, &mut ndjson);
            line = line.saturating_add(1);
            start = end + 1;
            if ndjson.pos() >= piece_bytes.max(1) {
                // Placeholders are filled in before their bytes leave.
                if let Some(enricher) = self.enricher.as_deref_mut() {
                    enricher.finish(&mut ndjson);
                }
                sink(ndjson.as_bytes());
                handed_over += ndjson.pos();
                ndjson.rewind(0);
            }
        }
        if start < data.len() {
            let at = LineRef {
                line,
                event: None,
                nested: false,
            };
            self.line(data, start, data.len(), clean, at, &mut out, &mut ndjson);
        }
        if let Some(enricher) = self.enricher.as_deref_mut() {
            enricher.finish(&mut ndjson);
        }
        out.ndjson = ndjson.into_vec();
        if data.len() >= 4096 {
            // A little over the last ratio, so that a similar batch fits.
            let total = handed_over + out.ndjson.len();
            self.expansion = (total * 8 / data.len() + 2).clamp(8, 256);
        }
        out.header = self.header.as_ref().map(|h| h.text.clone());
        out
    }

    fn set_header(&mut self, header: Option<&str>) {
        match header {
            None => self.header = None,
            Some(text) if self.header.as_ref().is_some_and(|h| h.text == text) => {}
            Some(text) => {
                // A header the caller hands back was accepted by this code
                // before; one that no longer parses is dropped, not trusted.
                self.header = Format::parse(text).ok().map(|format| ActiveHeader {
                    text: text.to_owned(),
                    format,
                });
            }
        }
    }

    /// Handles the line `data[start..end]`. `clean` says that all of `data`
    /// is printable ASCII without `"` or `\\`, so the line needs neither a
    /// UTF-8 check nor JSON escaping.
    #[allow(clippy::too_many_arguments)]
    fn line(
        &mut self,
        data: &[u8],
        start: usize,
        mut end: usize,
        clean: bool,
        at: LineRef,
        out: &mut BatchOutput,
        ndjson: &mut Out,
    ) {
        if end > start && data[end - 1] == b'\r' {
            end -= 1;
        }
        let raw = &data[start..end];
        if raw.len() > MAX_LINE_BYTES {
            let message = format!(
                "the line is {} bytes long; the limit is {MAX_LINE_BYTES}; only its first {TOO_LONG_RAW_BYTES} bytes are kept in `raw`",
                raw.len()
            );
            reject(
                out,
                at,
                &raw[..TOO_LONG_RAW_BYTES],
                Refusal::new(RejectReason::LineTooLong, message),
            );
            return;
        }
        let Some(first) = raw.iter().position(|&b| !is_separator(b)) else {
            out.skipped += 1;
            return;
        };
        if raw[first] == b'{' && !at.nested {
            self.envelope(raw, at, out, ndjson);
            return;
        }
        let text = if clean {
            None
        } else {
            match std::str::from_utf8(raw) {
                Ok(text) => Some(text),
                Err(error) => {
                    let message = format!(
                        "the line is not valid UTF-8 (byte {} of the line)",
                        error.valid_up_to() + 1
                    );
                    reject(
                        out,
                        at,
                        raw,
                        Refusal::new(RejectReason::InvalidUtf8, message),
                    );
                    return;
                }
            }
        };
        tokenize(data, start + first, end, &mut self.tokens);
        if format::may_be_header(raw[first]) && self.header_line(data, raw, at, out) {
            return;
        }
        let count = self.tokens.len();
        let format = match &self.header {
            Some(header) if header.format.len() == count => &header.format,
            _ => match self.formats.by_count(count) {
                Some(format) => format,
                None => {
                    let message = self.field_count_message(count);
                    reject(
                        out,
                        at,
                        raw,
                        Refusal::new(RejectReason::FieldCount, message),
                    );
                    return;
                }
            },
        };
        let mark = ndjson.pos();
        ndjson.reserve(format.max_json_len(raw.len()));
        // Parsed values are kept only for an enricher to read.
        let write = match self.enricher {
            Some(_) => write_record::<true>,
            None => write_record::<false>,
        };
        let written = write(
            format,
            data,
            &self.tokens,
            text.is_none(),
            ndjson,
            &mut self.values,
        );
        match written {
            Ok(empty) => {
                if let Some(enricher) = self.enricher.as_deref_mut() {
                    let view = RecordView {
                        format,
                        data,
                        tokens: &self.tokens,
                        values: &self.values,
                        line: text,
                        line_start: start,
                    };
                    let fields_end = ndjson.pos();
                    enricher.enrich(&view, ndjson);
                    // Drop the leading comma when the record had no fields.
                    if empty {
                        enricher.finish(ndjson);
                        ndjson.remove(fields_end);
                    }
                }
                ndjson.push(b'}');
                ndjson.push(b'\n');
                out.records += 1;
            }
            Err(refusal) => {
                ndjson.rewind(mark);
                reject(out, at, raw, refusal);
            }
        }
    }

    /// If the tokenized line is a header line, makes it the header in force
    /// (or rejects it) and returns true.
    #[inline(never)]
    fn header_line(&mut self, data: &[u8], raw: &[u8], at: LineRef, out: &mut BatchOutput) -> bool {
        let tokens = || {
            self.tokens
                .iter()
                .map(|&(s, e)| std::str::from_utf8(&data[s..e]).unwrap_or(""))
        };
        if !format::is_header(tokens()) {
            return false;
        }
        let spelled: Vec<&str> = tokens().collect();
        match Format::parse(&spelled.join(" ")) {
            Ok(format) => {
                out.headers += 1;
                self.header = Some(ActiveHeader {
                    text: format.to_header(),
                    format,
                });
            }
            Err(error) => {
                let refusal = Refusal {
                    field: Some(error.token().to_owned()),
                    value: None,
                    reason: RejectReason::InvalidHeader,
                    message: format!("header line ignored: {error}"),
                };
                reject(out, at, raw, refusal);
            }
        }
        true
    }

    #[cold]
    #[inline(never)]
    fn field_count_message(&self, count: usize) -> String {
        let configured = self.formats.counts();
        let configured: Vec<String> = configured.iter().map(usize::to_string).collect();
        match &self.header {
            Some(header) => format!(
                "the record has {count} fields; the header in force has {} and the configured formats have {}",
                header.format.len(),
                configured.join(" or ")
            ),
            None => format!(
                "the record has {count} fields; the configured formats have {}",
                configured.join(" or ")
            ),
        }
    }

    /// A JSON line: a CloudWatch Logs event or subscription payload, or a
    /// shipper's record. Out of line, like the other rare paths of
    /// [`Processor::line`], to keep the code run for every line small.
    #[inline(never)]
    fn envelope(&mut self, raw: &[u8], at: LineRef, out: &mut BatchOutput, ndjson: &mut Out) {
        let envelope: Envelope<'_> = match serde_json::from_slice(raw) {
            Ok(envelope) => envelope,
            Err(error) => {
                let message = format!("not a JSON envelope flowtag understands: {error}");
                reject(
                    out,
                    at,
                    raw,
                    Refusal::new(RejectReason::InvalidJson, message),
                );
                return;
            }
        };
        if let Some(events) = envelope.log_events {
            if envelope.message_type.as_deref() == Some("CONTROL_MESSAGE") {
                out.skipped += 1;
                return;
            }
            for (index, event) in events.iter().enumerate() {
                let nested = LineRef {
                    line: at.line,
                    event: Some(u32::try_from(index).unwrap_or(u32::MAX)),
                    nested: true,
                };
                let message = event.message.trim_end().as_bytes();
                // `is_clean` lets `\n` through (a line end in a batch), but inside a
                // message it is part of a value and must be escaped.
                let clean = is_clean(message) && !message.contains(&b'\n');
                self.line(message, 0, message.len(), clean, nested, out, ndjson);
            }
        } else if envelope.message_type.as_deref() == Some("CONTROL_MESSAGE") {
            out.skipped += 1;
        } else if let Some(message) = envelope.message {
            let nested = LineRef { nested: true, ..at };
            let message = message.trim_end().as_bytes();
            let clean = is_clean(message) && !message.contains(&b'\n');
            self.line(message, 0, message.len(), clean, nested, out, ndjson);
        } else {
            let message =
                "a JSON line needs a `message` string or a `logEvents` list (CloudWatch Logs)"
                    .to_owned();
            reject(
                out,
                at,
                raw,
                Refusal::new(RejectReason::InvalidJson, message),
            );
        }
    }
}

#[cold]
#[inline(never)]
fn reject(out: &mut BatchOutput, at: LineRef, raw: &[u8], refusal: Refusal) {
    out.rejected.push(Rejected {
        line: at.line,
        event: at.event,
        field: refusal.field,
        value: refusal.value,
        reason: refusal.reason,
        message: refusal.message,
        raw: raw.to_vec(),
    });
}

/// Token separators: runs of spaces and tabs (and a stray `\r`, which
/// would otherwise need escaping inside a value).
#[inline]
fn is_separator(byte: u8) -> bool {
    byte == b' ' || byte == b'\t' || byte == b'\r'
}

/// Whether every byte is printable ASCII other than `"` and `\\`, or a line
/// separator or tab: such input is valid UTF-8 and needs no JSON escaping.
/// Written as a branch-free fold over blocks so that it vectorises.
fn is_clean(data: &[u8]) -> bool {
    data.chunks(64).all(|block| {
        let mut dirty = false;
        for &byte in block {
            let printable = (0x20..0x7f).contains(&byte) && byte != b'"' && byte != b'\\';
            let whitespace = byte == b'\n' || byte == b'\r' || byte == b'\t';
            dirty |= !(printable | whitespace);
        }
        !dirty
    })
}

/// Splits `data[start..end]` into tokens, as offsets into `data`.
///
/// Sixteen bytes at a time: a block's separator bytes become a bit mask, and
/// only the transitions between separators and token bytes are visited
/// (about two per field instead of one step per byte). When at least 16
/// bytes can be read, the last block of the line reads past `end` (usually
/// into the next line) and counts those bytes as separators, so the line's
/// tail needs no byte loop; only at the very end of `data` does it.
#[inline]
fn tokenize(data: &[u8], start: usize, end: usize, tokens: &mut Vec<(usize, usize)>) {
    tokens.clear();
    // Whether the byte before the block is a separator. The line starts as
    // if after one.
    let mut previous: u32 = 1;
    let mut token_start = start;
    let mut index = start;
    while index < end {
        let Some(block) = data
            .get(index..index + 16)
            .and_then(|b| <&[u8; 16]>::try_from(b).ok())
        else {
            break;
        };
        let mut separators = separator_mask(block);
        if end - index < 16 {
            separators |= u32::MAX << (end - index);
        }
        let mut changes = (separators ^ ((separators << 1) | previous)) & 0xFFFF;
        // Two transitions per iteration (a block usually holds an even
        // number): in the guest each iteration also pays an epoch check.
        let mut transition = |changes: &mut u32| {
            let bit = changes.trailing_zeros();
            let position = index + bit as usize;
            if (separators >> bit) & 1 == 1 {
                tokens.push((token_start, position));
            } else {
                token_start = position;
            }
            *changes &= *changes - 1;
        };
        while changes != 0 {
            transition(&mut changes);
            if changes != 0 {
                transition(&mut changes);
            }
        }
        previous = (separators >> 15) & 1;
        index += 16;
    }
    if index < end {
        for (offset, &byte) in data[index..end].iter().enumerate() {
            let separator = u32::from(is_separator(byte));
            if separator != previous {
                if separator == 1 {
                    tokens.push((token_start, index + offset));
                } else {
                    token_start = index + offset;
                }
            }
            previous = separator;
        }
    }
    if previous == 0 {
        tokens.push((token_start, end));
    }
}

/// Bit `k` is set when byte `k` of `block` is a space, tab or carriage
/// return: three byte compares and a bitmask with simd128.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn separator_mask(block: &[u8; 16]) -> u32 {
    use core::arch::wasm32::{u8x16_bitmask, u8x16_eq, u8x16_splat, u64x2, v128_or};
    let (low, high) = block_words(block);
    let bytes = u64x2(low, high);
    let is = |byte: u8| u8x16_eq(bytes, u8x16_splat(byte));
    u32::from(u8x16_bitmask(v128_or(
        v128_or(is(b' '), is(b'\t')),
        is(b'\r'),
    )))
}

/// Bit `k` is set when byte `k` of `block` is a space, tab or carriage
/// return: two 8-byte words, each through [`separator_bytes`].
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn separator_mask(block: &[u8; 16]) -> u32 {
    let (low, high) = block_words(block);
    word_mask(low) | (word_mask(high) << 8)
}

/// The block's first and last 8 bytes as little-endian words.
#[inline(always)]
fn block_words(block: &[u8; 16]) -> (u64, u64) {
    let mut low = [0u8; 8];
    let mut high = [0u8; 8];
    low.copy_from_slice(&block[..8]);
    high.copy_from_slice(&block[8..]);
    (u64::from_le_bytes(low), u64::from_le_bytes(high))
}

/// The high bits of [`separator_bytes`] gathered into the low 8 bits: the
/// multiplication moves bit `8k` to bit `56 + k` without carries.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline(always)]
fn word_mask(word: u64) -> u32 {
    ((separator_bytes(word) >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u32
}

/// The high bit of each byte of the result is set where `word` holds a
/// space, tab or carriage return (exact: no false positives).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline]
fn separator_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    zero_bytes(word ^ (ONES * u64::from(b' ')))
        | zero_bytes(word ^ (ONES * u64::from(b'\t')))
        | zero_bytes(word ^ (ONES * u64::from(b'\r')))
}

/// The high bit of each byte of the result is set where that byte of `x` is zero.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
#[inline]
fn zero_bytes(x: u64) -> u64 {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    !(((x & LOW7) + LOW7) | x | LOW7)
}

/// Writes one record as an unclosed JSON object (the caller adds any
/// enrichment and `}\n`), or says which field is wrong. Returns whether the
/// object is empty. The caller reserved [`Format::max_json_len`] bytes and
/// rewinds the output on error. `clean`: the tokens need no JSON escaping.
/// With `KEEP_VALUES`, `values` receives each field's parsed value.
#[inline]
fn write_record<const KEEP_VALUES: bool>(
    format: &Format,
    data: &[u8],
    tokens: &[(usize, usize)],
    clean: bool,
    out: &mut Out,
    values: &mut Vec<Parsed>,
) -> Result<bool, Refusal> {
    out.push(b'{');
    values.clear();
    let mut first = true;
    for (spec, &token) in format.fields().iter().zip(tokens) {
        write_field::<KEEP_VALUES>(spec, data, token, clean, out, values, &mut first)?;
    }
    Ok(first)
}

/// Why `token` is not an integer of the field `spec` (at most `max`). Out
/// of line, so that the per-field loop stays small.
#[cold]
#[inline(never)]
fn integer_refusal(spec: &FieldSpec, token: &[u8], max: u64) -> Refusal {
    let token = String::from_utf8_lossy(token).into_owned();
    let message = if value::parse_uint(token.as_bytes(), u64::MAX).is_some() {
        format!("`{token}` is out of range for {} (0 to {max})", spec.name)
    } else {
        format!("`{token}` is not an unsigned integer")
    };
    Refusal {
        field: Some(spec.name.clone()),
        value: Some(token),
        reason: RejectReason::InvalidInteger,
        message,
    }
}

/// Why `token` is not an address (the field `spec`); see [`integer_refusal`].
#[cold]
#[inline(never)]
fn address_refusal(spec: &FieldSpec, token: &[u8]) -> Refusal {
    let token = String::from_utf8_lossy(token).into_owned();
    Refusal {
        field: Some(spec.name.clone()),
        message: format!("`{token}` is not an IPv4 or IPv6 address"),
        value: Some(token),
        reason: RejectReason::InvalidAddress,
    }
}

/// Writes one field of [`write_record`].
#[inline(always)]
fn write_field<const KEEP_VALUES: bool>(
    spec: &FieldSpec,
    data: &[u8],
    (start, end): (usize, usize),
    clean: bool,
    out: &mut Out,
    values: &mut Vec<Parsed>,
    first: &mut bool,
) -> Result<(), Refusal> {
    let token = &data[start..end];
    if token == b"-" {
        if KEEP_VALUES {
            values.push(Parsed::Other);
        }
        return Ok(());
    }
    out.key(&spec.json_key, *first);
    *first = false;
    match spec.kind {
        FieldKind::Integer { max } => {
            let Some(number) = value::parse_uint(token, max) else {
                return Err(integer_refusal(spec, token, max));
            };
            if KEEP_VALUES {
                values.push(Parsed::Integer(number));
            }
            if token.len() > 1 && token[0] == b'0' {
                // JSON forbids leading zeros: write the canonical digits.
                out.slice(itoa::Buffer::new().format(number).as_bytes());
            } else {
                out.token(data, start, end);
            }
        }
        FieldKind::Address => {
            // IPv4 first, without looking for a `:` beforehand: a token
            // with one never parses as IPv4, and most addresses are v4.
            let parsed = value::parse_ipv4(token)
                .map(std::net::IpAddr::V4)
                .or_else(|| {
                    std::str::from_utf8(token)
                        .ok()
                        .and_then(|t| t.parse::<std::net::Ipv6Addr>().ok())
                        .map(std::net::IpAddr::V6)
                });
            let Some(parsed) = parsed else {
                return Err(address_refusal(spec, token));
            };
            if KEEP_VALUES {
                values.push(Parsed::Address(parsed));
            }
            out.push(b'"');
            out.token(data, start, end);
            out.push(b'"');
        }
        FieldKind::Text => {
            if KEEP_VALUES {
                values.push(Parsed::Other);
            }
            if clean || !value::needs_escape(token) {
                out.push(b'"');
                out.token(data, start, end);
                out.push(b'"');
            } else {
                // Not clean means the caller checked the line is UTF-8.
                let text = String::from_utf8_lossy(token);
                let mut escaped = Vec::with_capacity(token.len() * 2 + 2);
                value::push_json_string(&mut escaped, &text);
                out.slice(&escaped);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokenize_naive(data: &[u8], start: usize, end: usize) -> Vec<(usize, usize)> {
        let mut tokens = Vec::new();
        let mut token_start = None;
        for (index, &byte) in data.iter().enumerate().take(end).skip(start) {
            match (is_separator(byte), token_start) {
                (true, Some(s)) => {
                    tokens.push((s, index));
                    token_start = None;
                }
                (false, None) => token_start = Some(index),
                _ => {}
            }
        }
        if let Some(s) = token_start {
            tokens.push((s, end));
        }
        tokens
    }

    #[test]
    fn swar_tokenizer_matches_naive() {
        // Every string of length 0..=11 over a small alphabet, at several
        // offsets, covers word boundaries and all separator patterns.
        let alphabet = [b'a', b' ', b'\t', b'\r', b'-', 0x80, b'\n'];
        let mut tokens = Vec::new();
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..200_000 {
            let state = crate::test_rng::xorshift(&mut seed);
            let len = (state % 70) as usize;
            let data: Vec<u8> = (0..len)
                .map(|i| alphabet[((state >> (i % 60)) as usize + i * 7) % alphabet.len()])
                .collect();
            let start = if len > 0 {
                (state >> 50) as usize % (len + 1)
            } else {
                0
            };
            // The line ends at `end`; what follows it must not count.
            let end = if state.is_multiple_of(3) {
                len
            } else {
                start + (state >> 40) as usize % (len - start + 1)
            };
            tokenize(&data, start, end, &mut tokens);
            assert_eq!(
                tokens,
                tokenize_naive(&data, start, end),
                "{data:?} from {start} to {end}"
            );
        }
    }

    #[test]
    fn separator_mask_matches_bytes() {
        let alphabet = [
            b' ',
            b'\t',
            b'\r',
            b'a',
            b'\n',
            0x80,
            0xa0,
            0x09 ^ 0x80,
            b'-',
            0,
        ];
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..100_000 {
            let block: [u8; 16] = std::array::from_fn(|_| {
                alphabet[(crate::test_rng::xorshift(&mut seed) % alphabet.len() as u64) as usize]
            });
            let expected = (0..16).fold(0u32, |mask, k| {
                mask | (u32::from(is_separator(block[k])) << k)
            });
            assert_eq!(separator_mask(&block), expected, "{block:?}");
        }
    }

    #[test]
    fn clean_detection() {
        assert!(is_clean(b"2 123 eni-1 10.0.0.1\r\n\t"));
        assert!(!is_clean(b"a\"b"));
        assert!(!is_clean(b"a\\b"));
        assert!(!is_clean(b"caf\xc3\xa9"));
        assert!(!is_clean(b"a\x01"));
        assert!(!is_clean(b"a\x7f"));
        let mut long = vec![b'x'; 1000];
        long[777] = b'"';
        assert!(!is_clean(&long));
    }
}
