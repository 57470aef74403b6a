//! `flowtag`: argument parsing and exit codes. The work is in the library.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;

use flowtag::config::{Sources, describe_loaded};
use flowtag::input::{self, Source};
use flowtag::pipeline::{Ending, Options, Pipeline};
use flowtag::report::{ErrorSink, NdjsonSink, StderrSink};
use flowtag::runtime::{self, Instance, Runtime};

const EXIT_OK: u8 = 0;
const EXIT_REJECTED: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_INPUT: u8 = 3;
const EXIT_COMPONENT: u8 = 4;

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

Exit status:
  0  all input was read (records may have been rejected; see --strict), or
     stdout was closed early (e.g. `flowtag | head -1`)
  1  --strict was given and at least one record was rejected
  2  usage or configuration error (bad option, --format, plugin, --errors file)
  3  an input file could not be read completely (the others were processed)
  4  the component failed (a trap: a bug in the plugin); processing stopped";

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

    /// Bytes of input per call into the component.
    #[arg(long, value_name = "BYTES", default_value_t = 256 * 1024, hide = true)]
    batch_bytes: usize,
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
    let runtime = Arc::new(load_runtime(args.plugin.as_ref()).map_err(fail(EXIT_USAGE))?);
    let sources = Sources {
        formats: args.formats.clone(),
        geoip: args.geoip.clone(),
        geoip_locale: args.geoip_locale.clone(),
        aws_ip_ranges: args.aws_ip_ranges.clone(),
        eni_maps: args.eni_map.clone(),
        derive_flow: !args.no_flow,
    };
    // Data files are read and judged before any record is read.
    let instance = instantiate(&runtime, &sources, args.verbose).map_err(fail(EXIT_USAGE))?;
    let reload_requested = Arc::new(AtomicBool::new(false));
    if sources.has_data() {
        signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&reload_requested))
            .context("cannot install the SIGHUP handler")
            .map_err(fail(EXIT_USAGE))?;
    }

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
    let (events, reader) = input::spawn_reader(inputs.clone());
    let stdout = io::stdout();
    // Each batch's output (hundreds of KiB) is larger than the buffer and goes
    // straight to the file descriptor without a copy; the buffer only
    // gathers small batches from live, slow input.
    let output = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let options = Options {
        batch_bytes: args.batch_bytes.max(1),
    };
    let verbose = args.verbose;
    let reload_runtime = Arc::clone(&runtime);
    let mut pipeline = Pipeline::new(instance, output, sink.as_mut(), &inputs, options)
        .with_reload(
            reload_requested,
            Box::new(move || instantiate(&reload_runtime, &sources, verbose)),
        );
    let outcome = pipeline.run(&events);
    let stats = pipeline.stats.clone();
    drop(pipeline);
    // Dropping the receiver stops the reader if the output closed early.
    drop(events);
    let ending = outcome.map_err(fail(EXIT_COMPONENT))?;
    if ending == Ending::Complete {
        // The reader has sent everything; it has nothing left to do.
        let _ = reader.join();
    }
    sink.flush()
        .context("cannot write the --errors file")
        .map_err(fail(EXIT_USAGE))?;
    if !args.quiet {
        let mut stderr = io::stderr().lock();
        let _ = writeln!(stderr, "{}", stats.summary(started.elapsed()));
    }
    if stats.input_errors > 0 {
        Ok(EXIT_INPUT)
    } else if args.strict && stats.rejected > 0 {
        Ok(EXIT_REJECTED)
    } else {
        Ok(EXIT_OK)
    }
}

/// Reads the data files and builds a processor from them.
fn instantiate(runtime: &Runtime, sources: &Sources, verbose: bool) -> Result<Instance> {
    let config = sources.load()?;
    let mut instance = runtime
        .instantiate(&config)?
        .map_err(|error| anyhow::anyhow!("{}", runtime::describe_config_error(&error)))?;
    if verbose {
        for line in describe_loaded(&instance.loaded()?) {
            eprintln!("{line}");
        }
    }
    Ok(instance)
}

fn load_runtime(plugin: Option<&PathBuf>) -> Result<Runtime> {
    match plugin {
        None => Runtime::new(runtime::DEFAULT_PLUGIN, "the embedded component"),
        Some(path) => {
            let wasm = std::fs::read(path)
                .with_context(|| format!("cannot read --plugin {}", path.display()))?;
            Runtime::new(&wasm, &path.display().to_string())
        }
    }
}
