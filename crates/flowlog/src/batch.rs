//! Batch processing: raw input lines in, NDJSON and rejection reports out.
//!
//! This is the whole work of the component; the guest only converts types.

use std::borrow::Cow;

use serde::Deserialize;

use crate::field::FieldKind;
use crate::format::{self, ConfigError, Format, FormatSet};
use crate::value;

/// Longest line accepted, in bytes (4 MiB). Flow-log records are far shorter;
/// the limit leaves room for CloudWatch Logs subscription payloads (≤ 1 MiB
/// of events, plus JSON overhead) and bounds memory on input without newlines.
pub const MAX_LINE_BYTES: usize = 4 << 20;

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
        })
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
        let mut out = BatchOutput {
            // A default-format record grows by about 2.3x as JSON.
            ndjson: Vec::with_capacity(data.len() * 5 / 2 + 64),
            ..BatchOutput::default()
        };
        self.set_header(header);
        let mut line = first_line;
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', data) {
            self.line(
                &data[start..end],
                LineRef {
                    line,
                    event: None,
                    nested: false,
                },
                &mut out,
            );
            line += 1;
            start = end + 1;
        }
        if start < data.len() {
            self.line(
                &data[start..],
                LineRef {
                    line,
                    event: None,
                    nested: false,
                },
                &mut out,
            );
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

    fn line(&mut self, raw: &[u8], at: LineRef, out: &mut BatchOutput) {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.len() > MAX_LINE_BYTES {
            let message = format!(
                "the line is {} bytes long; the limit is {MAX_LINE_BYTES}",
                raw.len()
            );
            reject(
                out,
                at,
                raw,
                Refusal::new(RejectReason::LineTooLong, message),
            );
            return;
        }
        let Some(first) = raw.iter().position(|&b| b != b' ' && b != b'\t') else {
            out.skipped += 1;
            return;
        };
        if raw[first] == b'{' && !at.nested {
            self.envelope(raw, at, out);
            return;
        }
        let text = match std::str::from_utf8(raw) {
            Ok(text) => text,
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
        };
        tokenize(text, &mut self.tokens);
        if format::may_be_header(raw[first]) {
            let tokens = self.tokens.iter().map(|&(s, e)| &text[s..e]);
            if format::is_header(tokens.clone()) {
                out.headers += 1;
                let spelled: Vec<&str> = tokens.collect();
                match Format::parse(&spelled.join(" ")) {
                    Ok(format) => {
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
                        // It was counted as a rejected record, not a header.
                        out.headers -= 1;
                        reject(out, at, raw, refusal);
                    }
                }
                return;
            }
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
        let mark = out.ndjson.len();
        match write_record(format, text, &self.tokens, &mut out.ndjson) {
            Ok(()) => out.records += 1,
            Err(refusal) => {
                out.ndjson.truncate(mark);
                reject(out, at, raw, refusal);
            }
        }
    }

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

    fn envelope(&mut self, raw: &[u8], at: LineRef, out: &mut BatchOutput) {
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
                self.line(event.message.trim_end().as_bytes(), nested, out);
            }
        } else if envelope.message_type.as_deref() == Some("CONTROL_MESSAGE") {
            out.skipped += 1;
        } else if let Some(message) = envelope.message {
            let nested = LineRef {
                nested: true,
                ..at
            };
            self.line(message.trim_end().as_bytes(), nested, out);
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

/// Splits on runs of spaces and tabs.
#[inline]
fn tokenize(text: &str, tokens: &mut Vec<(usize, usize)>) {
    tokens.clear();
    let bytes = text.as_bytes();
    let mut start = None;
    for (index, &byte) in bytes.iter().enumerate() {
        let separator = byte == b' ' || byte == b'\t';
        match (separator, start) {
            (true, Some(s)) => {
                tokens.push((s, index));
                start = None;
            }
            (false, None) => start = Some(index),
            _ => {}
        }
    }
    if let Some(s) = start {
        tokens.push((s, bytes.len()));
    }
}

/// Writes one record as a JSON object followed by `\n`, or says which field
/// is wrong. On error `out` holds a partial object: the caller truncates it.
#[inline]
fn write_record(
    format: &Format,
    text: &str,
    tokens: &[(usize, usize)],
    out: &mut Vec<u8>,
) -> Result<(), Refusal> {
    out.push(b'{');
    let mut first = true;
    for (spec, &(start, end)) in format.fields().iter().zip(tokens) {
        let token = &text[start..end];
        if token == "-" {
            continue;
        }
        out.extend_from_slice(if first {
            &spec.json_key[1..]
        } else {
            &spec.json_key
        });
        first = false;
        match spec.kind {
            FieldKind::Integer { max } => {
                let bytes = token.as_bytes();
                let Some(number) = value::parse_uint(bytes, max) else {
                    let message = if value::parse_uint(bytes, u64::MAX).is_some() {
                        format!("`{token}` is out of range for {} (0 to {max})", spec.name)
                    } else {
                        format!("`{token}` is not an unsigned integer")
                    };
                    return Err(Refusal {
                        field: Some(spec.name.clone()),
                        value: Some(token.to_owned()),
                        reason: RejectReason::InvalidInteger,
                        message,
                    });
                };
                if bytes.len() > 1 && bytes[0] == b'0' {
                    // JSON forbids leading zeros: write the canonical digits.
                    out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
                } else {
                    out.extend_from_slice(bytes);
                }
            }
            FieldKind::Address => {
                if value::parse_ip(token).is_none() {
                    return Err(Refusal {
                        field: Some(spec.name.clone()),
                        value: Some(token.to_owned()),
                        reason: RejectReason::InvalidAddress,
                        message: format!("`{token}` is not an IPv4 or IPv6 address"),
                    });
                }
                out.push(b'"');
                out.extend_from_slice(token.as_bytes());
                out.push(b'"');
            }
            FieldKind::Text => value::push_json_string(out, token),
        }
    }
    out.extend_from_slice(b"}\n");
    Ok(())
}
