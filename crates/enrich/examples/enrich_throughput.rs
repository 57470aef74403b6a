//! Native throughput of parsing plus enrichment, for profiling against the
//! component: `cargo run --release -p enrich --example enrich_throughput -- FILE
//! [--geoip DB]… [--aws-ip-ranges FILE] [--eni-map FILE]… [--no-flow]`.
//! Processes FILE in 256 KiB batches of whole lines (as the host does),
//! median of 5 runs over the same enricher, and the first of them, which
//! starts with empty caches.

use std::time::Instant;

use enrich::{DataFile, Enricher, Sources};

const BATCH_BYTES: usize = 256 * 1024;

fn read(path: &str) -> DataFile {
    DataFile {
        name: path.to_owned(),
        data: std::fs::read(path).unwrap_or_else(|e| {
            eprintln!("cannot read {path}: {e}");
            std::process::exit(2);
        }),
        verified: false,
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(path) = args.next() else {
        eprintln!(
            "usage: throughput FILE [--geoip DB]… [--aws-ip-ranges F] [--eni-map F]… [--no-flow]"
        );
        std::process::exit(2);
    };
    let mut sources = Sources {
        derive_flow: true,
        ..Sources::default()
    };
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| panic!("{arg} needs a value"));
        match arg.as_str() {
            "--geoip" => sources.geoip.push(read(&value())),
            "--aws-ip-ranges" => sources.aws_ip_ranges = Some(read(&value())),
            "--eni-map" => sources.eni_maps.push(read(&value())),
            "--no-flow" => sources.derive_flow = false,
            other => panic!("unknown option {other}"),
        }
    }
    let data = std::fs::read(&path).expect("readable input");
    let started = Instant::now();
    let enricher = Enricher::load(sources).expect("valid data");
    eprintln!("loaded in {:.3} s", started.elapsed().as_secs_f64());
    let mut processor =
        flowlog::Processor::new(&flowlog::Config::default()).expect("default format");
    if !enricher.is_inert() {
        processor.set_enricher(Box::new(enricher));
    }
    let mut runs = Vec::new();
    let mut records = 0;
    let mut output_bytes = 0usize;
    for _ in 0..5 {
        let started = Instant::now();
        records = 0;
        output_bytes = 0;
        let mut rest = &data[..];
        let mut header = None;
        while !rest.is_empty() {
            let cut = if rest.len() <= BATCH_BYTES {
                rest.len()
            } else {
                rest[..BATCH_BYTES]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(rest.len(), |p| p + 1)
            };
            let (batch, tail) = rest.split_at(cut);
            let out = processor.process(batch, 1, header.as_deref());
            records += out.records + out.rejected.len() as u64;
            output_bytes += out.ndjson.len();
            header = out.header;
            rest = tail;
        }
        runs.push(started.elapsed().as_secs_f64());
    }
    // The first run fills the enricher's caches; the others find them warm.
    let cold = runs[0];
    runs.sort_by(f64::total_cmp);
    let median = runs[runs.len() / 2];
    println!(
        "native: {records} records in {median:.3} s: {:.0} records/s, {:.0} output bytes/record; \
         first run (cold caches) {cold:.3} s",
        records as f64 / median,
        output_bytes as f64 / records as f64
    );
}
