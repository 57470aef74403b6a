//! Where rejected records and input errors are reported.

use std::io::{self, Write};

use crate::runtime::{Fault, Rejected, reason_name};

/// A rejected record: refused by the component, by the host's framing (a
/// line over the limit), or by the host because the plugin failed on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// Line number in the source (1-based).
    pub line: u64,
    /// Index of the log event inside a CloudWatch Logs payload.
    pub event: Option<u32>,
    /// The field whose value was refused.
    pub field: Option<String>,
    /// The refused value.
    pub value: Option<String>,
    /// Kebab-case reason: the component's (`field-count`, …) or the host's
    /// (`plugin-trap`, `plugin-timeout`, `plugin-memory`).
    pub reason: &'static str,
    /// Human-readable explanation.
    pub message: String,
    /// The raw record.
    pub raw: Vec<u8>,
    /// The plugin that failed on the record, for the host's reasons.
    pub plugin: Option<String>,
}

impl From<Rejected> for Rejection {
    fn from(rejected: Rejected) -> Rejection {
        Rejection {
            line: rejected.line,
            event: rejected.event,
            field: rejected.field,
            value: rejected.value,
            reason: reason_name(rejected.reason),
            message: rejected.message,
            raw: rejected.raw,
            plugin: None,
        }
    }
}

impl Rejection {
    /// A record the plugin failed on, even alone in a fresh instance.
    pub fn plugin_fault(line: u64, raw: &[u8], plugin: &str, fault: &Fault) -> Rejection {
        let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        Rejection {
            line,
            event: None,
            field: None,
            value: None,
            reason: fault.kind.reason_name(),
            message: format!("{plugin} failed on this record: {}", fault.message),
            raw: raw.to_vec(),
            plugin: Some(plugin.to_owned()),
        }
    }
}

/// Receives every rejected record and every input error.
pub trait ErrorSink {
    /// A record the component, the host's framing or a plugin fault rejected.
    fn rejected(&mut self, source: &str, rejected: &Rejection) -> io::Result<()>;
    /// A source that could not be read to its end.
    fn input_error(&mut self, source: &str, message: &str) -> io::Result<()> {
        // Input errors are about files, not records: always on stderr.
        let mut stderr = io::stderr().lock();
        writeln!(stderr, "flowtag: {source}: {message}")
    }
    /// Pushes buffered reports out.
    fn flush(&mut self) -> io::Result<()>;
}

/// Human-readable reports on stderr, one line each.
#[derive(Debug, Default)]
pub struct StderrSink;

impl ErrorSink for StderrSink {
    fn rejected(&mut self, source: &str, rejected: &Rejection) -> io::Result<()> {
        let mut line = format!("flowtag: {source}:{}", rejected.line);
        if let Some(event) = rejected.event {
            line.push_str(&format!(" (log event {event})"));
        }
        line.push_str(&format!(": rejected ({})", rejected.reason));
        if let Some(field) = &rejected.field {
            line.push_str(&format!(" field {field}"));
        }
        if let Some(value) = &rejected.value {
            line.push_str(&format!(" value {value:?}"));
        }
        line.push_str(&format!(
            ": {} | raw: {}",
            rejected.message,
            String::from_utf8_lossy(&rejected.raw).escape_debug()
        ));
        let mut stderr = io::stderr().lock();
        writeln!(stderr, "{line}")
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

/// NDJSON reports written to a file (`--errors FILE`), one object per
/// rejected record: `file`, `line`, `event`, `field`, `value`, `reason`,
/// `message`, `raw` (and `raw_base64` when the raw bytes are not UTF-8, and
/// `plugin` when the plugin failed on the record).
#[derive(Debug)]
pub struct NdjsonSink<W: Write> {
    writer: W,
}

impl<W: Write> NdjsonSink<W> {
    /// Reports into `writer`.
    pub fn new(writer: W) -> NdjsonSink<W> {
        NdjsonSink { writer }
    }
}

impl<W: Write> ErrorSink for NdjsonSink<W> {
    fn rejected(&mut self, source: &str, rejected: &Rejection) -> io::Result<()> {
        let mut object = serde_json::Map::new();
        object.insert("file".into(), source.into());
        object.insert("line".into(), rejected.line.into());
        if let Some(event) = rejected.event {
            object.insert("event".into(), event.into());
        }
        if let Some(field) = &rejected.field {
            object.insert("field".into(), field.as_str().into());
        }
        if let Some(value) = &rejected.value {
            object.insert("value".into(), value.as_str().into());
        }
        object.insert("reason".into(), rejected.reason.into());
        object.insert("message".into(), rejected.message.as_str().into());
        match std::str::from_utf8(&rejected.raw) {
            Ok(raw) => {
                object.insert("raw".into(), raw.into());
            }
            Err(_) => {
                object.insert("raw".into(), String::from_utf8_lossy(&rejected.raw).into());
                object.insert("raw_base64".into(), base64(&rejected.raw).into());
            }
        }
        if let Some(plugin) = &rejected.plugin {
            object.insert("plugin".into(), plugin.as_str().into());
        }
        serde_json::to_writer(&mut self.writer, &object)?;
        self.writer.write_all(b"\n")
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush()
    }
}

/// Standard base64 with padding (RFC 4648), for raw bytes that are not UTF-8.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let b = [
            group[0],
            *group.get(1).unwrap_or(&0),
            *group.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_rfc4648_vectors() {
        for (input, expected) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes()), expected);
        }
    }
}
