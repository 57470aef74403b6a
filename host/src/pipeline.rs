//! Framing input into batches of whole lines, running them on parallel
//! workers, and writing records and rejections in input order.
//!
//! Threads: the reader (`input.rs`) sends chunks; the *dispatcher* cuts them
//! into batches and queues them for the workers (`worker.rs`), each of which
//! owns one component instance; the *writer* (the thread that calls
//! [`Pipeline::run`]) puts the results back in input order and writes them.
//! Every batch, and every note the dispatcher has for the output (an
//! over-long line, an input error, a pause in the input), gets a sequence
//! number; the writer handles sequence numbers strictly in order. At most
//! [`Options::in_flight`] of them exist at once, so memory stays bounded
//! whatever the speed of the output.
//!
//! Latency: a batch is cut when [`Options::batch_bytes`] of whole lines are
//! waiting, or as soon as the reader has nothing more buffered (input
//! paused), and stdout is flushed whenever input pauses. So a record is
//! written within the time it takes to process one batch after its line
//! ends; nothing waits for a batch to fill.
//!
//! Headers: the header line in force at the start of a batch is the one in
//! force at the end of the previous batch of the same source, which only the
//! component knows, after processing that batch. Waiting for it would
//! serialise the workers, and the host does not parse lines. So batches are
//! processed speculatively: the first batch of a source starts with no header
//! (certain), every later one with the header in force after the last batch
//! written (a guess, usually right: header lines are rare, one at the top of
//! each S3 file, and files of one log share the same header). The writer
//! checks each guess against the actual header before writing the batch;
//! a wrong guess sends the batch back to the workers with the right header,
//! so output is always what one sequential pass would produce. A header
//! change costs at most [`Options::in_flight`] re-runs (counted in
//! [`Stats::reruns`]).
//!
//! Faults: a batch on which the guest traps, overruns its deadline or hits
//! its memory limit is retried line by line in fresh instances (`worker.rs`);
//! the lines that fail again are rejected (`plugin-trap`, `plugin-timeout`,
//! `plugin-memory`) and everything else is written, in order.
//!
//! Stopping: when [`Controls::stop`] is set (SIGINT/SIGTERM) the dispatcher
//! stops reading, sends what it has already read as a last batch, and the
//! writer finishes every batch sent before it ends the run.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{
    Receiver, RecvTimeoutError, Sender, SyncSender, TryRecvError, channel, sync_channel,
};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use thiserror::Error;

use crate::input::{Event, Source};
use crate::report::{ErrorSink, Rejection};
use crate::runtime::{LoadedFile, OutputBuffers, ProcessorConfig, Runtime, RuntimeError};
use crate::worker::{Finished, Generation, Job, Processed, Workers};

/// Longest line the host frames, in bytes (4 MiB, the component's limit too).
/// A longer line is rejected as `line-too-long` without being buffered whole.
pub const MAX_LINE_BYTES: usize = 4 << 20;

/// How much of an over-long line is kept in its rejection report.
pub const TOO_LONG_RAW_BYTES: usize = 64 * 1024;

/// How often an idle dispatcher wakes up to look at the stop and reload flags.
const IDLE_WAKE: Duration = Duration::from_millis(50);

/// Processing options.
#[derive(Debug, Clone)]
pub struct Options {
    /// Target batch size in bytes.
    pub batch_bytes: usize,
    /// Worker threads, each with its own instance.
    pub threads: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            batch_bytes: 256 * 1024,
            threads: default_threads(),
        }
    }
}

impl Options {
    /// Batches and output notes that may exist at once: enough to keep every
    /// worker busy while the writer waits for the oldest, and, under
    /// `SCHED_BATCH` (`sched.rs`), while the writer waits for its turn on a
    /// core (a time slice of a few milliseconds: a few batches per worker).
    /// With half as many, two workers parsing without enrichment (the
    /// lightest work, so the helpers matter most) ran 2–4 % slower under
    /// `SCHED_BATCH` in three sets of four (BENCHMARKS.md, host section).
    pub fn in_flight(&self) -> usize {
        4 * self.threads.max(1) + 4
    }
}

/// The number of cores.
pub fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// Counts for the summary line. Invariant: `read() == written + rejected`,
/// and every line read is in exactly one batch written (`lines`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Lines read, framed and accounted for.
    pub lines: u64,
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
    /// Batches written.
    pub batches: u64,
    /// Batches run again because the header guessed for them was wrong.
    pub reruns: u64,
    /// Batches on which the plugin failed (retried line by line).
    pub faults: u64,
    /// Records rejected because the plugin failed on them.
    pub fault_rejections: u64,
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
        let per_second = |n: f64| if seconds > 0.0 { n / seconds } else { 0.0 };
        let mut extra = String::new();
        if self.faults > 0 {
            extra.push_str(&format!(
                ", {} plugin faults ({} records rejected for them)",
                self.faults, self.fault_rejections
            ));
        }
        if self.reruns > 0 {
            extra.push_str(&format!(
                ", {} batches re-run for a header change",
                self.reruns
            ));
        }
        if self.reloads + self.failed_reloads > 0 {
            extra.push_str(&format!(
                ", {} reloads ({} failed)",
                self.reloads + self.failed_reloads,
                self.failed_reloads
            ));
        }
        format!(
            "flowtag: {} records read = {} written + {} rejected, {} header lines, {} skipped, {} input errors{extra}; {:.3} s, {:.0} records/s, {:.1} MB/s",
            self.read(),
            self.written,
            self.rejected,
            self.headers,
            self.skipped,
            self.input_errors,
            seconds,
            per_second(self.read() as f64),
            per_second(self.bytes as f64) / 1e6,
        )
    }
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    /// All input was read.
    Complete,
    /// Stopped on request (SIGINT/SIGTERM); everything read was written.
    Stopped,
    /// The output was closed (e.g. `| head -1`); reading stopped.
    OutputClosed,
}

/// Why a run failed.
#[derive(Debug, Error)]
pub enum PipelineError {
    /// The plugin could not be instantiated again (its constructor failed).
    #[error(transparent)]
    Plugin(#[from] RuntimeError),
    /// Writing the output or the error reports failed (not a closed pipe).
    #[error("cannot write {what}: {error}")]
    Output {
        /// stdout or the error reports.
        what: &'static str,
        /// The I/O error.
        error: io::Error,
    },
    /// A bug in flowtag: a thread died or the accounting does not add up.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Builds a new configuration from re-read data files, or says why not.
pub type Reloader = Box<dyn FnMut() -> anyhow::Result<ProcessorConfig> + Send>;

/// What can interrupt a run from outside.
pub struct Controls {
    /// Set by SIGINT/SIGTERM: stop reading, finish what was read.
    pub stop: Arc<AtomicBool>,
    /// Set by SIGHUP, and what to do then.
    pub reload: Option<(Arc<AtomicBool>, Reloader)>,
}

impl std::fmt::Debug for Controls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Controls").finish_non_exhaustive()
    }
}

impl Default for Controls {
    fn default() -> Controls {
        Controls {
            stop: Arc::new(AtomicBool::new(false)),
            reload: None,
        }
    }
}

/// What the writer receives, from the dispatcher and the workers, in one
/// inbox so that it waits on one channel.
enum Message {
    Worker(Finished),
    Note(u64, Note),
}

impl From<Finished> for Message {
    fn from(finished: Finished) -> Message {
        Message::Worker(finished)
    }
}

/// What the dispatcher tells the writer, in sequence with the batches.
enum Note {
    Rejected {
        source: usize,
        rejection: Rejection,
    },
    InputError {
        source: usize,
        message: String,
    },
    /// Input paused: flush the output.
    Flush,
    /// No more input; the counts only the dispatcher has.
    End(DispatchCounts),
}

#[derive(Debug, Default)]
struct DispatchCounts {
    lines: u64,
    bytes: u64,
    reloads: u64,
    failed_reloads: u64,
    stopped: bool,
}

/// Workers started with a validated configuration, ready to run.
pub struct Pipeline {
    runtime: Arc<Runtime>,
    options: Options,
    generation: Arc<Generation>,
    workers: Workers,
    jobs: Sender<Job>,
    inbox: Receiver<Message>,
    inbox_sender: Sender<Message>,
    loaded: Vec<LoadedFile>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

/// The result of [`Pipeline::run`]: how it ended, and the counts either way.
#[derive(Debug)]
pub struct Outcome {
    /// How the run ended, or why it failed.
    pub ending: Result<Ending, PipelineError>,
    /// Counts so far.
    pub stats: Stats,
}

impl Pipeline {
    /// Starts the workers with `config`. Fails if the first instance cannot
    /// be built: the configuration was refused ([`RuntimeError::Config`])
    /// or the constructor failed.
    pub fn start(
        runtime: &Arc<Runtime>,
        config: ProcessorConfig,
        options: Options,
    ) -> Result<Pipeline, RuntimeError> {
        let mut generation = Arc::new(Generation {
            id: 0,
            config: Arc::new(config),
        });
        let (jobs, job_queue) = channel();
        let (inbox_sender, inbox) = channel();
        let (workers, loaded) = Workers::start(
            runtime,
            &mut generation,
            options.threads,
            job_queue,
            &inbox_sender,
        )?;
        Ok(Pipeline {
            runtime: Arc::clone(runtime),
            options,
            generation,
            workers,
            jobs,
            inbox,
            inbox_sender,
            loaded,
        })
    }

    /// What the first instance's constructor loaded from the data files.
    pub fn loaded(&self) -> &[LoadedFile] {
        &self.loaded
    }

    /// Consumes reader events until the input ends, the output closes or a
    /// stop is requested, writing NDJSON to `output` and reports to `errors`.
    /// Worker threads end by themselves once the run is over.
    pub fn run<W: Write>(
        self,
        events: Receiver<Event>,
        output: W,
        errors: &mut dyn ErrorSink,
        sources: &[Source],
        controls: Controls,
    ) -> Outcome {
        let hint = Arc::new(Mutex::new(None));
        let (permits, permit_returns) = sync_channel(self.options.in_flight());
        let stack = crate::runtime::thread_stack_size(self.runtime.limits());
        let dispatcher = Dispatcher {
            batch_bytes: self.options.batch_bytes.max(1),
            jobs: self.jobs.clone(),
            notes: self.inbox_sender,
            permits,
            seq: 0,
            generation: self.generation,
            reload: controls.reload,
            stop: controls.stop,
            hint: Arc::clone(&hint),
            counts: DispatchCounts::default(),
        };
        let spawned = std::thread::Builder::new()
            .name("flowtag-dispatch".to_owned())
            // A reload builds an instance on this thread to validate the data.
            .stack_size(stack)
            .spawn(move || dispatcher.run(&events));
        let dispatcher = match spawned {
            Ok(handle) => handle,
            Err(error) => {
                return Outcome {
                    ending: Err(PipelineError::Internal(format!(
                        "cannot start the dispatcher thread: {error}"
                    ))),
                    stats: Stats::default(),
                };
            }
        };
        let mut writer = Writer {
            output,
            errors,
            names: sources.iter().map(Source::name).collect(),
            plugin: self.runtime.name().to_owned(),
            output_buffers: Arc::clone(self.runtime.output_buffers()),
            stats: Stats::default(),
            next: 0,
            waiting: HashMap::new(),
            last_header: None,
            hint,
            jobs: self.jobs,
            permit_returns,
            dispatcher,
            workers: self.workers,
            end_received: false,
        };
        let ending = writer.run(&self.inbox);
        Outcome {
            ending,
            stats: writer.stats,
        }
    }
}

/// The writer went away (output closed or a failure): stop dispatching.
struct Gone;

/// State of the source being read.
struct SourceState {
    index: usize,
    /// Bytes not yet sent to the component; whole lines plus at most one
    /// partial line at the end.
    pending: Vec<u8>,
    /// Line number of the first line in `pending`.
    next_line: u64,
    /// Batches cut from this source so far.
    batches: u64,
    /// Inside an over-long line that was already rejected: drop bytes up to
    /// its newline.
    discarding: bool,
}

/// Cuts reader events into batches and queues them; runs on its own thread.
struct Dispatcher {
    batch_bytes: usize,
    jobs: Sender<Job>,
    notes: Sender<Message>,
    /// One slot per sequence number in flight; the writer frees them.
    permits: SyncSender<()>,
    seq: u64,
    generation: Arc<Generation>,
    reload: Option<(Arc<AtomicBool>, Reloader)>,
    stop: Arc<AtomicBool>,
    /// The header in force after the last batch written: the guess for the
    /// next batch of a source.
    hint: Arc<Mutex<Option<String>>>,
    counts: DispatchCounts,
}

impl Dispatcher {
    fn run(mut self, events: &Receiver<Event>) {
        let _ = self.dispatch(events);
    }

    fn dispatch(&mut self, events: &Receiver<Event>) -> Result<(), Gone> {
        let mut state: Option<SourceState> = None;
        let mut next = self.next_event(events);
        while let Some(event) = next {
            self.handle(event, &mut state)?;
            if self.stopping() {
                break;
            }
            next = match events.try_recv() {
                Ok(event) => Some(event),
                Err(TryRecvError::Empty) => {
                    // Input paused: process what is complete and flush, so
                    // live pipelines see their records now.
                    if let Some(state) = state.as_mut() {
                        self.flush_complete(state)?;
                    }
                    self.note(Note::Flush)?;
                    self.next_event(events)
                }
                Err(TryRecvError::Disconnected) => None,
            };
        }
        self.counts.stopped = self.stopping();
        if let Some(mut interrupted) = state.take() {
            // Stopped inside a source: what was read of it is processed,
            // a last partial line as at the end of input.
            let data = std::mem::take(&mut interrupted.pending);
            if !data.is_empty() {
                self.send_batch(&mut interrupted, data)?;
            }
        }
        let counts = std::mem::take(&mut self.counts);
        self.note(Note::End(counts))
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn next_event(&mut self, events: &Receiver<Event>) -> Option<Event> {
        // Wake up now and then so that a stop or a reload requested while
        // input is idle happens at once, not at the next record.
        loop {
            if self.stopping() {
                return None;
            }
            match events.recv_timeout(IDLE_WAKE) {
                Ok(event) => return Some(event),
                Err(RecvTimeoutError::Timeout) => self.reload_if_requested(),
                Err(RecvTimeoutError::Disconnected) => return None,
            }
        }
    }

    fn reload_if_requested(&mut self) {
        let Some((requested, make)) = self.reload.as_mut() else {
            return;
        };
        if !requested.swap(false, Ordering::SeqCst) {
            return;
        }
        match make() {
            Ok(config) => {
                self.generation = Arc::new(Generation {
                    id: self.generation.id + 1,
                    config: Arc::new(config),
                });
                self.counts.reloads += 1;
                eprintln!("flowtag: reloaded the data files");
            }
            Err(error) => {
                self.counts.failed_reloads += 1;
                eprintln!("flowtag: reload failed, keeping the previous data: {error:#}");
            }
        }
    }

    fn handle(&mut self, event: Event, state: &mut Option<SourceState>) -> Result<(), Gone> {
        match event {
            Event::Begin { index } => {
                *state = Some(SourceState {
                    index,
                    pending: Vec::new(),
                    next_line: 1,
                    batches: 0,
                    discarding: false,
                });
            }
            Event::Data(chunk) => {
                let Some(state) = state.as_mut() else {
                    // The reader always begins a source first.
                    return Ok(());
                };
                self.counts.bytes += chunk.len() as u64;
                let mut skip = 0;
                if state.discarding {
                    match memchr::memchr(b'\n', &chunk) {
                        None => return Ok(()),
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
                if state.pending.len() >= self.batch_bytes {
                    self.flush_complete(state)?;
                    if state.pending.len() > MAX_LINE_BYTES {
                        self.reject_too_long(state)?;
                    }
                }
            }
            Event::End { index, error } => {
                if let Some(mut ended) = state.take() {
                    let data = std::mem::take(&mut ended.pending);
                    if !data.is_empty() && !ended.discarding {
                        self.send_batch(&mut ended, data)?;
                    }
                }
                if let Some(message) = error {
                    self.note(Note::InputError {
                        source: index,
                        message,
                    })?;
                }
            }
        }
        Ok(())
    }

    /// Sends every whole line in `pending` to the workers.
    fn flush_complete(&mut self, state: &mut SourceState) -> Result<(), Gone> {
        let Some(last_newline) = memchr::memrchr(b'\n', &state.pending) else {
            return Ok(());
        };
        let rest = state.pending.split_off(last_newline + 1);
        let data = std::mem::replace(&mut state.pending, rest);
        self.send_batch(state, data)
    }

    fn reject_too_long(&mut self, state: &mut SourceState) -> Result<(), Gone> {
        let mut raw = std::mem::take(&mut state.pending);
        raw.truncate(TOO_LONG_RAW_BYTES);
        let rejection = Rejection {
            line: state.next_line,
            event: None,
            field: None,
            value: None,
            reason: "line-too-long",
            message: format!(
                "the line is longer than {MAX_LINE_BYTES} bytes; only its first {TOO_LONG_RAW_BYTES} bytes are kept in `raw`"
            ),
            raw,
            plugin: None,
        };
        self.counts.lines += 1;
        state.discarding = true;
        self.note(Note::Rejected {
            source: state.index,
            rejection,
        })
    }

    fn send_batch(&mut self, state: &mut SourceState, data: Vec<u8>) -> Result<(), Gone> {
        self.reload_if_requested();
        let newlines = memchr::memchr_iter(b'\n', &data).count() as u64;
        let lines = newlines + u64::from(!data.ends_with(b"\n"));
        let first_of_source = state.batches == 0;
        let header = if first_of_source {
            None
        } else {
            self.hint
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
        };
        let seq = self.take_seq()?;
        let job = Job {
            seq,
            source: state.index,
            first_line: state.next_line,
            lines,
            data,
            header,
            first_of_source,
            generation: Arc::clone(&self.generation),
        };
        state.next_line += newlines;
        state.batches += 1;
        self.counts.lines += lines;
        self.jobs.send(job).map_err(|_| Gone)
    }

    fn note(&mut self, note: Note) -> Result<(), Gone> {
        let seq = self.take_seq()?;
        self.notes.send(Message::Note(seq, note)).map_err(|_| Gone)
    }

    /// The next sequence number, once one is free (bounds what is in flight).
    fn take_seq(&mut self) -> Result<u64, Gone> {
        self.permits.send(()).map_err(|_| Gone)?;
        let seq = self.seq;
        self.seq += 1;
        Ok(seq)
    }
}

/// Whether the output side is gone.
struct Closed;

/// Puts results back in input order and writes them; runs on the caller's
/// thread.
struct Writer<'a, W: Write> {
    output: W,
    errors: &'a mut dyn ErrorSink,
    names: Vec<String>,
    plugin: String,
    /// Where written NDJSON buffers go back, for the instances to reuse.
    output_buffers: Arc<OutputBuffers>,
    stats: Stats,
    /// The sequence number to write next.
    next: u64,
    /// Results and notes that arrived before their turn.
    waiting: HashMap<u64, Message>,
    /// The header in force after the last batch written.
    last_header: Option<String>,
    hint: Arc<Mutex<Option<String>>>,
    /// For batches that must run again with another header.
    jobs: Sender<Job>,
    permit_returns: Receiver<()>,
    /// Watched so that a thread that died (a bug) ends the run with an error
    /// instead of leaving the writer waiting for ever.
    dispatcher: JoinHandle<()>,
    workers: Workers,
    end_received: bool,
}

/// How often a waiting writer checks that the other threads are alive.
const LIVENESS_CHECK: Duration = Duration::from_secs(1);

/// What writing one item did.
enum Step {
    Next,
    /// The batch went back to the workers; wait for it again.
    Rerun,
    End(Ending),
}

impl<W: Write> Writer<'_, W> {
    fn run(&mut self, inbox: &Receiver<Message>) -> Result<Ending, PipelineError> {
        loop {
            while let Some(message) = self.waiting.remove(&self.next) {
                match self.write(message)? {
                    Step::Next => {
                        self.next += 1;
                        // Frees the sequence number for the dispatcher.
                        let _ = self.permit_returns.try_recv();
                    }
                    Step::Rerun => break,
                    Step::End(ending) => return Ok(ending),
                }
            }
            let message = match inbox.recv_timeout(LIVENESS_CHECK) {
                Ok(message) => message,
                Err(RecvTimeoutError::Timeout) => {
                    self.check_threads()?;
                    continue;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return Err(PipelineError::Internal(
                        "the dispatcher and workers stopped early".to_owned(),
                    ));
                }
            };
            if matches!(message, Message::Note(_, Note::End(_))) {
                self.end_received = true;
            }
            match message {
                // A worker could not make an instance: nothing more can be
                // processed.
                Message::Worker(Finished::Failed(error)) => {
                    return Err(PipelineError::Plugin(error));
                }
                Message::Worker(Finished::Done(ref job, _)) => {
                    self.waiting.insert(job.seq, message);
                }
                Message::Note(seq, _) => {
                    self.waiting.insert(seq, message);
                }
            }
        }
    }

    /// Nothing arrived for a while: fine if the workers are busy (a slow
    /// batch), an error if a thread that still owes a result is gone.
    fn check_threads(&self) -> Result<(), PipelineError> {
        if self.dispatcher.is_finished() && !self.end_received {
            return Err(PipelineError::Internal(
                "the dispatcher thread ended without finishing the input".to_owned(),
            ));
        }
        if self.workers.any_ended() {
            return Err(PipelineError::Internal(
                "a worker thread ended while batches were in flight".to_owned(),
            ));
        }
        Ok(())
    }

    fn write(&mut self, message: Message) -> Result<Step, PipelineError> {
        let closed = |_: Closed| Step::End(Ending::OutputClosed);
        match message {
            Message::Worker(Finished::Done(job, processed)) => {
                Ok(self.write_batch(job, processed)?.unwrap_or_else(closed))
            }
            Message::Worker(Finished::Failed(error)) => Err(PipelineError::Plugin(error)),
            Message::Note(_, Note::Rejected { source, rejection }) => {
                self.stats.lines += 1;
                self.stats.rejected += 1;
                self.report(source, &rejection)?;
                Ok(Step::Next)
            }
            Message::Note(_, Note::InputError { source, message }) => {
                self.stats.input_errors += 1;
                let name = self.name(source).to_owned();
                self.errors.input_error(&name, &message).map_err(|error| {
                    PipelineError::Output {
                        what: "the error reports",
                        error,
                    }
                })?;
                Ok(Step::Next)
            }
            Message::Note(_, Note::Flush) => Ok(match self.flush()? {
                Ok(()) => Step::Next,
                Err(closed_output) => closed(closed_output),
            }),
            Message::Note(_, Note::End(counts)) => {
                self.stats.bytes = counts.bytes;
                self.stats.reloads = counts.reloads;
                self.stats.failed_reloads = counts.failed_reloads;
                if counts.lines != self.stats.lines {
                    return Err(PipelineError::Internal(format!(
                        "{} lines were read but {} accounted for",
                        counts.lines, self.stats.lines
                    )));
                }
                if let Err(closed_output) = self.flush()? {
                    return Ok(closed(closed_output));
                }
                Ok(Step::End(if counts.stopped {
                    Ending::Stopped
                } else {
                    Ending::Complete
                }))
            }
        }
    }

    fn write_batch(
        &mut self,
        mut job: Job,
        processed: Processed,
    ) -> Result<Result<Step, Closed>, PipelineError> {
        let in_force = if job.first_of_source {
            None
        } else {
            self.last_header.clone()
        };
        if job.header != in_force {
            // The guess was wrong: run it again with the header in force.
            self.stats.reruns += 1;
            job.header = in_force;
            self.jobs
                .send(job)
                .map_err(|_| PipelineError::Internal("the workers stopped early".to_owned()))?;
            return Ok(Ok(Step::Rerun));
        }
        let name = self.name(job.source).to_owned();
        if let Some(fault) = &processed.fault {
            self.stats.faults += 1;
            eprintln!(
                "flowtag: warning: {} failed ({}) on {name} lines {}–{}: {}; retried them one by one in fresh instances",
                self.plugin,
                fault.fault.kind.reason_name(),
                fault.first_line,
                fault.last_line,
                fault.fault.message
            );
        }
        self.stats.lines += job.lines;
        self.stats.batches += 1;
        self.stats.written += processed.records;
        self.stats.rejected += processed.rejected.len() as u64;
        self.stats.headers += processed.headers;
        self.stats.skipped += processed.skipped;
        for rejection in &processed.rejected {
            if rejection.plugin.is_some() {
                self.stats.fault_rejections += 1;
            }
            self.report(job.source, rejection)?;
        }
        self.last_header.clone_from(&processed.header);
        *self.hint.lock().unwrap_or_else(PoisonError::into_inner) = processed.header;
        let written = self.output.write_all(&processed.ndjson);
        self.output_buffers.give(processed.ndjson);
        Ok(write_or_closed(written)
            .map_err(|error| PipelineError::Output {
                what: "the output",
                error,
            })?
            .map(|()| Step::Next))
    }

    fn report(&mut self, source: usize, rejection: &Rejection) -> Result<(), PipelineError> {
        let name = self.name(source).to_owned();
        self.errors
            .rejected(&name, rejection)
            .map_err(|error| PipelineError::Output {
                what: "the error reports",
                error,
            })
    }

    fn name(&self, source: usize) -> &str {
        self.names.get(source).map_or("<input>", String::as_str)
    }

    fn flush(&mut self) -> Result<Result<(), Closed>, PipelineError> {
        write_or_closed(self.output.flush()).map_err(|error| PipelineError::Output {
            what: "the output",
            error,
        })
    }
}

/// A closed pipe downstream is the end of the run, not an error.
fn write_or_closed(result: io::Result<()>) -> io::Result<Result<(), Closed>> {
    match result {
        Ok(()) => Ok(Ok(())),
        Err(error) if error.kind() == io::ErrorKind::BrokenPipe => Ok(Err(Closed)),
        Err(error) => Err(error),
    }
}
