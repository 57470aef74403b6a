//! Worker threads: each owns one component instance (its own [`Store`]) and
//! processes batches taken from a shared queue. A batch on which the guest
//! fails is retried line by line in fresh instances, so that only the
//! records that make the plugin fail are rejected.
//!
//! [`Store`]: wasmtime::Store

use std::sync::mpsc::{Receiver, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;

use crate::report::Rejection;
use crate::runtime::{
    Batch, BatchOutput, Fault, Instance, LoadedFile, ProcessorConfig, Runtime, RuntimeError,
};
use crate::verified::all_verified;

/// A processor configuration in force from some batch on. A reload makes a
/// new one; each job names the one it was cut under, so batches cut before a
/// reload use the old data and batches after it the new, whichever worker
/// runs them.
#[derive(Debug)]
pub struct Generation {
    /// Increases with every reload.
    pub id: u64,
    /// The configuration (formats and data files).
    pub config: Arc<ProcessorConfig>,
}

/// One batch of whole lines of one source.
#[derive(Debug)]
pub struct Job {
    /// Position in the output order.
    pub seq: u64,
    /// Index of the source in the source list.
    pub source: usize,
    /// Line number of the first line of `data`.
    pub first_line: u64,
    /// Lines in `data` (a last line without a newline counts).
    pub lines: u64,
    /// The raw lines.
    pub data: Vec<u8>,
    /// The header assumed to be in force at the start of `data` (see
    /// `pipeline.rs` on how it is guessed and checked).
    pub header: Option<String>,
    /// The first batch of its source: no header is in force, for certain.
    pub first_of_source: bool,
    /// The configuration to process it with.
    pub generation: Arc<Generation>,
}

/// A guest failure on a batch, for the warning on stderr.
#[derive(Debug, Clone)]
pub struct BatchFault {
    /// What went wrong.
    pub fault: Fault,
    /// Line numbers of the batch.
    pub first_line: u64,
    /// Last line number of the batch.
    pub last_line: u64,
}

/// The result of a batch: the component's output, merged over single-line
/// retries when the guest failed.
#[derive(Debug, Default)]
pub struct Processed {
    /// NDJSON of accepted records.
    pub ndjson: Vec<u8>,
    /// Accepted records.
    pub records: u64,
    /// Rejected records, in input order.
    pub rejected: Vec<Rejection>,
    /// Header lines.
    pub headers: u64,
    /// Blank lines and control messages.
    pub skipped: u64,
    /// The header in force after the batch.
    pub header: Option<String>,
    /// The guest failure that caused the line-by-line retry, if any.
    pub fault: Option<BatchFault>,
}

impl Processed {
    fn from_output(output: BatchOutput) -> Processed {
        Processed {
            ndjson: output.ndjson,
            records: output.records,
            rejected: output.rejected.into_iter().map(Rejection::from).collect(),
            headers: output.headers,
            skipped: output.skipped,
            header: output.header,
            fault: None,
        }
    }

    fn absorb(&mut self, output: BatchOutput) {
        self.ndjson.extend_from_slice(&output.ndjson);
        self.records += output.records;
        self.rejected
            .extend(output.rejected.into_iter().map(Rejection::from));
        self.headers += output.headers;
        self.skipped += output.skipped;
        self.header = output.header;
    }
}

/// What a worker sends back.
#[derive(Debug)]
pub enum Finished {
    /// The job (its data kept, in case it must run again) and its result.
    Done(Job, Processed),
    /// No instance could be made (the constructor failed): processing stops.
    Failed(RuntimeError),
}

/// The instance a worker holds, and the configuration it was built with.
struct Current {
    instance: Instance,
    generation: u64,
}

struct Worker {
    runtime: Arc<Runtime>,
    current: Option<Current>,
}

impl Worker {
    /// The instance for `generation`, made fresh if there is none or it was
    /// built with another configuration.
    fn instance(&mut self, generation: &Generation) -> Result<&mut Instance, RuntimeError> {
        if self
            .current
            .as_ref()
            .is_some_and(|c| c.generation != generation.id)
        {
            // Drop the old one first: with a large DB two at once double
            // the memory.
            self.current = None;
        }
        let current = match self.current.take() {
            Some(current) => current,
            None => Current {
                instance: self.runtime.instantiate(&generation.config)?,
                generation: generation.id,
            },
        };
        Ok(&mut self.current.insert(current).instance)
    }

    fn process(&mut self, job: &mut Job) -> Result<Processed, RuntimeError> {
        let batch = Batch {
            data: std::mem::take(&mut job.data),
            first_line: job.first_line,
            header: job.header.clone(),
        };
        let result = self.instance(&job.generation)?.process(&batch);
        job.data = batch.data;
        match result {
            Ok(output) => Ok(Processed::from_output(output)),
            Err(fault) => {
                // A failed instance may not be entered again.
                self.current = None;
                let mut processed = self.isolate(job)?;
                processed.fault = Some(BatchFault {
                    fault,
                    first_line: job.first_line,
                    last_line: job.first_line + job.lines.saturating_sub(1),
                });
                Ok(processed)
            }
        }
    }

    /// Runs every line of the job as a batch of its own, each in an instance
    /// no failure has touched, carrying the header from line to line. Lines
    /// the guest fails on again are rejected with the host's reason.
    fn isolate(&mut self, job: &Job) -> Result<Processed, RuntimeError> {
        let mut processed = Processed {
            header: job.header.clone(),
            ..Processed::default()
        };
        let lines = job.data.split_inclusive(|&b| b == b'\n');
        for (line_number, line) in (job.first_line..).zip(lines) {
            let batch = Batch {
                data: line.to_vec(),
                first_line: line_number,
                header: processed.header.clone(),
            };
            match self.instance(&job.generation)?.process(&batch) {
                Ok(output) => processed.absorb(output),
                Err(fault) => {
                    self.current = None;
                    processed.rejected.push(Rejection::plugin_fault(
                        line_number,
                        line,
                        self.runtime.name(),
                        &fault,
                    ));
                }
            }
        }
        Ok(processed)
    }
}

/// Running workers.
#[derive(Debug)]
pub struct Workers {
    handles: Vec<JoinHandle<()>>,
}

impl Workers {
    /// Starts `threads` workers that take jobs from `jobs` and send results
    /// to `finished`. Each builds its instance at once (they load data files
    /// in parallel); the call waits for the first and returns what its
    /// constructor loaded, or why it failed.
    ///
    /// When a data file is new to the component, the first worker loads it
    /// alone, with its whole-file checks; once it has passed, the file is
    /// marked verified in `generation` (which must not be shared yet), so
    /// that the other workers, and every fresh instance built later for
    /// this generation, skip those checks.
    pub fn start<T: From<Finished> + Send + 'static>(
        runtime: &Arc<Runtime>,
        generation: &mut Arc<Generation>,
        threads: usize,
        jobs: Receiver<Job>,
        finished: &Sender<T>,
    ) -> Result<(Workers, Vec<LoadedFile>), RuntimeError> {
        let jobs = Arc::new(Mutex::new(jobs));
        let (first_sender, first_receiver) = std::sync::mpsc::channel();
        let first_checks_alone = !all_verified(&generation.config);
        let spawn = |index: usize, generation: &Arc<Generation>, report_start| {
            let runtime = Arc::clone(runtime);
            let generation = Arc::clone(generation);
            let jobs = Arc::clone(&jobs);
            let finished = finished.clone();
            std::thread::Builder::new()
                .name(format!("flowtag-worker-{index}"))
                .stack_size(crate::runtime::thread_stack_size(runtime.limits()))
                .spawn(move || work(runtime, generation, &jobs, &finished, report_start))
                .map_err(|e| RuntimeError::Engine(format!("cannot start a worker thread: {e}")))
        };
        let mut handles = vec![spawn(0, generation, Some(first_sender))?];
        let others = 1..threads.max(1);
        if !first_checks_alone {
            for index in others.clone() {
                handles.push(spawn(index, generation, None)?);
            }
        }
        let loaded = first_receiver.recv().unwrap_or_else(|_| {
            Err(RuntimeError::Engine(
                "the first worker stopped before building its instance".to_owned(),
            ))
        })?;
        if first_checks_alone {
            // The first worker let go of the generation before reporting.
            if let Some(config) = Arc::get_mut(generation).and_then(|g| Arc::get_mut(&mut g.config))
            {
                runtime.verified_files().accepted(config);
            }
            for index in others {
                handles.push(spawn(index, generation, None)?);
            }
        }
        Ok((Workers { handles }, loaded))
    }

    /// Whether a worker thread has ended. While jobs can still come, that
    /// only happens after it reported a failure, or if it panicked (a bug),
    /// in which case its job would never come back.
    pub fn any_ended(&self) -> bool {
        self.handles.iter().any(JoinHandle::is_finished)
    }
}

type StartReport = Sender<Result<Vec<LoadedFile>, RuntimeError>>;

fn work<T: From<Finished>>(
    runtime: Arc<Runtime>,
    generation: Arc<Generation>,
    jobs: &Mutex<Receiver<Job>>,
    finished: &Sender<T>,
    report_start: Option<StartReport>,
) {
    let mut worker = Worker {
        runtime,
        current: None,
    };
    let plugin = worker.runtime.name().to_owned();
    let started = worker.instance(&generation).and_then(|instance| {
        instance
            .loaded()
            .map_err(|fault| RuntimeError::Constructor { plugin, fault })
    });
    // Jobs carry the generation to use; holding on to this one would keep
    // its data files in memory after a reload, and stop `Workers::start`
    // from marking them verified.
    drop(generation);
    match (started, report_start) {
        (Ok(loaded), Some(report)) => {
            let _ = report.send(Ok(loaded));
        }
        (Err(error), Some(report)) => {
            let _ = report.send(Err(error));
            return;
        }
        (Ok(_), None) => {}
        (Err(error), None) => {
            let _ = finished.send(Finished::Failed(error).into());
            return;
        }
    }
    loop {
        let job = {
            let queue = jobs.lock().unwrap_or_else(PoisonError::into_inner);
            queue.recv()
        };
        let Ok(mut job) = job else {
            return;
        };
        let message = match worker.process(&mut job) {
            Ok(processed) => Finished::Done(job, processed),
            Err(error) => Finished::Failed(error),
        };
        let failed = matches!(message, Finished::Failed(_));
        if finished.send(message.into()).is_err() || failed {
            return;
        }
    }
}
