//! Framing input into batches of whole lines, running them through a
//! component instance, and writing records and rejections in input order.
//!
//! Latency: a batch is cut when [`Options::batch_bytes`] of whole lines are
//! waiting, or as soon as the reader has nothing more buffered (input paused),
//! and stdout is flushed whenever input pauses. So a record is written within
//! the time it takes to process one batch after its line ends; nothing waits
//! for a batch to fill.

use std::io::{self, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

use anyhow::{Result, anyhow};

use crate::input::{Event, Source};
use crate::report::ErrorSink;
use crate::runtime::{Batch, BatchOutput, Instance, RejectReason, Rejected};

/// Longest line the host frames, in bytes (4 MiB, the component's limit too).
/// A longer line is rejected as `line-too-long` without being buffered whole.
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// How much of an over-long line is kept in its rejection report.
pub const TOO_LONG_RAW_BYTES: usize = 64 * 1024;

/// Processing options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Target batch size in bytes.
    pub batch_bytes: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            batch_bytes: 256 * 1024,
        }
    }
}

/// Counts for the summary line. Invariant: `read() == written + rejected`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Records written to the output.
    pub written: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Header lines (they set the format).
    pub headers: u64,
    /// Blank lines and CloudWatch Logs control messages.
    pub skipped: u64,
    /// Sources that could not be read completely.
    pub input_errors: u64,
    /// Bytes of (decompressed) input.
    pub bytes: u64,
    /// Batches sent to the component.
    pub batches: u64,
    /// Successful reloads of the data files.
    pub reloads: u64,
    /// Reloads that failed (the previous data stayed in use).
    pub failed_reloads: u64,
}

impl Stats {
    /// Records read: every record is either written or rejected.
    pub fn read(&self) -> u64 {
        self.written + self.rejected
    }

    /// The one-line summary.
    pub fn summary(&self, elapsed: Duration) -> String {
        let seconds = elapsed.as_secs_f64();
        let rate = if seconds > 0.0 {
            self.read() as f64 / seconds
        } else {
            0.0
        };
        let reloads = if self.reloads + self.failed_reloads > 0 {
            format!(
                ", {} reloads ({} failed)",
                self.reloads + self.failed_reloads,
                self.failed_reloads
            )
        } else {
            String::new()
        };
        format!(
            "flowtag: {} records read, {} written, {} rejected, {} header lines, {} skipped, {} input errors{reloads}; {:.3} s, {:.0} records/s, {:.1} MB/s",
            self.read(),
            self.written,
            self.rejected,
            self.headers,
            self.skipped,
            self.input_errors,
            seconds,
            rate,
            if seconds > 0.0 {
                self.bytes as f64 / seconds / 1e6
            } else {
                0.0
            }
        )
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// All input was read.
    Complete,
    /// The output was closed (e.g. `| head -1`); reading stopped.
    OutputClosed,
}

/// State of the source being read.
struct SourceState {
    name: String,
    /// Bytes not yet sent to the component; whole lines plus at most one
    /// partial line at the end.
    pending: Vec<u8>,
    /// Line number of the first line in `pending`.
    next_line: u64,
    /// Header in force, as returned by the component.
    header: Option<String>,
    /// Inside an over-long line that was already rejected: drop bytes up to
    /// its newline.
    discarding: bool,
}

impl SourceState {
    fn new(name: String) -> SourceState {
        SourceState {
            name,
            pending: Vec::new(),
            next_line: 1,
            header: None,
            discarding: false,
        }
    }
}

/// Builds a fresh instance from re-read data files.
pub type Reloader = Box<dyn FnMut() -> Result<Instance>>;

/// Reload on request (SIGHUP): between batches, never inside one.
struct Reload {
    requested: Arc<AtomicBool>,
    make: Reloader,
}

/// Drives one run: reader events in, NDJSON and reports out.
pub struct Pipeline<'a, W: Write> {
    instance: Instance,
    reload: Option<Reload>,
    output: W,
    errors: &'a mut dyn ErrorSink,
    options: Options,
    sources: Vec<String>,
    /// Counts so far.
    pub stats: Stats,
}

impl<W: Write> std::fmt::Debug for Pipeline<'_, W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Whether the output side is gone.
struct Closed;

impl<'a, W: Write> Pipeline<'a, W> {
    /// A pipeline over `sources` writing to `output`.
    pub fn new(
        instance: Instance,
        output: W,
        errors: &'a mut dyn ErrorSink,
        sources: &[Source],
        options: Options,
    ) -> Pipeline<'a, W> {
        Pipeline {
            instance,
            reload: None,
            output,
            errors,
            options,
            sources: sources.iter().map(Source::name).collect(),
            stats: Stats::default(),
        }
    }

    /// Replaces the instance with `make()` whenever `requested` is set,
    /// between batches. A reload that fails keeps the current instance.
    pub fn with_reload(mut self, requested: Arc<AtomicBool>, make: Reloader) -> Self {
        self.reload = Some(Reload { requested, make });
        self
    }

    fn reload_if_requested(&mut self) {
        let Some(reload) = self.reload.as_mut() else {
            return;
        };
        if !reload.requested.swap(false, Ordering::SeqCst) {
            return;
        }
        match (reload.make)() {
            Ok(instance) => {
                self.instance = instance;
                self.stats.reloads += 1;
                eprintln!("flowtag: reloaded the data files");
            }
            Err(error) => {
                self.stats.failed_reloads += 1;
                eprintln!("flowtag: reload failed, keeping the previous data: {error:#}");
            }
        }
    }

    fn next_event(&mut self, events: &Receiver<Event>) -> Option<Event> {
        if self.reload.is_none() {
            return events.recv().ok();
        }
        // Wake up now and then so that a reload requested while input is
        // idle happens at once, not at the next record.
        loop {
            match events.recv_timeout(Duration::from_millis(100)) {
                Ok(event) => return Some(event),
                Err(RecvTimeoutError::Timeout) => self.reload_if_requested(),
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    /// Consumes reader events until the input ends or the output closes.
    pub fn run(&mut self, events: &Receiver<Event>) -> Result<Ending> {
        let mut state: Option<SourceState> = None;
        let mut next = self.next_event(events);
        while let Some(event) = next {
            if let Err(Closed) = self.handle(event, &mut state)? {
                return Ok(Ending::OutputClosed);
            }
            next = match events.try_recv() {
                Ok(event) => Some(event),
                Err(TryRecvError::Empty) => {
                    // Input paused: process what is complete and flush, so
                    // live pipelines see their records now.
                    if let Some(state) = state.as_mut()
                        && let Err(Closed) = self.flush_complete(state)?
                    {
                        return Ok(Ending::OutputClosed);
                    }
                    if let Err(Closed) = self.flush_output()? {
                        return Ok(Ending::OutputClosed);
                    }
                    self.next_event(events)
                }
                Err(TryRecvError::Disconnected) => None,
            };
        }
        if let Err(Closed) = self.flush_output()? {
            return Ok(Ending::OutputClosed);
        }
        Ok(Ending::Complete)
    }

    fn handle(
        &mut self,
        event: Event,
        state: &mut Option<SourceState>,
    ) -> Result<std::result::Result<(), Closed>> {
        match event {
            Event::Begin { index } => {
                let name = self.sources.get(index).cloned().unwrap_or_default();
                *state = Some(SourceState::new(name));
            }
            Event::Data(chunk) => {
                let Some(state) = state.as_mut() else {
                    return Err(anyhow!("input data arrived before its source began"));
                };
                self.stats.bytes += chunk.len() as u64;
                let mut skip = 0;
                if state.discarding {
                    match memchr::memchr(b'\n', &chunk) {
                        None => return Ok(Ok(())),
                        Some(pos) => {
                            state.discarding = false;
                            state.next_line += 1;
                            skip = pos + 1;
                        }
                    }
                }
                if state.pending.is_empty() && skip == 0 {
                    // The common case: take the chunk over instead of copying it.
                    state.pending = chunk;
                } else {
                    state.pending.extend_from_slice(&chunk[skip..]);
                }
                if state.pending.len() >= self.options.batch_bytes {
                    if let Err(closed) = self.flush_complete(state)? {
                        return Ok(Err(closed));
                    }
                    if state.pending.len() > MAX_LINE_BYTES
                        && let Err(closed) = self.reject_too_long(state)?
                    {
                        return Ok(Err(closed));
                    }
                }
            }
            Event::End { index: _, error } => {
                if let Some(mut ended) = state.take() {
                    if !ended.pending.is_empty() {
                        let data = std::mem::take(&mut ended.pending);
                        if let Err(closed) = self.process(&mut ended, data)? {
                            return Ok(Err(closed));
                        }
                    }
                    if let Some(message) = error {
                        self.stats.input_errors += 1;
                        self.errors.input_error(&ended.name, &message)?;
                    }
                }
            }
        }
        Ok(Ok(()))
    }

    /// Sends every whole line in `pending` to the component.
    fn flush_complete(
        &mut self,
        state: &mut SourceState,
    ) -> Result<std::result::Result<(), Closed>> {
        let Some(last_newline) = memchr::memrchr(b'\n', &state.pending) else {
            return Ok(Ok(()));
        };
        let rest = state.pending.split_off(last_newline + 1);
        let data = std::mem::replace(&mut state.pending, rest);
        self.process(state, data)
    }

    fn reject_too_long(
        &mut self,
        state: &mut SourceState,
    ) -> Result<std::result::Result<(), Closed>> {
        let mut raw = std::mem::take(&mut state.pending);
        raw.truncate(TOO_LONG_RAW_BYTES);
        let rejected = Rejected {
            line: state.next_line,
            event: None,
            field: None,
            value: None,
            reason: RejectReason::LineTooLong,
            message: format!(
                "the line is longer than {MAX_LINE_BYTES} bytes; only its first {TOO_LONG_RAW_BYTES} bytes are kept in `raw`"
            ),
            raw,
        };
        self.stats.rejected += 1;
        self.errors.rejected(&state.name, &rejected)?;
        state.discarding = true;
        Ok(Ok(()))
    }

    fn process(
        &mut self,
        state: &mut SourceState,
        data: Vec<u8>,
    ) -> Result<std::result::Result<(), Closed>> {
        self.reload_if_requested();
        let lines = memchr::memchr_iter(b'\n', &data).count() as u64;
        let batch = Batch {
            data,
            first_line: state.next_line,
            header: state.header.take(),
        };
        let output: BatchOutput = self.instance.process(&batch).map_err(|error| {
            let last = batch.first_line + lines.saturating_sub(1);
            error.context(format!(
                "the component failed on {} lines {}–{}",
                state.name, batch.first_line, last
            ))
        })?;
        state.next_line += lines;
        state.header = output.header;
        self.stats.batches += 1;
        self.stats.written += output.records;
        self.stats.rejected += output.rejected.len() as u64;
        self.stats.headers += output.headers;
        self.stats.skipped += output.skipped;
        for rejected in &output.rejected {
            self.errors.rejected(&state.name, rejected)?;
        }
        Ok(write_or_closed(self.output.write_all(&output.ndjson))?)
    }

    fn flush_output(&mut self) -> Result<std::result::Result<(), Closed>> {
        Ok(write_or_closed(self.output.flush())?)
    }
}

/// A closed pipe downstream is the end of the run, not an error.
fn write_or_closed(result: io::Result<()>) -> io::Result<std::result::Result<(), Closed>> {
    match result {
        Ok(()) => Ok(Ok(())),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(Err(Closed)),
        Err(error) => Err(error),
    }
}
