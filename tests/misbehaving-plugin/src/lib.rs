//! A flowtag component for the host's tests. It does not parse flow logs:
//! each line becomes `{"line":N,"header":H,"text":T}`, and marker words make
//! it misbehave the way a buggy or hostile plugin would:
//!
//! - `TRAP`: panics (a trap: the guest is built with `panic = "abort"`);
//! - `LOOP`: loops forever (the host's deadline must stop it);
//! - `GROW`: allocates without bound (the host's memory limit must stop it);
//! - `DEEP`: recurses without bound (the host's stack limit must stop it);
//! - `ESCAPE`: tries to read `/etc/passwd`, the environment and to connect a
//!   TCP socket, and writes what happened into the record (the host must
//!   deny all three);
//! - `FLOOD`: hands the host 1 MiB pieces through `output.write` without
//!   end (the host's output limit must stop it);
//! - `REJECT`: a rejected record (`field-count`);
//! - a format `TRAP` in the config: the constructor panics;
//! - a format `WRITE` in the config: the constructor calls `output.write`,
//!   which the host allows only during `process`.
//!
//! After each record on an even line, the NDJSON made so far goes to the
//! host through `output.write`; the rest is returned in the result. So every
//! test also checks that the host puts pieces and result together in order,
//! and drops the pieces of a call that fails.
//!
//! With an `--eni-map` file, its text (trimmed) is added to every record as
//! `"data"`, so that tests can see which configuration a batch ran with.
//!
//! A line `#h NAME` is a header line: it sets the header in force, as
//! `batch.header` / `batch-output.header` carry it. A blank line is skipped.

// wit-bindgen's generated export glue needs `unsafe` and `#[unsafe(no_mangle)]`.
#![allow(unsafe_code)]
// Generated code does not derive Debug for everything.
#![allow(missing_debug_implementations)]

mod bindings {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "flowtag",
    });
}

use bindings::exports::flowtag::flowlog::processor::{Guest, GuestProcessor};
use bindings::flowtag::flowlog::output;
use bindings::flowtag::flowlog::types as wit;

/// The exported processor.
pub struct Processor {
    /// The text of the first ENI map file, if one was given.
    tag: Option<String>,
}

impl GuestProcessor for Processor {
    fn new(config: wit::Config) -> Result<Processor, wit::ConfigError> {
        // `--format TRAP`: a constructor that fails (the host exits 4).
        if config.formats.iter().any(|f| f == "TRAP") {
            panic!("marker TRAP in the constructor");
        }
        // `--format WRITE`: output outside `process` (the host refuses it).
        if config.formats.iter().any(|f| f == "WRITE") {
            output::write(b"{}\n");
        }
        let tag = config
            .eni_maps
            .first()
            .map(|file| String::from_utf8_lossy(&file.data).trim().to_owned());
        Ok(Processor { tag })
    }

    fn loaded(&self) -> Vec<wit::LoadedFile> {
        Vec::new()
    }

    fn process(&self, batch: wit::Batch) -> wit::BatchOutput {
        let mut out = wit::BatchOutput {
            ndjson: Vec::new(),
            records: 0,
            rejected: Vec::new(),
            headers: 0,
            skipped: 0,
            header: batch.header,
        };
        let mut data = batch.data.as_slice();
        if data.last() == Some(&b'\n') {
            data = &data[..data.len() - 1];
        }
        if batch.data.is_empty() {
            return out;
        }
        for (line_number, raw) in (batch.first_line..).zip(data.split(|&b| b == b'\n')) {
            let text = String::from_utf8_lossy(raw);
            if let Some(name) = text.strip_prefix("#h ") {
                out.header = Some(name.to_owned());
                out.headers += 1;
            } else if text.is_empty() {
                out.skipped += 1;
            } else if text.contains("REJECT") {
                out.rejected.push(wit::Rejected {
                    line: line_number,
                    event: None,
                    field: None,
                    value: None,
                    reason: wit::RejectReason::FieldCount,
                    message: "marker REJECT".to_owned(),
                    raw: raw.to_vec(),
                });
            } else {
                misbehave(&text);
                let mut record = format!(
                    "{{\"line\":{line_number},\"header\":{},\"text\":{}",
                    out.header.as_deref().map_or("null".to_owned(), json),
                    json(&text)
                );
                if let Some(tag) = &self.tag {
                    record.push_str(&format!(",\"data\":{}", json(tag)));
                }
                if text.contains("ESCAPE") {
                    record.push_str(&format!(",\"escape\":{}", json(&escape())));
                }
                record.push_str("}\n");
                out.ndjson.extend_from_slice(record.as_bytes());
                out.records += 1;
                if line_number % 2 == 0 {
                    output::write(&out.ndjson);
                    out.ndjson.clear();
                }
            }
        }
        out
    }
}

fn misbehave(text: &str) {
    if text.contains("TRAP") {
        panic!("marker TRAP");
    }
    if text.contains("LOOP") {
        let mut spins = 0u64;
        loop {
            spins = std::hint::black_box(spins.wrapping_add(1));
        }
    }
    if text.contains("DEEP") {
        std::hint::black_box(recurse(0));
    }
    if text.contains("FLOOD") {
        let piece = vec![b'x'; 1 << 20];
        loop {
            output::write(&piece);
        }
    }
    if text.contains("GROW") {
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![1u8; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }
}

/// Never returns: each call needs the next one's result.
fn recurse(depth: u64) -> u64 {
    if std::hint::black_box(depth) == u64::MAX {
        return 0;
    }
    recurse(depth + 1).wrapping_add(depth)
}

/// Tries what a sandboxed plugin must not be able to do; says what happened.
fn escape() -> String {
    let file = match std::fs::read_to_string("/etc/passwd") {
        Ok(content) => format!("READ {} bytes: {content}", content.len()),
        Err(error) => format!("denied ({:?}: {error})", error.kind()),
    };
    let network = match std::net::TcpStream::connect("127.0.0.1:22") {
        Ok(_) => "CONNECTED".to_owned(),
        Err(error) => format!("denied ({:?}: {error})", error.kind()),
    };
    let environment = match std::env::vars().next() {
        Some((name, _)) => format!("SAW {name}"),
        None => "empty".to_owned(),
    };
    format!("file: {file}; network: {network}; environment: {environment}")
}

fn json(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The component itself.
pub struct Component;

impl Guest for Component {
    type Processor = Processor;
}

// Only the wasm build exports the component's functions (see plugin/src/lib.rs).
#[cfg(target_arch = "wasm32")]
bindings::export!(Component with_types_in bindings);
