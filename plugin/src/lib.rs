//! The flowtag guest component: converts between the WIT types and the
//! `flowlog` crate, which does all the work. This is the only bindgen site on
//! the guest side.

// wit-bindgen's generated export glue needs `unsafe` and `#[unsafe(no_mangle)]`.
#![allow(unsafe_code)]
// Generated code does not derive Debug for everything.
#![allow(missing_debug_implementations)]

use std::cell::RefCell;

mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "flowtag",
    });
}

use bindings::exports::flowtag::flowlog::processor::{Guest, GuestProcessor};
use bindings::flowtag::flowlog::types as wit;

/// The component's exported processor resource.
pub struct Processor {
    // WIT methods take `&self`; the processor reuses scratch buffers.
    inner: RefCell<flowlog::Processor>,
    loaded: Vec<wit::LoadedFile>,
}

impl GuestProcessor for Processor {
    fn new(config: wit::Config) -> Result<Processor, wit::ConfigError> {
        let wit::Config {
            formats,
            geoip,
            geoip_locale,
            aws_ip_ranges,
            eni_maps,
            derive_flow,
        } = config;
        let mut inner =
            flowlog::Processor::new(&flowlog::Config { formats }).map_err(config_error)?;
        let enricher = enrich::Enricher::load(enrich::Sources {
            geoip: geoip.into_iter().map(data_file).collect(),
            geoip_locale,
            aws_ip_ranges: aws_ip_ranges.map(data_file),
            eni_maps: eni_maps.into_iter().map(data_file).collect(),
            derive_flow,
        })
        .map_err(|error| {
            wit::ConfigError::InvalidData(wit::DataError {
                file: error.file,
                kind: data_kind(error.kind),
                message: error.message,
            })
        })?;
        let loaded = enricher
            .loaded()
            .iter()
            .map(|loaded| wit::LoadedFile {
                file: loaded.file.clone(),
                kind: data_kind(loaded.kind),
                summary: loaded.summary.clone(),
            })
            .collect();
        // An enricher with nothing to add would only slow the fast path.
        if !enricher.is_inert() {
            inner.set_enricher(Box::new(enricher));
        }
        Ok(Processor {
            inner: RefCell::new(inner),
            loaded,
        })
    }

    fn loaded(&self) -> Vec<wit::LoadedFile> {
        self.loaded.clone()
    }

    fn process(&self, batch: wit::Batch) -> wit::BatchOutput {
        let out = self.inner.borrow_mut().process_streaming(
            &batch.data,
            batch.first_line,
            batch.header.as_deref(),
            flowlog::PIECE_BYTES,
            &mut bindings::flowtag::flowlog::output::write,
        );
        wit::BatchOutput {
            ndjson: out.ndjson,
            records: out.records,
            rejected: out.rejected.into_iter().map(rejected).collect(),
            headers: out.headers,
            skipped: out.skipped,
            header: out.header,
        }
    }
}

fn data_file(file: wit::DataFile) -> enrich::DataFile {
    enrich::DataFile {
        name: file.name,
        data: file.data,
        verified: file.verified,
    }
}

fn data_kind(kind: enrich::DataKind) -> wit::DataKind {
    match kind {
        enrich::DataKind::Geoip => wit::DataKind::Geoip,
        enrich::DataKind::AwsIpRanges => wit::DataKind::AwsIpRanges,
        enrich::DataKind::EniMap => wit::DataKind::EniMap,
    }
}

fn config_error(error: flowlog::ConfigError) -> wit::ConfigError {
    match error {
        flowlog::ConfigError::InvalidFormat { index, error, .. } => {
            wit::ConfigError::InvalidFormat(wit::FormatError {
                index: saturate(index),
                token: error.token().to_owned(),
                message: error.to_string(),
            })
        }
        flowlog::ConfigError::AmbiguousFormats {
            first,
            second,
            field_count,
        } => wit::ConfigError::AmbiguousFormats(wit::AmbiguousFormats {
            first: saturate(first),
            second: saturate(second),
            field_count: saturate(field_count),
        }),
    }
}

fn rejected(rejected: flowlog::Rejected) -> wit::Rejected {
    wit::Rejected {
        line: rejected.line,
        event: rejected.event,
        field: rejected.field,
        value: rejected.value,
        reason: match rejected.reason {
            flowlog::RejectReason::FieldCount => wit::RejectReason::FieldCount,
            flowlog::RejectReason::InvalidInteger => wit::RejectReason::InvalidInteger,
            flowlog::RejectReason::InvalidAddress => wit::RejectReason::InvalidAddress,
            flowlog::RejectReason::InvalidUtf8 => wit::RejectReason::InvalidUtf8,
            flowlog::RejectReason::LineTooLong => wit::RejectReason::LineTooLong,
            flowlog::RejectReason::InvalidHeader => wit::RejectReason::InvalidHeader,
            flowlog::RejectReason::InvalidJson => wit::RejectReason::InvalidJson,
        },
        message: rejected.message,
        raw: rejected.raw,
    }
}

fn saturate(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

/// The component itself.
pub struct Component;

impl Guest for Component {
    type Processor = Processor;
}

// Only the wasm build exports the component's functions: their names
// (`flowtag:flowlog/processor@0.3.0#…`) are not valid in a native linker's
// version script, and `cargo test --workspace` links this crate natively.
#[cfg(target_arch = "wasm32")]
bindings::export!(Component with_types_in bindings);
