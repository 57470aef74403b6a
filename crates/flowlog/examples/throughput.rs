//! Native throughput of the parser: `cargo run --release -p flowlog --example
//! throughput -- FILE [FORMAT]`. Reads FILE into memory, then processes it in
//! 256 KiB batches of whole lines (as the host does) and prints records/s and
//! MB/s, median of 7 runs. Output is discarded after each batch.

use std::time::Instant;

use flowlog::{Config, Processor};

const BATCH_BYTES: usize = 256 * 1024;

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!("usage: throughput FILE [FORMAT]");
        std::process::exit(2);
    };
    let formats: Vec<String> = args.collect();
    let data = std::fs::read(&path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(2);
    });
    let mut processor = Processor::new(&Config { formats }).unwrap_or_else(|e| {
        eprintln!("bad format: {e}");
        std::process::exit(2);
    });
    let mut runs = Vec::new();
    let mut records = 0;
    for _ in 0..7 {
        let started = Instant::now();
        records = 0;
        let mut output_bytes = 0usize;
        let mut header = None;
        let mut line = 1;
        let mut rest = &data[..];
        while !rest.is_empty() {
            let cut = if rest.len() <= BATCH_BYTES {
                rest.len()
            } else {
                memchr::memrchr(b'\n', &rest[..BATCH_BYTES]).map_or(rest.len(), |p| p + 1)
            };
            let (batch, tail) = rest.split_at(cut);
            let out = processor.process(batch, line, header.as_deref());
            line += memchr::memchr_iter(b'\n', batch).count() as u64;
            records += out.records + out.rejected.len() as u64;
            output_bytes += out.ndjson.len();
            header = out.header;
            rest = tail;
        }
        std::hint::black_box(output_bytes);
        runs.push(started.elapsed().as_secs_f64());
    }
    runs.sort_by(f64::total_cmp);
    let median = runs[runs.len() / 2];
    println!(
        "native: {records} records in {median:.3} s (median of {}): {:.0} records/s, {:.1} MB/s",
        runs.len(),
        records as f64 / median,
        data.len() as f64 / median / 1e6
    );
}
