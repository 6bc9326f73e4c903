//! The wasmtime engine (pooling allocator, epoch interruption), the linker with
//! every interface tracker-host provides, and compilation through an on-disk
//! cache keyed by the component's sha256 and the engine's compatibility hash.

use std::hash::{Hash as _, Hasher};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context as _;
use sha2::{Digest as _, Sha256};

use crate::files::{sha256_hex, write_atomically};
use wasmtime::component::{Component, Linker};
use wasmtime::{Config, Enabled, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};
use wasmtime_wasi_http::p2::bindings::ProxyPre;

use crate::host_state::HostState;
use crate::slot::Version;

/// Core instances, memories and tables one component instance may use. A
/// spin-sdk component needs a handful; these leave room without reserving much.
const CORE_INSTANCES_PER_COMPONENT: u32 = 16;
const MEMORIES_PER_COMPONENT: u32 = 2;
const TABLES_PER_COMPONENT: u32 = 8;
/// Linear memory (and table) bytes a pool slot keeps mapped between instances: the
/// pages an instance wrote are reset in place (found with the kernel's PAGEMAP_SCAN)
/// rather than dropped with `madvise`, so the next instance in that slot does not
/// fault them in again. The API component writes a few hundred KiB per request.
const KEEP_RESIDENT_BYTES: usize = 8 << 20;
const TABLE_KEEP_RESIDENT_BYTES: usize = 64 << 10;

#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Concurrent instances the pool is sized for (= concurrent requests).
    pub max_instances: u32,
    /// Linear-memory cap per memory, bytes.
    pub max_memory: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Allocator {
    Pooling,
    OnDemand,
}

pub struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    cache_dir: PathBuf,
    pub allocator: Allocator,
}

fn base_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    // No collector is compiled in and components here need none.
    config.gc_support(false);
    config
}

fn pooling_config(opts: &EngineOptions, keep_resident: bool) -> PoolingAllocationConfig {
    let n = opts.max_instances.max(1);
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(n)
        .total_core_instances(n * CORE_INSTANCES_PER_COMPONENT)
        .total_memories(n * MEMORIES_PER_COMPONENT)
        .total_tables(n * TABLES_PER_COMPONENT)
        .total_stacks(n)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .max_memories_per_component(MEMORIES_PER_COMPONENT)
        .max_tables_per_component(TABLES_PER_COMPONENT)
        .max_memory_size(opts.max_memory);
    if keep_resident {
        // Only with PAGEMAP_SCAN (Linux 6.7+): without it wasmtime would reset the
        // whole kept range with memset after every instance, written or not.
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
            .table_keep_resident(TABLE_KEEP_RESIDENT_BYTES);
    }
    pool
}

/// The pooling allocator reserves address space for every slot up front; where
/// that is refused (a small `ulimit -v`, a 39-bit address space) the host still
/// runs, with per-instance allocation.
fn build_engine(opts: &EngineOptions) -> anyhow::Result<(Engine, Allocator)> {
    let pooled = |keep_resident| {
        let mut config = base_config();
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling_config(
            opts,
            keep_resident,
        )));
        Engine::new(&config)
    };
    // A kernel without PAGEMAP_SCAN refuses the first; the plain pool is the same
    // allocator with `madvise` resets.
    match pooled(true).or_else(|_| pooled(false)) {
        Ok(engine) => Ok((engine, Allocator::Pooling)),
        Err(e) => {
            tracing::warn!(
                error = %format!("{e:#}"),
                "pooling allocator unavailable (address space could not be reserved); \
                 falling back to on-demand instance allocation"
            );
            let engine = Engine::new(&base_config())
                .map_err(anyhow::Error::from)
                .context("cannot create wasmtime engine")?;
            Ok((engine, Allocator::OnDemand))
        }
    }
}

fn build_linker(engine: &Engine) -> anyhow::Result<Linker<HostState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(&mut linker)?;
    crate::caps::add_to_linker(&mut linker)?;
    Ok(linker)
}

/// Why a component cannot become a [`Version`].
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    /// Not a valid component, or wasmtime cannot compile it.
    #[error("failed to compile component {}", path.display())]
    Compile {
        path: PathBuf,
        #[source]
        source: anyhow::Error,
    },
    /// Compiled, but its imports or exports do not fit this host.
    #[error(
        "component {} cannot run here: it must export wasi:http/incoming-handler \
         and import only WASI and the Spin interfaces tracker-host provides",
        path.display()
    )]
    Link {
        path: PathBuf,
        #[source]
        source: anyhow::Error,
    },
}

/// Feeds `Hash` output into sha256 so the engine part of the cache key is stable
/// across runs of the same binary (std's hasher output is not a format).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
    fn finish(&self) -> u64 {
        0
    }
}

impl Runtime {
    pub fn new(opts: &EngineOptions, cache_dir: &Path) -> anyhow::Result<Self> {
        let (engine, allocator) = build_engine(opts)?;
        let linker = build_linker(&engine)?;
        std::fs::create_dir_all(cache_dir)
            .with_context(|| format!("cannot create cache directory {}", cache_dir.display()))?;
        Ok(Self {
            engine,
            linker,
            cache_dir: cache_dir.to_path_buf(),
            allocator,
        })
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    fn engine_key(&self) -> String {
        let mut hasher = Sha256Hasher(Sha256::new());
        self.engine
            .precompile_compatibility_hash()
            .hash(&mut hasher);
        hex::encode(&hasher.0.finalize()[..8])
    }

    /// Compiles (or loads from cache) and type-checks a component file into a
    /// servable [`Version`]. Blocking: call it off the async threads when serving.
    pub fn prepare_version(&self, source: &Path) -> anyhow::Result<Version> {
        let bytes = std::fs::read(source)
            .with_context(|| format!("cannot read component {}", source.display()))?;
        Ok(self.prepare_version_from_bytes(&bytes, source)?)
    }

    /// As [`Runtime::prepare_version`], for bytes already in memory (an upload);
    /// `source` is recorded for display only.
    pub fn prepare_version_from_bytes(
        &self,
        bytes: &[u8],
        source: &Path,
    ) -> Result<Version, PrepareError> {
        let sha256 = sha256_hex(bytes);
        let (component, from_cache) =
            self.compile_cached(bytes, &sha256)
                .map_err(|e| PrepareError::Compile {
                    path: source.to_path_buf(),
                    source: e,
                })?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .and_then(ProxyPre::new)
            .map_err(|e| PrepareError::Link {
                path: source.to_path_buf(),
                source: e.into(),
            })?;
        Ok(Version {
            pre,
            sha256,
            size: bytes.len() as u64,
            source: source.to_path_buf(),
            loaded_at: SystemTime::now(),
            from_cache,
            stats: Default::default(),
        })
    }

    fn compile_cached(&self, bytes: &[u8], sha256: &str) -> anyhow::Result<(Component, bool)> {
        let path = self
            .cache_dir
            .join(format!("{sha256}-{}.cwasm", self.engine_key()));
        if path.is_file() {
            // SAFETY: the file is machine code this host wrote from a component whose
            // sha256 and engine configuration are both in its name; nothing else writes
            // into <data>/cache.
            match unsafe { Component::deserialize_file(&self.engine, &path) } {
                Ok(component) => return Ok((component, true)),
                Err(e) => tracing::warn!(
                    path = %path.display(),
                    error = %format!("{e:#}"),
                    "ignoring unusable compiled-component cache entry"
                ),
            }
        }
        let compiled = self.engine.precompile_component(bytes)?;
        write_atomically(&path, &compiled)?;
        // SAFETY: as above; we have just written this file ourselves.
        let component = unsafe { Component::deserialize_file(&self.engine, &path) }?;
        Ok((component, false))
    }
}
