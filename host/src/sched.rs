//! The scheduling policy of flowtag's threads.
//!
//! flowtag is a throughput job. With a worker on every core, each wake-up of
//! the reader, the dispatcher or the writer (several per batch) preempted a
//! worker on the spot: two workers over 3 M enriched lines took about 9,700
//! context switches. Under Linux's `SCHED_BATCH` a thread that wakes up does
//! not preempt the one running; it runs when that one's time slice ends or a
//! core falls idle. The nice value and the share of CPU stay the same. The
//! same run then took about 2,300 context switches, 3.5 % less CPU time, and
//! two workers ran 3 % faster; one worker, whose helpers have the other core
//! to themselves, ran as before (BENCHMARKS.md, host section). The price is
//! latency while every core is busy with other processes: a wake-up waits
//! for a time slice to end, and a record fed alone took up to 7 ms (median;
//! 15 ms at the 99th percentile) instead of 0.16 ms. A log pipeline does not
//! notice that; `--no-batch-scheduling` is there for one that does. With a
//! core to spare nothing changes.
//!
//! The reader's read-ahead and the batches in flight are deep enough to
//! cover such a wait (`input::CHANNEL_CHUNKS`,
//! `pipeline::Options::in_flight`): with the shallower ones before, plain
//! parsing on two workers lost 2–4 % in three sets of four.
//!
//! Threads inherit the policy of the thread that creates them, so `main`
//! switches before it starts any. A policy chosen by whoever started
//! flowtag (anything but the default `SCHED_OTHER`, e.g. through `chrt`) is
//! left alone.

use std::io;

/// What [`prefer_batch`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheduling {
    /// The calling thread now runs under `SCHED_BATCH`.
    Batch,
    /// Another policy than `SCHED_OTHER` was in force, and stays.
    Kept,
    /// Not Linux: nothing to do.
    Unsupported,
}

/// Switches the calling thread, and so every thread it creates afterwards,
/// from `SCHED_OTHER` to `SCHED_BATCH`.
///
/// # Errors
///
/// The system call's error (a sandbox may forbid it); the policy is then
/// unchanged, and flowtag runs as well as before this existed.
pub fn prefer_batch() -> io::Result<Scheduling> {
    platform::prefer_batch()
}

/// The `--verbose` line for what [`prefer_batch`] did (`None`: it was not
/// asked to, `--no-batch-scheduling`).
pub fn describe(outcome: Option<&io::Result<Scheduling>>) -> String {
    let what = match outcome {
        None => "normal policy kept (--no-batch-scheduling)".to_owned(),
        Some(Ok(Scheduling::Batch)) => "SCHED_BATCH".to_owned(),
        Some(Ok(Scheduling::Kept)) => "the policy flowtag was started with is kept".to_owned(),
        Some(Ok(Scheduling::Unsupported)) => "unchanged (SCHED_BATCH is Linux only)".to_owned(),
        Some(Err(error)) => format!("unchanged, SCHED_BATCH was refused: {error}"),
    };
    format!("flowtag: scheduling: {what}")
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
mod platform {
    use super::Scheduling;
    use std::io;

    pub(super) fn prefer_batch() -> io::Result<Scheduling> {
        // SAFETY: no pointers; 0 means the calling thread.
        let policy = unsafe { libc::sched_getscheduler(0) };
        if policy == -1 {
            return Err(io::Error::last_os_error());
        }
        if policy != libc::SCHED_OTHER {
            return Ok(Scheduling::Kept);
        }
        // The only priority SCHED_BATCH allows.
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `param` is a valid `sched_param` that outlives the call,
        // which only reads it; 0 means the calling thread.
        if unsafe { libc::sched_setscheduler(0, libc::SCHED_BATCH, &raw const param) } == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(Scheduling::Batch)
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    pub(super) fn prefer_batch() -> std::io::Result<super::Scheduling> {
        Ok(super::Scheduling::Unsupported)
    }
}
