//! The capabilities tracker-host gives components beyond WASI and WASI HTTP.
//!
//! Every capability has one shape: a module whose guest binding (the WIT host
//! traits, or wasmtime-wasi-http's hooks) talks to a backend behind a small trait
//! of the module's own, and a [`Capability`] impl that opens the backend at
//! start-up, resolves what the manifest grants each component, and builds each
//! instance's state. [`capabilities!`] below is the one list of them; adding a
//! capability is a module plus one line there (docs/architecture.md has the recipe).

pub mod key_value;
pub mod outbound_http;
pub mod postgres;
pub mod sqlite;
pub mod variables;

use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::sync::Arc;

use wasmtime::component::{HasData, Linker, ResourceTable};

use crate::data_dir::DataDir;
use crate::host_state::HostState;
use crate::manifest::{ComponentDecl, Manifest};

pub(crate) mod bindings {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "skilltrack:platform/capabilities",
        imports: { default: async | trappable },
        with: {
            "spin:sqlite/sqlite.connection": super::sqlite::Connection,
            "fermyon:spin/key-value.store": super::key_value::Store,
            "spin:postgres/postgres.connection": super::postgres::Connection,
        },
    });
}

/// What a capability reads when the app starts.
pub struct Setup<'a> {
    pub manifest: &'a Manifest,
    pub data: &'a DataDir,
    /// The process environment (a function, so tests can supply their own).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// Application variable values (provider over defaults), resolved once:
    /// component variables and templated outbound hosts are rendered from them.
    pub app_values: &'a std::collections::BTreeMap<String, String>,
}

/// SQLite databases a backend keeps in the data dir: `backup` copies them with
/// SQLite's online backup API and `restore` accepts exactly these paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// One database file, e.g. `key-value.db`.
    Database(&'static str),
    /// A directory of `<label>.db` files, e.g. `sqlite/`.
    Databases(&'static str),
}

/// One capability: opened once per app, granted per component, instantiated per
/// request.
pub trait Capability: Sized + Send + Sync + 'static {
    /// What the manifest grants one component, resolved at start-up.
    type Grant: Send + Sync + 'static;
    /// What one instance's store holds. Built per request: keep it to `Arc` clones.
    type Instance: Send + 'static;

    /// The databases this capability's backend keeps in the data dir (backup hook).
    const STORED: &'static [Stored] = &[];

    /// Opens the backend for the whole app. Errors abort start-up.
    fn open(setup: &Setup<'_>) -> anyhow::Result<Self>;

    /// Resolves what the manifest grants `component`; errors name the field.
    fn grant(&self, component: &ComponentDecl) -> anyhow::Result<Self::Grant>;

    fn instance(&self, grant: &Self::Grant) -> Self::Instance;

    /// Registers the guest binding; `view` reaches this capability's instance
    /// state and the store's resource table.
    fn add_to_linker(
        linker: &mut Linker<HostState>,
        view: fn(&mut HostState) -> View<'_, Self::Instance>,
    ) -> anyhow::Result<()>;

    /// After the last request of a clean shutdown (checkpoint hook).
    fn shutdown(&self) {}
}

/// The labelled resources (databases, stores) one component may open. Spin tells
/// a label the component was not granted (access denied) from one no component
/// declares (no such database or store).
#[derive(Clone)]
pub struct Labels {
    declared: Arc<BTreeSet<String>>,
    granted: Arc<BTreeSet<String>>,
}

pub enum Access {
    Granted,
    Denied,
    Unknown,
}

impl Labels {
    /// Every label the manifest's components declare in the list `field` picks.
    pub fn declared(
        manifest: &Manifest,
        field: fn(&ComponentDecl) -> &[String],
    ) -> Arc<BTreeSet<String>> {
        Arc::new(
            manifest
                .components
                .values()
                .flat_map(|c| field(c).iter().cloned())
                .collect(),
        )
    }

    pub fn new(declared: &Arc<BTreeSet<String>>, granted: &[String]) -> Self {
        Self {
            declared: declared.clone(),
            granted: Arc::new(granted.iter().cloned().collect()),
        }
    }

    pub fn access(&self, label: &str) -> Access {
        if self.granted.contains(label) {
            Access::Granted
        } else if self.declared.contains(label) {
            Access::Denied
        } else {
            Access::Unknown
        }
    }
}

/// What a binding works on during one host call: its instance state and the
/// store's resource table.
pub struct View<'a, S> {
    pub state: &'a mut S,
    pub table: &'a mut ResourceTable,
}

/// The [`HasData`] of a binding whose host traits are implemented on `View<S>`.
pub struct ViewOf<S>(PhantomData<S>);

impl<S: 'static> HasData for ViewOf<S> {
    type Data<'a> = View<'a, S>;
}

/// Declares the registered capabilities and derives, field by field, the
/// app-wide [`Capabilities`], each component's [`Grants`], each instance's
/// [`Instances`] and the loops over them.
macro_rules! capabilities {
    ($($field:ident: $cap:ty),* $(,)?) => {
        /// Every capability, opened for the app.
        pub struct Capabilities {
            $(pub $field: $cap,)*
        }

        /// What the manifest grants one component, per capability.
        pub struct Grants {
            $(pub $field: <$cap as Capability>::Grant,)*
        }

        /// One instance's state, per capability.
        pub struct Instances {
            $(pub $field: <$cap as Capability>::Instance,)*
        }

        impl Capabilities {
            pub fn open(setup: &Setup<'_>) -> anyhow::Result<Self> {
                Ok(Self { $($field: <$cap>::open(setup)?,)* })
            }

            pub fn grant(&self, component: &ComponentDecl) -> anyhow::Result<Grants> {
                Ok(Grants { $($field: self.$field.grant(component)?,)* })
            }

            pub fn instances(&self, grants: &Grants) -> Instances {
                Instances { $($field: self.$field.instance(&grants.$field),)* }
            }

            pub fn shutdown(&self) {
                $(self.$field.shutdown();)*
            }
        }

        /// Registers every capability's binding on the linker.
        pub fn add_to_linker(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
            $(<$cap>::add_to_linker(linker, |state| {
                let (instances, table) = state.capabilities();
                View { state: &mut instances.$field, table }
            })?;)*
            Ok(())
        }

        /// Every database the capabilities keep in the data dir.
        pub fn stored() -> Vec<Stored> {
            [$(<$cap as Capability>::STORED,)*].concat()
        }
    };
}

capabilities! {
    sqlite: sqlite::Sqlite,
    key_value: key_value::KeyValue,
    variables: variables::Variables,
    outbound_http: outbound_http::OutboundHttp,
    postgres: postgres::Postgres,
}
