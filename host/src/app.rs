//! The application being served: the data directory's layout and lock, the
//! capability backends, one slot per manifest component, and the router.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context as _, anyhow};

use crate::caps::key_value::KeyValueStores;
use crate::caps::outbound_http::AllowList;
use crate::caps::sqlite::SqliteDatabases;
use crate::caps::variables;
use crate::database::Database;
use crate::engine::Runtime;
use crate::host_state::{Backends, Grants};
use crate::manifest::Manifest;
use crate::router::{Route, RoutePattern, Router};
use crate::slot::Slot;

/// `<data>` and what lives in it.
pub struct DataDir {
    root: PathBuf,
    /// Holds the exclusive advisory lock on `<data>/.lock` while open.
    _lock: File,
}

impl DataDir {
    /// Creates the directory if needed and takes its lock, refusing if another
    /// process (a running host, a restore) holds it.
    pub fn lock(root: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(root)
            .with_context(|| format!("cannot create data directory {}", root.display()))?;
        let lock_path = root.join(".lock");
        let file = File::options()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&lock_path)
            .with_context(|| format!("cannot open {}", lock_path.display()))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(anyhow!(
                    "data directory {} is in use by another tracker-host (lock held on {})",
                    root.display(),
                    lock_path.display()
                ));
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", lock_path.display()));
            }
        }
        Ok(Self {
            root: root.to_path_buf(),
            _lock: file,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn sqlite_dir(&self) -> PathBuf {
        self.root.join("sqlite")
    }
    pub fn key_value_db(&self) -> PathBuf {
        self.root.join("key-value.db")
    }
    pub fn cache_dir(&self) -> PathBuf {
        self.root.join("cache")
    }
}

pub struct App {
    pub name: String,
    pub version: String,
    pub router: Router<Arc<Slot>>,
    /// Every manifest component, routed or not (hot swap and admin work on these).
    #[allow(dead_code, reason = "read by hot swap and the admin API")]
    pub slots: BTreeMap<String, Arc<Slot>>,
    pub backends: Backends,
}

impl App {
    /// Opens the databases the manifest grants, compiles every component and
    /// builds the router. Any failure aborts start-up.
    pub fn load(
        manifest: &Manifest,
        runtime: &Runtime,
        data: &DataDir,
        env: impl Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let sqlite_labels: BTreeSet<String> = manifest
            .components
            .values()
            .flat_map(|c| c.sqlite_databases.iter().cloned())
            .collect();
        let kv_labels: BTreeSet<String> = manifest
            .components
            .values()
            .flat_map(|c| c.key_value_stores.iter().cloned())
            .collect();
        let backends = Backends {
            sqlite: Arc::new(SqliteDatabases::open(&data.sqlite_dir(), sqlite_labels)?),
            key_value: Arc::new(KeyValueStores::open(&data.key_value_db(), kv_labels)?),
        };

        let app_values = variables::resolve_application(&manifest.variables, env)?;

        let mut slots = BTreeMap::new();
        for (id, decl) in &manifest.components {
            let component_values = variables::resolve_component(decl, &app_values)?;
            let outbound = AllowList::parse(&decl.allowed_outbound_hosts)
                .map_err(|e| anyhow!("component.{id}.allowed_outbound_hosts: {e}"))?;
            let grants = Grants {
                sqlite_databases: Arc::new(decl.sqlite_databases.iter().cloned().collect()),
                key_value_stores: Arc::new(decl.key_value_stores.iter().cloned().collect()),
                variables: Arc::new(component_values),
                outbound: Arc::new(outbound),
                environment: decl
                    .environment
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            };
            let started = std::time::Instant::now();
            let version = runtime
                .prepare_version(&decl.source)
                .with_context(|| format!("component.{id}.source"))?;
            tracing::info!(
                component = %id,
                source = %version.source.display(),
                bytes = version.size,
                sha256 = %version.sha256,
                cached = version.from_cache,
                ms = started.elapsed().as_millis() as u64,
                "component ready"
            );
            slots.insert(id.clone(), Arc::new(Slot::new(id.clone(), grants, version)));
        }

        let mut routes = Vec::new();
        for trigger in &manifest.http_triggers {
            let Some(raw) = &trigger.route else {
                continue;
            };
            let pattern = RoutePattern::parse(raw).map_err(|e| anyhow!("route {raw}: {e}"))?;
            let slot = slots
                .get(&trigger.component)
                .cloned()
                .ok_or_else(|| anyhow!("component `{}` is not defined", trigger.component))?;
            routes.push(Route {
                pattern,
                raw: raw.clone(),
                target: slot,
            });
        }

        for route in &routes {
            tracing::info!(route = %route.raw, component = %route.target.id, "route");
        }

        Ok(Self {
            name: manifest.application.name.clone(),
            version: manifest.application.version.clone().unwrap_or_default(),
            router: Router::new(routes),
            slots,
            backends,
        })
    }

    /// Every SQLite file the app has open.
    pub fn databases(&self) -> impl Iterator<Item = &Arc<Database>> {
        self.backends
            .sqlite
            .all()
            .chain(std::iter::once(self.backends.key_value.database()))
    }
}
