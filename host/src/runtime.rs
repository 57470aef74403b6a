//! wasmtime embedding: the one bindgen site on the host side, the engine with
//! its sandbox limits, and processor instances that grant the guest nothing.
//!
//! Limits, per instance (one [`Store`] each):
//! - linear memory: growth past [`Limits::max_memory`] traps at once (the
//!   limiter returns an error instead of letting `memory.grow` return -1, so
//!   the failure is recognisable as [`FaultKind::Memory`]);
//! - output: what one call hands over through the `output` import is held
//!   by the host, so it is bounded too: past [`Limits::max_memory`] bytes
//!   (as much as the guest could have returned from its own memory) the
//!   call traps as [`FaultKind::Memory`];
//! - CPU time: epoch interruption. A ticker thread advances the engine's
//!   epoch every [`EPOCH_TICK`]; each call gets a deadline of
//!   [`Limits::batch_timeout`] worth of ticks, and overrunning it traps
//!   ([`FaultKind::Timeout`]). The epoch checks compiled into the guest's
//!   loops cost the default plugin about 2 % with full enrichment and
//!   nothing measurable on parsing alone, once its per-byte loops were
//!   removed (they cost 18-22 % before; BENCHMARKS.md). A trusted plugin
//!   may still run without a deadline (`batch_timeout: None`); fuel would
//!   cost more;
//! - wasm stack: [`Limits::max_stack`]; the threads that run wasm are spawned
//!   with that much native stack plus room for the host ([`thread_stack_size`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use thiserror::Error;
use wasmtime::component::{Component, Linker, ResourceAny, ResourceTable, WasmList};
use wasmtime::{
    Cache, CacheConfig, Config, Engine, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder,
    Trap,
};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::verified::VerifiedFiles;

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

/// The WIT package this host speaks, e.g. `flowtag:flowlog@0.4.0`.
pub const WIT_PACKAGE: &str = env!("FLOWTAG_WIT_PACKAGE");

/// The wasmtime version the host was built with.
pub const WASMTIME_VERSION: &str = env!("FLOWTAG_WASMTIME_VERSION");

/// How often the epoch advances: the granularity of [`Limits::batch_timeout`].
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// A call's NDJSON is appended around the CPU's caches once the last call's
/// was at least this many times its input (see [`Instance::process`]).
const UNCACHED_EXPANSION: usize = 6;

/// The constructor loads the data files (a City DB takes a while), so it gets
/// at least this long whatever the batch timeout.
pub const MIN_CONSTRUCTOR_TIMEOUT: Duration = Duration::from_secs(60);

/// Sandbox limits for every instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of linear memory per instance.
    pub max_memory: usize,
    /// CPU time a `process` call may take; `None`: no deadline, and no
    /// epoch checks compiled into the guest.
    pub batch_timeout: Option<Duration>,
    /// Bytes of wasm stack.
    pub max_stack: usize,
}

impl Default for Limits {
    /// Sized for the default plugin with a full-size City DB: the DB's bytes
    /// arrive in guest memory as part of the config and are kept there, so a
    /// 70 MB DB needs ~140 MB while it is being copied, plus the other data
    /// files and the working set of a batch (a few MB). 1 GiB leaves ample
    /// room and still stops a runaway guest long before the machine suffers.
    /// A 256 KiB batch takes ~1 ms (10 ms with every enrichment), so 10 s
    /// only catches a guest that is stuck.
    fn default() -> Limits {
        Limits {
            max_memory: 1 << 30,
            batch_timeout: Some(Duration::from_secs(10)),
            max_stack: 1 << 20,
        }
    }
}

impl Limits {
    fn constructor_timeout(&self) -> Option<Duration> {
        self.batch_timeout.map(|t| t.max(MIN_CONSTRUCTOR_TIMEOUT))
    }
}

/// Native stack for a thread that runs wasm: the wasm stack lives on it,
/// and host functions (WASI, wasmtime's own frames) need room beyond that.
pub fn thread_stack_size(limits: &Limits) -> usize {
    limits.max_stack + (4 << 20)
}

/// Why the guest failed. Every such failure poisons the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// A trap: unreachable, out-of-bounds access, stack overflow, a panic…
    Trap,
    /// The call overran its deadline ([`Limits::batch_timeout`]).
    Timeout,
    /// Linear memory would grow past [`Limits::max_memory`].
    Memory,
}

impl FaultKind {
    /// The rejection reason for records that cause this fault.
    pub fn reason_name(self) -> &'static str {
        match self {
            FaultKind::Trap => "plugin-trap",
            FaultKind::Timeout => "plugin-timeout",
            FaultKind::Memory => "plugin-memory",
        }
    }
}

/// A guest failure inside a call.
#[derive(Debug, Clone, Error)]
#[error("{message}")]
pub struct Fault {
    /// What kind of failure.
    pub kind: FaultKind,
    /// wasmtime's description (trap code, limit, backtrace summary).
    pub message: String,
}

/// Why a runtime or an instance could not be made.
#[derive(Debug, Error)]
pub enum RuntimeError {
    /// The bytes are not a component implementing the `flowtag` world.
    #[error("{0}")]
    InvalidComponent(String),
    /// The processor's constructor refused the configuration.
    #[error("{}", describe_config_error(.0))]
    Config(ConfigError),
    /// The guest failed while instantiating or in its constructor.
    #[error("{plugin} failed in its constructor: {fault}")]
    Constructor {
        /// Where the component came from.
        plugin: String,
        /// What went wrong.
        fault: Fault,
    },
    /// wasmtime itself failed (engine settings, resources).
    #[error("{0}")]
    Engine(String),
}

/// The error wasmtime returns from the limiter for a memory growth past the
/// limit; found again in the call's error to classify the fault.
#[derive(Debug, Error)]
#[error("linear memory would grow to {desired} bytes, past the limit of {limit} bytes")]
struct MemoryLimitExceeded {
    desired: usize,
    limit: usize,
}

/// The error `output.write` returns (a trap) when one call's NDJSON would
/// pass the limit; found again in the call's error to classify the fault.
#[derive(Debug, Error)]
#[error("the NDJSON of one call would grow past the limit of {limit} bytes")]
struct OutputLimitExceeded {
    limit: usize,
}

/// The NDJSON that the call in progress handed over through `output.write`.
struct Output {
    bytes: Vec<u8>,
    /// Where `bytes` comes from, and where the writer returns it.
    buffers: Arc<OutputBuffers>,
    /// Whether a `process` call is in progress: writes at any other time
    /// are a bug in the guest.
    open: bool,
    /// The size of the last call's NDJSON, to size the next buffer.
    last_len: usize,
    /// Whether this call's pieces are appended around the CPU's caches
    /// (see `output_copy`).
    uncached: bool,
}

/// Output buffers that go round: an instance takes one for each call's
/// NDJSON, and whoever writes the batch out gives it back.
///
/// A fresh buffer of several MB per batch is memory the allocator has just
/// unmapped or trimmed, or that sits in no cache: faulted in and pulled
/// through the caches again every time. Recycling a few keeps them mapped
/// and warm, which measured 5 % faster with full enrichment (BENCHMARKS.md).
#[derive(Debug, Default)]
pub struct OutputBuffers {
    free: std::sync::Mutex<Vec<Vec<u8>>>,
}

impl OutputBuffers {
    /// At most this many buffers are kept…
    const KEEP: usize = 16;
    /// …holding at most this much memory together.
    const KEEP_BYTES: usize = 256 << 20;

    /// An empty buffer with room for at least `capacity` bytes.
    pub fn take(&self, capacity: usize) -> Vec<u8> {
        let reused = self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .pop();
        let mut buffer = reused.unwrap_or_default();
        buffer.reserve(capacity);
        buffer
    }

    /// Returns a buffer for reuse; dropped instead when enough are kept.
    pub fn give(&self, mut buffer: Vec<u8>) {
        if buffer.capacity() == 0 {
            return;
        }
        buffer.clear();
        let mut free = self
            .free
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let kept: usize = free.iter().map(Vec::capacity).sum();
        if free.len() < Self::KEEP && kept.saturating_add(buffer.capacity()) <= Self::KEEP_BYTES {
            free.push(buffer);
        }
    }
}

/// Enforces [`Limits::max_memory`] by trapping, and the table and instance
/// limits of [`StoreLimits`].
struct Limiter {
    max_memory: usize,
    others: StoreLimits,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_memory {
            // An error, not `Ok(false)`: a guest would turn a failed grow
            // into an abort that looks like any other trap.
            return Err(wasmtime::Error::new(MemoryLimitExceeded {
                desired,
                limit: self.max_memory,
            }));
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.others.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.others.instances()
    }

    fn tables(&self) -> usize {
        self.others.tables()
    }

    fn memories(&self) -> usize {
        self.others.memories()
    }
}

/// Store data: a WASI context that grants nothing, and the limiter.
struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limiter: Limiter,
    output: Output,
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// How the compiled component is cached between runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CompileCache {
    /// Compile every time.
    Off,
    /// wasmtime's cache in this directory (keyed by wasmtime's version, the
    /// engine's settings and a SHA-256 of the component).
    Directory(PathBuf),
}

/// Runtime settings.
#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// Sandbox limits.
    pub limits: Limits,
    /// Where compiled components are cached.
    pub cache: CompileCache,
}

/// Stops the epoch ticker when the runtime goes away.
#[derive(Debug)]
struct Ticker {
    stop: Arc<AtomicBool>,
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// A compiled component, ready to be instantiated many times, from any thread.
pub struct Runtime {
    engine: Engine,
    pre: bindings::FlowtagPre<HostState>,
    limits: Limits,
    /// Where the component came from, for messages.
    name: String,
    /// The data files this component accepted before.
    verified: VerifiedFiles,
    /// Shared by the instances and the writer.
    output_buffers: Arc<OutputBuffers>,
    _ticker: Ticker,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("name", &self.name)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Runtime {
    /// Compiles `wasm` (a component implementing the `flowtag` world), or
    /// loads it from the cache, and checks that it implements the world.
    /// A cache that cannot be used is a warning on stderr, never an error.
    pub fn new(wasm: &[u8], name: &str, options: &RuntimeOptions) -> Result<Runtime, RuntimeError> {
        let limits = options.limits;
        let mut config = Config::new();
        config.wasm_component_model(true);
        config.epoch_interruption(limits.batch_timeout.is_some());
        config.max_wasm_stack(limits.max_stack);
        // wasmtime refuses a wasm stack larger than the async stack (the
        // `async` feature is on through wasmtime-wasi, though flowtag is sync).
        config.async_stack_size(limits.max_stack + (1 << 20));
        if std::env::var_os("FLOWTAG_PERFMAP").is_some() {
            // For `perf report` on the guest's JIT code (see BENCHMARKS.md).
            config.profiler(wasmtime::ProfilingStrategy::PerfMap);
        }
        let mut private_dir = None;
        if let CompileCache::Directory(directory) = &options.cache {
            match open_cache(directory) {
                Ok(cache) => {
                    config.cache(Some(cache));
                    private_dir = Some(directory.clone());
                }
                Err(message) => eprintln!(
                    "flowtag: warning: not caching the compiled component in {}: {message}",
                    directory.display()
                ),
            }
        }
        let engine = Engine::new(&config).map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let component = Component::new(&engine, wasm).map_err(|e| {
            RuntimeError::InvalidComponent(format!(
                "{name} is not a valid WebAssembly component: {e:#}"
            ))
        })?;
        let mut linker = Linker::<HostState>::new(&engine);
        // The standard library's imports (clocks, random, stderr, …) must
        // resolve; the context below grants no files, sockets or environment.
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        // By hand rather than through bindgen's `Host` trait, so that the
        // piece is read in place from guest memory (`WasmList`) and copied
        // once, instead of lifted into a `Vec` and copied again.
        linker
            .instance(&interface_name("output"))
            .and_then(|mut output| output.func_wrap("write", write_output))
            .map_err(|e| RuntimeError::Engine(format!("{e:#}")))?;
        let instance_pre = linker.instantiate_pre(&component).map_err(|e| {
            RuntimeError::InvalidComponent(format!(
                "{name} imports something flowtag does not provide: {e:#}"
            ))
        })?;
        let pre = bindings::FlowtagPre::new(instance_pre).map_err(|e| {
            RuntimeError::InvalidComponent(format!(
                "{name} does not implement the world `flowtag` of {WIT_PACKAGE}: {e:#}"
            ))
        })?;
        Ok(Runtime {
            _ticker: start_ticker(&engine, limits.batch_timeout.is_some()),
            engine,
            pre,
            limits,
            name: name.to_owned(),
            verified: VerifiedFiles::new(wasm, private_dir),
            output_buffers: Arc::default(),
        })
    }

    /// Where the component came from.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The sandbox limits.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The buffers the instances' NDJSON comes in: give them back here
    /// once written.
    pub fn output_buffers(&self) -> &Arc<OutputBuffers> {
        &self.output_buffers
    }

    /// The data files this component accepted before (in this run, or in
    /// earlier runs when the cache is on).
    pub fn verified_files(&self) -> &VerifiedFiles {
        &self.verified
    }

    /// Instantiates the component (from the pre-instantiated template) and
    /// constructs a processor. Call it on a thread with at least
    /// [`thread_stack_size`] of stack.
    pub fn instantiate(&self, config: &ProcessorConfig) -> Result<Instance, RuntimeError> {
        // Explicitly nothing: no preopened directories, no environment, no
        // stdin, and no network even where WASI would allow some by default.
        let wasi = WasiCtxBuilder::new()
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let limiter = Limiter {
            max_memory: self.limits.max_memory,
            // A component is a handful of core instances, each with a table
            // or two; these only stop a guest that creates them in a loop.
            others: StoreLimitsBuilder::new()
                .instances(64)
                .tables(64)
                .memories(16)
                .table_elements(1 << 20)
                .build(),
        };
        let mut store = Store::new(
            &self.engine,
            HostState {
                wasi,
                table: ResourceTable::new(),
                limiter,
                output: Output {
                    bytes: Vec::new(),
                    buffers: Arc::clone(&self.output_buffers),
                    open: false,
                    last_len: 0,
                    uncached: false,
                },
            },
        );
        store.limiter(|state| &mut state.limiter);
        if let Some(timeout) = self.limits.constructor_timeout() {
            store.set_epoch_deadline(ticks(timeout));
        }
        let constructor_failed = |error: wasmtime::Error| RuntimeError::Constructor {
            plugin: self.name.clone(),
            fault: classify(&error),
        };
        let bindings = self
            .pre
            .instantiate(&mut store)
            .map_err(constructor_failed)?;
        let processor = bindings
            .flowtag_flowlog_processor()
            .processor()
            .call_constructor(&mut store, config)
            .map_err(constructor_failed)?
            .map_err(RuntimeError::Config)?;
        Ok(Instance {
            store,
            bindings,
            processor,
            batch_ticks: self.limits.batch_timeout.map(ticks),
        })
    }
}

/// Epoch ticks for `timeout`, rounded up, plus one because the current tick
/// may be about to end.
fn ticks(timeout: Duration) -> u64 {
    let tick = EPOCH_TICK.as_nanos();
    u64::try_from(timeout.as_nanos().div_ceil(tick)).unwrap_or(u64::MAX / 2) + 1
}

/// Advances the engine's epoch every [`EPOCH_TICK`] until the runtime is
/// dropped. Holds only a weak handle, so it never keeps the engine alive.
fn start_ticker(engine: &Engine, needed: bool) -> Ticker {
    let stop = Arc::new(AtomicBool::new(!needed));
    if !needed {
        return Ticker { stop };
    }
    let weak = engine.weak();
    let stopped = Arc::clone(&stop);
    let spawned = std::thread::Builder::new()
        .name("flowtag-epoch".to_owned())
        .spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                match weak.upgrade() {
                    Some(engine) => engine.increment_epoch(),
                    None => return,
                }
            }
        });
    if let Err(error) = spawned {
        // Without it no deadline ever passes: the limit is lost, not the run.
        eprintln!(
            "flowtag: warning: cannot start the epoch thread, batch timeouts are off: {error}"
        );
    }
    Ticker { stop }
}

/// wasmtime's compilation cache in `directory/wasmtime`, inside a directory
/// created private to the user.
fn open_cache(directory: &std::path::Path) -> Result<Cache, String> {
    crate::cache::prepare_private_dir(directory)?;
    let mut config = CacheConfig::new();
    // A directory of its own: wasmtime's periodic clean-up deletes whatever
    // it does not recognise in its cache directory, which took the verified
    // data files' keys (`directory/verified`) with it.
    config.with_directory(directory.join("wasmtime"));
    Cache::new(config).map_err(|e| format!("{e:#}"))
}

/// Sorts a failed call into a trap, a timeout or a memory-limit failure,
/// described in one line (wasmtime's text adds a multi-line wasm backtrace).
fn classify(error: &wasmtime::Error) -> Fault {
    if let Some(limit) = error.downcast_ref::<MemoryLimitExceeded>() {
        return Fault {
            kind: FaultKind::Memory,
            message: limit.to_string(),
        };
    }
    if let Some(limit) = error.downcast_ref::<OutputLimitExceeded>() {
        return Fault {
            kind: FaultKind::Memory,
            message: limit.to_string(),
        };
    }
    match error.downcast_ref::<Trap>() {
        Some(Trap::Interrupt) => Fault {
            kind: FaultKind::Timeout,
            message: "the call ran past the batch timeout".to_owned(),
        },
        Some(trap) => Fault {
            kind: FaultKind::Trap,
            message: trap.to_string(),
        },
        None => Fault {
            kind: FaultKind::Trap,
            message: error
                .root_cause()
                .to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
        },
    }
}

/// One component instance holding one configured processor.
pub struct Instance {
    store: Store<HostState>,
    bindings: bindings::Flowtag,
    processor: ResourceAny,
    batch_ticks: Option<u64>,
}

impl std::fmt::Debug for Instance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instance").finish_non_exhaustive()
    }
}

/// `flowtag:flowlog/NAME@VERSION` for an interface of [`WIT_PACKAGE`].
fn interface_name(name: &str) -> String {
    match WIT_PACKAGE.split_once('@') {
        Some((package, version)) => format!("{package}/{name}@{version}"),
        None => format!("{WIT_PACKAGE}/{name}"),
    }
}

/// The host's `output.write`: appends a piece of the call's NDJSON.
fn write_output(
    mut store: wasmtime::StoreContextMut<'_, HostState>,
    (piece,): (WasmList<u8>,),
) -> wasmtime::Result<()> {
    let state = store.data();
    if !state.output.open {
        wasmtime::bail!("output.write was called outside processor.process");
    }
    // As much as the guest could have returned from its own memory.
    let limit = state.limiter.max_memory;
    if state.output.bytes.len().saturating_add(piece.len()) > limit {
        return Err(wasmtime::Error::new(OutputLimitExceeded { limit }));
    }
    // Taken out for the moment, so that the guest's memory can be borrowed.
    let mut bytes = std::mem::take(&mut store.data_mut().output.bytes);
    let piece = piece.as_le_slice(&store);
    if store.data().output.uncached {
        crate::output_copy::append_uncached(&mut bytes, piece);
    } else {
        bytes.extend_from_slice(piece);
    }
    store.data_mut().output.bytes = bytes;
    Ok(())
}

impl Instance {
    /// Runs one batch through the guest. Bad records come back in the
    /// output; an error is a guest failure, after which the instance must
    /// be dropped (the component model forbids entering it again).
    pub fn process(&mut self, batch: &Batch) -> Result<BatchOutput, Fault> {
        if let Some(ticks) = self.batch_ticks {
            self.store.set_epoch_deadline(ticks);
        }
        let output = &mut self.store.data_mut().output;
        // Room for a batch like the last one: the pieces are not copied
        // again as the buffer grows.
        output.bytes = output.buffers.take(output.last_len + output.last_len / 8);
        // Only output many times the size of its input (enrichment: ≈ 13x)
        // is worth keeping out of the caches; plain parsing (≈ 2.3x) ran
        // 1.5 % slower with non-temporal stores (BENCHMARKS.md, step 20).
        output.uncached = output.last_len >= UNCACHED_EXPANSION * batch.data.len();
        output.open = true;
        let result = self
            .bindings
            .flowtag_flowlog_processor()
            .processor()
            .call_process(&mut self.store, self.processor, batch);
        let output = &mut self.store.data_mut().output;
        output.open = false;
        let mut written = std::mem::take(&mut output.bytes);
        // After a failure what the call wrote is dropped with it: the batch
        // is processed again.
        let mut result = match result {
            Ok(result) => result,
            Err(error) => {
                output.buffers.give(written);
                return Err(classify(&error));
            }
        };
        if written.is_empty() {
            output.buffers.give(written);
        } else {
            written.extend_from_slice(&result.ndjson);
            result.ndjson = written;
        }
        output.last_len = result.ndjson.len();
        Ok(result)
    }

    /// What the processor's constructor loaded.
    pub fn loaded(&mut self) -> Result<Vec<LoadedFile>, Fault> {
        if let Some(ticks) = self.batch_ticks {
            self.store.set_epoch_deadline(ticks);
        }
        self.bindings
            .flowtag_flowlog_processor()
            .processor()
            .call_loaded(&mut self.store, self.processor)
            .map_err(|e| classify(&e))
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

#[cfg(test)]
mod tests {
    use super::OutputBuffers;

    #[test]
    fn output_buffers_are_reused_empty_and_bounded() {
        let buffers = OutputBuffers::default();
        let mut first = buffers.take(1000);
        first.extend_from_slice(b"written");
        let address = first.as_ptr();
        buffers.give(first);
        let again = buffers.take(10);
        assert!(again.is_empty(), "a reused buffer must come back empty");
        assert_eq!(
            again.as_ptr(),
            address,
            "the buffer given back was not reused"
        );
        assert!(again.capacity() >= 1000);
        // A buffer larger than it has room for is dropped, not kept.
        buffers.give(Vec::with_capacity(OutputBuffers::KEEP_BYTES + 1));
        // So is one past the count, and one with no memory at all.
        for _ in 0..OutputBuffers::KEEP + 3 {
            buffers.give(Vec::with_capacity(64));
        }
        buffers.give(Vec::new());
        let kept = buffers.free.lock().unwrap();
        assert_eq!(kept.len(), OutputBuffers::KEEP);
        assert!(kept.iter().all(|b| b.capacity() == 64));
    }
}
