//! `flowtag`: argument parsing and exit codes. The work is in the library.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Parser;

use flowtag::input::{self, Source};
use flowtag::pipeline::{Ending, Options, Pipeline};
use flowtag::report::{ErrorSink, NdjsonSink, StderrSink};
use flowtag::runtime::{self, ProcessorConfig, Runtime};

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
    let runtime = load_runtime(args.plugin.as_ref()).map_err(fail(EXIT_USAGE))?;
    let config = ProcessorConfig {
        formats: args.formats.clone(),
        geoip: Vec::new(),
        geoip_locale: None,
        aws_ip_ranges: None,
        eni_maps: Vec::new(),
    };
    let mut instance = match runtime.instantiate(&config).map_err(fail(EXIT_COMPONENT))? {
        Ok(instance) => instance,
        Err(error) => {
            return Err(Failure {
                code: EXIT_USAGE,
                error: anyhow::anyhow!("{}", runtime::describe_config_error(&error)),
            });
        }
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

    let sources = Source::from_args(&args.files);
    let started = Instant::now();
    let (events, reader) = input::spawn_reader(sources.clone());
    let stdout = io::stdout();
    // Each batch's output (hundreds of KiB) is larger than the buffer and goes
    // straight to the file descriptor without a copy; the buffer only
    // gathers small batches from live, slow input.
    let output = BufWriter::with_capacity(64 * 1024, stdout.lock());
    let options = Options {
        batch_bytes: args.batch_bytes.max(1),
    };
    let mut pipeline = Pipeline::new(&mut instance, output, sink.as_mut(), &sources, options);
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
