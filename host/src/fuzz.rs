//! Invariant checks for the whole host path (framing, parallel workers,
//! header guesses, ordering, accounting) through the real embedded
//! component, shared by the cargo-fuzz target (`fuzz/fuzz_targets/host.rs`)
//! and the smoke test (`host/tests/fuzz_smoke.rs`). Not part of the
//! supported API.
//!
//! Input layout:
//! - byte 0: bits 0–1 pick the worker count (1–4), bits 2–7 the batch size
//!   (`1 + n * 61` bytes, so batches split lines, headers and envelopes
//!   everywhere);
//! - byte 1: seeds the sizes of the chunks the input arrives in;
//! - the rest: the input.
//!
//! The same input is also run sequentially (one worker, one batch, one
//! chunk); output, reports and counts must be identical, every output line a
//! JSON object, and every line read accounted for.

use std::io;
use std::sync::mpsc::channel;
use std::sync::{Arc, OnceLock};

use crate::input::{Event, Source};
use crate::pipeline::{Controls, Ending, Options, Pipeline, Stats};
use crate::report::{ErrorSink, Rejection};
use crate::runtime::{
    CompileCache, DEFAULT_PLUGIN, Limits, ProcessorConfig, Runtime, RuntimeOptions,
};

/// The embedded component, compiled once per process.
fn runtime() -> &'static Arc<Runtime> {
    static RUNTIME: OnceLock<Arc<Runtime>> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        let options = RuntimeOptions {
            limits: Limits::default(),
            cache: CompileCache::Off,
        };
        match Runtime::new(DEFAULT_PLUGIN, "the embedded component", &options) {
            Ok(runtime) => Arc::new(runtime),
            Err(error) => panic!("the embedded component does not load: {error}"),
        }
    })
}

/// Collects reports instead of printing them.
#[derive(Debug, Default)]
struct Collected {
    rejected: Vec<Rejection>,
    input_errors: Vec<String>,
}

impl ErrorSink for Collected {
    fn rejected(&mut self, _source: &str, rejected: &Rejection) -> io::Result<()> {
        self.rejected.push(rejected.clone());
        Ok(())
    }

    fn input_error(&mut self, _source: &str, message: &str) -> io::Result<()> {
        self.input_errors.push(message.to_owned());
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One run's results.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    output: Vec<u8>,
    rejected: Vec<Rejection>,
    stats: Stats,
}

fn run(input: &[u8], threads: usize, batch_bytes: usize, chunk_seed: u8) -> Run {
    let config = ProcessorConfig {
        formats: Vec::new(),
        geoip: Vec::new(),
        geoip_locale: None,
        aws_ip_ranges: None,
        eni_maps: Vec::new(),
        derive_flow: true,
    };
    let options = Options {
        batch_bytes,
        threads,
    };
    let pipeline = match Pipeline::start(runtime(), config, options) {
        Ok(pipeline) => pipeline,
        Err(error) => panic!("the pipeline does not start: {error}"),
    };
    let (sender, events) = channel();
    let mut events_in = vec![Event::Begin { index: 0 }];
    let mut rest = input;
    let mut seed = u32::from(chunk_seed);
    while !rest.is_empty() {
        let size = if chunk_seed == 0 {
            rest.len()
        } else {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            1 + (seed >> 16) as usize % 97
        };
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        events_in.push(Event::Data(chunk.to_vec()));
        rest = tail;
    }
    events_in.push(Event::End {
        index: 0,
        error: None,
    });
    for event in events_in {
        let _ = sender.send(event);
    }
    drop(sender);
    let mut sink = Collected::default();
    let mut output = Vec::new();
    let outcome = pipeline.run(
        events,
        &mut output,
        &mut sink,
        &[Source::Stdin],
        Controls::default(),
    );
    match outcome.ending {
        Ok(Ending::Complete) => {}
        other => panic!("the run did not complete: {other:?}"),
    }
    assert!(sink.input_errors.is_empty(), "{:?}", sink.input_errors);
    let mut stats = outcome.stats;
    // How the work was cut differs between runs, not what came out.
    stats.batches = 0;
    stats.reruns = 0;
    Run {
        output,
        rejected: sink.rejected,
        stats,
    }
}

/// Runs `data` as described in the module documentation and panics if an
/// invariant does not hold.
pub fn check(data: &[u8]) {
    let (control, chunk_seed, input) = match data {
        [control, seed, rest @ ..] => (*control, *seed, rest),
        [control] => (*control, 0, &[][..]),
        [] => (0, 0, &[][..]),
    };
    let threads = 1 + usize::from(control & 3);
    let batch_bytes = 1 + usize::from(control >> 2) * 61;
    let sequential = run(input, 1, usize::MAX, 0);
    let parallel = run(input, threads, batch_bytes, chunk_seed);
    assert!(
        sequential == parallel,
        "{threads} workers with {batch_bytes}-byte batches differ from one sequential pass"
    );

    let lines = memchr::memchr_iter(b'\n', input).count() as u64
        + u64::from(!input.is_empty() && !input.ends_with(b"\n"));
    let stats = &sequential.stats;
    assert_eq!(stats.lines, lines, "lines read");
    assert_eq!(stats.read(), stats.written + stats.rejected);
    assert_eq!(stats.rejected, sequential.rejected.len() as u64);
    assert_eq!(stats.bytes, input.len() as u64);
    let text = match std::str::from_utf8(&sequential.output) {
        Ok(text) => text,
        Err(error) => panic!("the output is not UTF-8: {error}"),
    };
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "a torn output line"
    );
    assert_eq!(
        text.lines().count() as u64,
        stats.written,
        "records written"
    );
    for line in text.lines() {
        match serde_json::from_str::<serde_json::Value>(line) {
            Ok(serde_json::Value::Object(_)) => {}
            other => panic!("not a JSON object: {line:?} ({other:?})"),
        }
    }
    let mut previous = 0;
    for rejection in &sequential.rejected {
        assert!(
            (1..=lines.max(1)).contains(&rejection.line) && rejection.line >= previous,
            "rejection at line {} out of order or range",
            rejection.line
        );
        previous = rejection.line;
    }
}
