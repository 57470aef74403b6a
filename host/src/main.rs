//! `flowtag`: argument parsing and exit codes. The work is in the library.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// `--batch-timeout`: clap treats a bare `Option` field as an optional
/// argument, so the parsed value (`None` for `off`) needs a name of its own.
type Timeout = Option<Duration>;

use anyhow::{Context, Result};
use clap::Parser;

use flowtag::cache;
use flowtag::config::{Sources, describe_loaded, parse_size, parse_timeout};
use flowtag::input::{self, Source};
use flowtag::pipeline::{Controls, Ending, Options, Pipeline, PipelineError, Reloader};
use flowtag::report::{ErrorSink, NdjsonSink, StderrSink};
use flowtag::runtime::{self, CompileCache, Limits, Runtime, RuntimeError, RuntimeOptions};
use flowtag::sched;

const EXIT_OK: u8 = 0;
const EXIT_REJECTED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_INPUT: u8 = 3;
const EXIT_COMPONENT: u8 = 4;
const EXIT_SIGINT: u8 = 128 + 2;
const EXIT_SIGTERM: u8 = 128 + 15;

const AFTER_HELP: &str = "\
Input:
  Lines are flow-log records in the default v2 format, a --format, or the
  format named by the most recent header line (as at the top of every S3
  file). JSON lines carrying a record in `message`, and CloudWatch Logs
  subscription payloads (`logEvents`), are unpacked. gzip input is detected
  by its magic bytes. Each file starts without a header in force.

Output:
  One JSON object per record on stdout, keys in format order (AWS names with
  `-` as `_`); `-` values are left out. Rejected records go to stderr, or as
  NDJSON to --errors FILE. A summary line goes to stderr at the end.
  Records are written as soon as input pauses; nothing waits for a full batch.
  Records gain `src`, `dst`, `pkt_src`, `pkt_dst` (geo, as, aws, resource),
  `interface` and `flow` where the data files have an answer (the README's
  output contract); `--no-flow` leaves out `flow`.

Data files:
  --geoip, --aws-ip-ranges and --eni-map files are read and fully checked
  before any record is read (exit 2 on a bad one). SIGHUP re-reads them and
  switches to the new data between batches; a reload that fails keeps the
  old data and says why on stderr.

Exit status:
  0  all input was read (records may have been rejected; see --strict), or
     stdout was closed early (e.g. `flowtag | head -1`)
  1  --strict was given and at least one record was rejected
  2  usage or configuration error (bad option, --format, plugin, data file,
     --errors file), or an output that cannot be written (not a closed pipe)
  3  an input file could not be read completely (the others were processed)
  4  the component failed in its constructor (a bug in the plugin); a plugin
     failing on a record only rejects that record (plugin-trap,
     plugin-timeout, plugin-memory)
  130  interrupted by SIGINT: reading stopped, every record read was written
       or rejected, the summary was printed (a second signal exits at once)
  143  the same for SIGTERM

Sandbox and start-up:
  The plugin gets no files, network or environment. Each worker's instance
  is limited in memory (--max-memory), CPU time per batch (--batch-timeout)
  and stack (--max-stack). The compiled component is cached in
  $XDG_CACHE_HOME/flowtag (or ~/.cache/flowtag), a directory private to the
  user, with a hash of each data file the component has fully verified (a
  MaxMind DB is verified again only when its bytes change); --no-cache
  compiles and verifies every time.

Scheduling:
  On Linux, flowtag's threads run under SCHED_BATCH when it is started under
  the default policy: same priority and share of CPU, but a thread that
  wakes up waits for the running one's time slice instead of preempting it.
  That saves context switches between the reader, the workers and the writer
  (two workers: 3-5 % faster). It costs latency only while every core is
  busy with other work: a record fed alone then took up to 7 ms (median; 15
  ms at the 99th percentile) instead of 0.2 ms (5 ms). A policy set with chrt
  is kept; --no-batch-scheduling keeps the default one.";

/// Parse AWS VPC Flow Log records inside a sandboxed WebAssembly component
/// and write them as NDJSON.
#[derive(Debug, Parser)]
#[command(name = "flowtag", version = VERSION, after_help = AFTER_HELP)]
struct Args {
    /// Input files (plain or gzip); none, or `-`, reads stdin.
    files: Vec<PathBuf>,

    /// A custom record format, as `${account-id} ${srcaddr} …`,
    /// `account-id srcaddr …` or `account_id srcaddr …`. Repeatable: each
    /// record uses the format with its field count.
    #[arg(long = "format", value_name = "FORMAT")]
    formats: Vec<String>,

    /// A MaxMind DB (City or Country, and ASN or ISP; the kind is read from
    /// the file). Repeatable, one per kind.
    #[arg(long, value_name = "FILE.mmdb")]
    geoip: Vec<PathBuf>,

    /// Language of GeoIP names (default `en`; English when a name is
    /// missing in that language).
    #[arg(long, value_name = "LANG")]
    geoip_locale: Option<String>,

    /// AWS's ip-ranges.json, for the AWS service and region of addresses.
    #[arg(long, value_name = "FILE")]
    aws_ip_ranges: Option<PathBuf>,

    /// `aws ec2 describe-network-interfaces` output, for the resource
    /// behind ENIs and addresses. Repeatable.
    #[arg(long, value_name = "FILE")]
    eni_map: Vec<PathBuf>,

    /// Leave out the derived `flow` object (protocol name, TCP flag names,
    /// direction, duration, Community ID).
    #[arg(long)]
    no_flow: bool,

    /// Print what was loaded from each data file at start and on reload.
    #[arg(long, short)]
    verbose: bool,

    /// Write rejected records as NDJSON to FILE instead of stderr.
    #[arg(long, value_name = "FILE")]
    errors: Option<PathBuf>,

    /// Exit with status 1 if any record was rejected.
    #[arg(long)]
    strict: bool,

    /// Run this component (implementing the flowtag world) instead of the
    /// embedded one.
    #[arg(long, value_name = "FILE.wasm")]
    plugin: Option<PathBuf>,

    /// Do not print the summary line.
    #[arg(long, short)]
    quiet: bool,

    /// Worker threads, each with its own instance of the plugin (default:
    /// the number of cores). Output order is input order whatever the number.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    threads: Option<u16>,

    /// Linear memory each instance may use (K, M, G suffixes). A batch that
    /// needs more is retried record by record; the records that still need
    /// more are rejected as plugin-memory.
    #[arg(long, value_name = "SIZE", default_value = "1G", value_parser = parse_size)]
    max_memory: usize,

    /// CPU time one batch may take in the plugin (ms, s, m). A record that
    /// still overruns it alone is rejected as plugin-timeout. The constructor
    /// (loading data files) gets at least 60 s. `off` trusts the plugin: no
    /// deadline and no epoch checks in the guest's loops (about 2% faster
    /// with the default plugin and full enrichment; see BENCHMARKS.md).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_timeout)]
    batch_timeout: Timeout,

    /// Stack the plugin may use (K, M suffixes); overflowing it is a trap.
    #[arg(long, value_name = "SIZE", default_value = "1M", value_parser = parse_stack)]
    max_stack: usize,

    /// Do not read or write the cache (compiled component, verified data files).
    #[arg(long)]
    no_cache: bool,

    /// Keep the normal scheduling policy instead of SCHED_BATCH (see
    /// "Scheduling" below).
    #[arg(long)]
    no_batch_scheduling: bool,

    /// Bytes of input per call into the component.
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024, hide = true)]
    batch_bytes: usize,
}

/// Stacks past 256 MiB would need worker threads as large.
fn parse_stack(text: &str) -> Result<usize, String> {
    let size = parse_size(text)?;
    if size > 256 << 20 {
        return Err(format!("{text:?}: at most 256M"));
    }
    Ok(size)
}

const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (WIT ",
    env!("FLOWTAG_WIT_PACKAGE"),
    ", wasmtime ",
    env!("FLOWTAG_WASMTIME_VERSION"),
    ")"
);

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => ExitCode::from(code),
        Err(Failure { code, error }) => {
            eprintln!("flowtag: error: {error:#}");
            ExitCode::from(code)
        }
    }
}

struct Failure {
    code: u8,
    error: anyhow::Error,
}

fn fail(code: u8) -> impl FnOnce(anyhow::Error) -> Failure {
    move |error| Failure { code, error }
}

fn run(args: Args) -> Result<u8, Failure> {
    // Before any thread exists: threads inherit the policy.
    let scheduling = if args.no_batch_scheduling {
        None
    } else {
        Some(sched::prefer_batch())
    };
    // Signal handlers first: a signal during start-up (compiling, loading
    // data files) must not kill the process with the default action.
    let stop_signal = Arc::new(AtomicUsize::new(0));
    let stop = install_stop_handlers(&stop_signal).map_err(fail(EXIT_USAGE))?;
    let sources = Sources {
        formats: args.formats.clone(),
        geoip: args.geoip.clone(),
        geoip_locale: args.geoip_locale.clone(),
        aws_ip_ranges: args.aws_ip_ranges.clone(),
        eni_maps: args.eni_map.clone(),
        derive_flow: !args.no_flow,
    };
    let reload_requested = Arc::new(AtomicBool::new(false));
    if sources.has_data() {
        signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&reload_requested))
            .context("cannot install the SIGHUP handler")
            .map_err(fail(EXIT_USAGE))?;
    }

    let limits = Limits {
        max_memory: args.max_memory,
        batch_timeout: args.batch_timeout,
        max_stack: args.max_stack,
    };
    let cache = match (args.no_cache, cache::default_dir()) {
        (false, Some(dir)) => CompileCache::Directory(dir),
        _ => CompileCache::Off,
    };
    let runtime_options = RuntimeOptions { limits, cache };
    let runtime =
        Arc::new(load_runtime(args.plugin.as_ref(), &runtime_options).map_err(fail(EXIT_USAGE))?);
    // Data files are read and judged before any record is read.
    let config = sources
        .load(runtime.verified_files())
        .map_err(fail(EXIT_USAGE))?;
    let options = Options {
        batch_bytes: args.batch_bytes.max(1),
        threads: args
            .threads
            .map_or_else(flowtag::pipeline::default_threads, usize::from),
    };
    let pipeline = Pipeline::start(&runtime, config, options).map_err(|error| {
        let code = match error {
            RuntimeError::Config(_) => EXIT_USAGE,
            _ => EXIT_COMPONENT,
        };
        Failure {
            code,
            error: error.into(),
        }
    })?;
    if args.verbose {
        eprintln!("{}", sched::describe(scheduling.as_ref()));
        for line in describe_loaded(pipeline.loaded()) {
            eprintln!("{line}");
        }
    }

    let reload = if sources.has_data() {
        // A SIGHUP during start-up is kept: the files may have changed
        // after they were read.
        let requested = reload_requested;
        let reload_runtime = Arc::clone(&runtime);
        let verbose = args.verbose;
        let reloader: Reloader =
            Box::new(move || reload_config(&reload_runtime, &sources, verbose));
        Some((requested, reloader))
    } else {
        None
    };

    let mut sink: Box<dyn ErrorSink> = match &args.errors {
        Some(path) => {
            let file = File::create(path)
                .with_context(|| format!("cannot create --errors file {}", path.display()))
                .map_err(fail(EXIT_USAGE))?;
            Box::new(NdjsonSink::new(BufWriter::new(file)))
        }
        None => Box::new(StderrSink),
    };

    let inputs = Source::from_args(&args.files);
    let started = Instant::now();
    let (events, _reader) = input::spawn_reader(inputs.clone());
    let stdout = io::stdout();
    // Each batch's output (hundreds of KiB) is larger than the buffer and goes
    // straight to the file descriptor without a copy; the buffer only
    // gathers small batches from live, slow input.
    let output = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let outcome = pipeline.run(
        events,
        output,
        sink.as_mut(),
        &inputs,
        Controls { stop, reload },
    );
    // The reader, the dispatcher and idle workers end on their own once
    // their channels close; nothing waits for them (a worker may still be
    // loading data files for input that never came).
    let stats = outcome.stats;
    let ending = outcome.ending.map_err(|error| {
        let code = match error {
            PipelineError::Output { .. } => EXIT_USAGE,
            _ => EXIT_COMPONENT,
        };
        Failure {
            code,
            error: error.into(),
        }
    })?;
    sink.flush()
        .context("cannot write the --errors file")
        .map_err(fail(EXIT_USAGE))?;
    if !args.quiet {
        let mut stderr = io::stderr().lock();
        let _ = writeln!(stderr, "{}", stats.summary(started.elapsed()));
    }
    Ok(if ending == Ending::Stopped {
        match stop_signal.load(Ordering::SeqCst) {
            0 => EXIT_OK,
            signal if signal == signal_hook::consts::SIGTERM as usize => EXIT_SIGTERM,
            _ => EXIT_SIGINT,
        }
    } else if stats.input_errors > 0 {
        EXIT_INPUT
    } else if args.strict && stats.rejected > 0 {
        EXIT_REJECTED
    } else {
        EXIT_OK
    })
}

/// SIGINT/SIGTERM: the first sets the returned flag (stop reading, finish
/// what was read) and records which signal it was; a second one exits at
/// once with 128 + the signal number.
fn install_stop_handlers(stop_signal: &Arc<AtomicUsize>) -> Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let stopping = Arc::new(AtomicBool::new(false));
    for (signal, code) in [(SIGINT, EXIT_SIGINT), (SIGTERM, EXIT_SIGTERM)] {
        // Registered first, so it sees the flag as the previous signal left it.
        signal_hook::flag::register_conditional_shutdown(
            signal,
            i32::from(code),
            Arc::clone(&stopping),
        )
        .context("cannot install the signal handlers")?;
        signal_hook::flag::register_usize(signal, Arc::clone(stop_signal), signal as usize)
            .context("cannot install the signal handlers")?;
        signal_hook::flag::register(signal, Arc::clone(&stopping))
            .context("cannot install the signal handlers")?;
    }
    Ok(stopping)
}

/// On SIGHUP: re-reads the data files and checks them by building an
/// instance, so that a bad file keeps the previous data in use.
fn reload_config(
    runtime: &Runtime,
    sources: &Sources,
    verbose: bool,
) -> Result<flowtag::runtime::ProcessorConfig> {
    let mut config = sources.load(runtime.verified_files())?;
    let mut instance = runtime.instantiate(&config)?;
    // The workers that pick the new data up skip what this instance checked.
    runtime.verified_files().accepted(&mut config);
    if verbose {
        let loaded = instance
            .loaded()
            .context("the plugin failed listing what it loaded")?;
        for line in describe_loaded(&loaded) {
            eprintln!("{line}");
        }
    }
    Ok(config)
}

fn load_runtime(plugin: Option<&PathBuf>, options: &RuntimeOptions) -> Result<Runtime> {
    match plugin {
        None => Ok(Runtime::new(
            runtime::DEFAULT_PLUGIN,
            "the embedded component",
            options,
        )?),
        Some(path) => {
            let wasm = std::fs::read(path)
                .with_context(|| format!("cannot read --plugin {}", path.display()))?;
            Ok(Runtime::new(&wasm, &path.display().to_string(), options)?)
        }
    }
}
