//! wasmtime embedding: the one bindgen site on the host side, the engine,
//! and processor instances that grant the guest nothing.

use anyhow::{Context, Result, anyhow};
use wasmtime::component::{Component, Linker, ResourceAny, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "flowtag",
    });
}

pub use bindings::flowtag::flowlog::types::{
    Batch, BatchOutput, Config as ProcessorConfig, ConfigError, DataFile, DataKind, LoadedFile,
    RejectReason, Rejected,
};

/// The default component, built from `plugin/` by the build script.
pub static DEFAULT_PLUGIN: &[u8] = include_bytes!(env!("FLOWTAG_DEFAULT_PLUGIN"));

/// The WIT package this host speaks, e.g. `flowtag:flowlog@0.1.0`.
pub const WIT_PACKAGE: &str = env!("FLOWTAG_WIT_PACKAGE");

/// The wasmtime version the host was built with.
pub const WASMTIME_VERSION: &str = env!("FLOWTAG_WASMTIME_VERSION");

/// Store data: a WASI context that grants nothing.
struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// A compiled component, ready to be instantiated many times.
pub struct Runtime {
    engine: Engine,
    pre: bindings::FlowtagPre<HostState>,
    /// Where the component came from, for messages.
    name: String,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").field("name", &self.name).finish()
    }
}

impl Runtime {
    /// Compiles `wasm` (a component implementing the `flowtag` world) and
    /// checks that it does.
    pub fn new(wasm: &[u8], name: &str) -> Result<Runtime> {
        let mut config = Config::new();
        config.wasm_component_model(true);
        if std::env::var_os("FLOWTAG_PERFMAP").is_some() {
            // For `perf report` on the guest's JIT code (see BENCHMARKS.md).
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let engine = Engine::new(&config).map_err(anyhow::Error::from)?;
        let component = Component::new(&engine, wasm)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{name} is not a valid WebAssembly component"))?;
        let mut linker = Linker::<HostState>::new(&engine);
        // The standard library's imports (clocks, random, stderr, …) must
        // resolve; the context below grants no files, sockets or environment.
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(anyhow::Error::from)?;
        let instance_pre = linker
            .instantiate_pre(&component)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{name} imports something flowtag does not provide"))?;
        let pre = bindings::FlowtagPre::new(instance_pre)
            .map_err(anyhow::Error::from)
            .with_context(|| {
                format!("{name} does not implement the world `flowtag` of {WIT_PACKAGE}")
            })?;
        Ok(Runtime {
            engine,
            pre,
            name: name.to_owned(),
        })
    }

    /// Where the component came from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Instantiates the component and constructs a processor. The outer
    /// error is a host or guest failure; the inner one a refused configuration.
    pub fn instantiate(
        &self,
        config: &ProcessorConfig,
    ) -> Result<std::result::Result<Instance, ConfigError>> {
        let wasi = WasiCtxBuilder::new().build();
        let mut store = Store::new(
            &self.engine,
            HostState {
                wasi,
                table: ResourceTable::new(),
            },
        );
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("cannot instantiate {}", self.name))?;
        let constructed = bindings
            .flowtag_flowlog_processor()
            .processor()
            .call_constructor(&mut store, config)
            .map_err(anyhow::Error::from)
            .with_context(|| format!("{} failed in its constructor", self.name))?;
        Ok(constructed.map(|processor| Instance {
            store,
            bindings,
            processor,
        }))
    }
}

/// One component instance holding one configured processor.
pub struct Instance {
    store: Store<HostState>,
    bindings: bindings::Flowtag,
    processor: ResourceAny,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance").finish_non_exhaustive()
    }
}

impl Instance {
    /// Runs one batch through the guest. An error here is a trap or a host
    /// failure, i.e. a bug in the component: bad records come back in the
    /// output.
    pub fn process(&mut self, batch: &Batch) -> Result<BatchOutput> {
        self.bindings
            .flowtag_flowlog_processor()
            .processor()
            .call_process(&mut self.store, self.processor, batch)
            .map_err(|e| anyhow!(e))
    }

    /// What the processor's constructor loaded.
    pub fn loaded(&mut self) -> Result<Vec<LoadedFile>> {
        self.bindings
            .flowtag_flowlog_processor()
            .processor()
            .call_loaded(&mut self.store, self.processor)
            .map_err(|e| anyhow!(e))
    }
}

/// Describes a refused configuration.
pub fn describe_config_error(error: &ConfigError) -> String {
    match error {
        ConfigError::InvalidFormat(e) => {
            format!("--format #{}: {}", e.index + 1, e.message)
        }
        ConfigError::InvalidData(e) => format!(
            "--{} {}: {}",
            crate::config::kind_name(e.kind),
            e.file,
            e.message
        ),
        ConfigError::AmbiguousFormats(e) => format!(
            "--format #{} and --format #{} both have {} fields, so a record could not be matched to one of them",
            e.first + 1,
            e.second + 1,
            e.field_count
        ),
    }
}

/// The kebab-case name of a rejection reason.
pub fn reason_name(reason: RejectReason) -> &'static str {
    match reason {
        RejectReason::FieldCount => "field-count",
        RejectReason::InvalidInteger => "invalid-integer",
        RejectReason::InvalidAddress => "invalid-address",
        RejectReason::InvalidUtf8 => "invalid-utf8",
        RejectReason::LineTooLong => "line-too-long",
        RejectReason::InvalidHeader => "invalid-header",
        RejectReason::InvalidJson => "invalid-json",
    }
}
