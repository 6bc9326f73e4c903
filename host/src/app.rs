//! The application being served: the capabilities, one slot per manifest
//! component, and the router.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::{Context as _, anyhow};

use crate::caps::{Capabilities, Setup};
use crate::engine::Runtime;
use crate::host_state::Grants;
use crate::router::{Route, Router};
use crate::slot::Slot;

pub struct App {
    pub name: String,
    pub version: String,
    pub router: Router<Arc<Slot>>,
    /// Every manifest component, routed or not (hot swap and admin work on these).
    pub slots: BTreeMap<String, Arc<Slot>>,
    pub capabilities: Capabilities,
}

impl App {
    /// Opens the capabilities' backends, compiles every component and builds the
    /// router. Any failure aborts start-up.
    pub fn load(setup: &Setup<'_>, runtime: &Runtime) -> anyhow::Result<Self> {
        let manifest = setup.manifest;
        let capabilities = Capabilities::open(setup)?;

        let mut slots = BTreeMap::new();
        for (id, decl) in &manifest.components {
            let grants = Grants {
                environment: decl
                    .environment
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
                caps: capabilities.grant(decl)?,
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
            let Some(route) = &trigger.route else {
                continue;
            };
            let slot = slots
                .get(&trigger.component)
                .cloned()
                .ok_or_else(|| anyhow!("component `{}` is not defined", trigger.component))?;
            tracing::info!(route = %route.raw, component = %slot.id, "route");
            routes.push(Route {
                pattern: route.pattern.clone(),
                raw: route.raw.clone(),
                target: slot,
            });
        }

        Ok(Self {
            name: manifest.application.name.clone(),
            version: manifest.application.version.clone().unwrap_or_default(),
            router: Router::new(routes),
            slots,
            capabilities,
        })
    }
}
