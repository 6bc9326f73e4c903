//! `spin:sqlite/sqlite@3.0.0`.
//!
//! Binding: `open` checks the component's grant and asks the [`SqliteBackend`] for
//! a connection, which the guest's `connection` resource owns for the instance's
//! lifetime, so a transaction issued as `BEGIN` ... `COMMIT` over several calls
//! stays on one connection. Backend: [`files::SqliteFiles`], one file per label
//! under `<data>/sqlite/<label>.db`.

mod files;

use std::collections::BTreeSet;
use std::sync::Arc;

use wasmtime::component::{Linker, Resource};

use super::bindings::spin::sqlite::sqlite::{self, Error, QueryResult, Value};
use super::{Access, Capability, Labels, Setup, Stored, View, ViewOf};
use crate::host_state::HostState;
use crate::manifest::ComponentDecl;

/// Where SQL runs.
#[async_trait::async_trait]
pub trait SqliteBackend: Send + Sync {
    /// A connection to `database`, a label some component declares.
    async fn connect(&self, database: &str) -> Result<Box<dyn SqliteConnection>, Error>;
    /// After the last request of a clean shutdown.
    fn shutdown(&self) {}
}

/// One guest connection.
#[async_trait::async_trait]
pub trait SqliteConnection: Send {
    async fn execute(
        &mut self,
        statement: String,
        parameters: Vec<Value>,
    ) -> Result<QueryResult, Error>;
    fn last_insert_rowid(&self) -> i64;
    fn changes(&self) -> u64;
}

/// The capability: the backend and the databases any component declares.
pub struct Sqlite {
    backend: Arc<dyn SqliteBackend>,
    declared: Arc<BTreeSet<String>>,
}

impl Capability for Sqlite {
    type Grant = Labels;
    type Instance = SqliteCtx;

    const STORED: &'static [Stored] = &[files::STORED];

    fn open(setup: &Setup<'_>) -> anyhow::Result<Self> {
        let declared = Labels::declared(setup.manifest, |c| &c.sqlite_databases);
        Ok(Self {
            backend: Arc::new(files::SqliteFiles::open(setup.data, &declared)?),
            declared,
        })
    }

    fn grant(&self, component: &ComponentDecl) -> anyhow::Result<Labels> {
        Ok(Labels::new(&self.declared, &component.sqlite_databases))
    }

    fn instance(&self, grant: &Labels) -> SqliteCtx {
        SqliteCtx {
            backend: self.backend.clone(),
            databases: grant.clone(),
        }
    }

    fn add_to_linker(
        linker: &mut Linker<HostState>,
        view: fn(&mut HostState) -> View<'_, SqliteCtx>,
    ) -> anyhow::Result<()> {
        Ok(sqlite::add_to_linker::<_, ViewOf<SqliteCtx>>(linker, view)?)
    }

    fn shutdown(&self) {
        self.backend.shutdown();
    }
}

/// One instance's SQLite access.
pub struct SqliteCtx {
    backend: Arc<dyn SqliteBackend>,
    databases: Labels,
}

/// The host side of a guest `connection`.
pub struct Connection(Box<dyn SqliteConnection>);

impl sqlite::Host for View<'_, SqliteCtx> {}

impl sqlite::HostConnection for View<'_, SqliteCtx> {
    async fn open(
        &mut self,
        database: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        match self.state.databases.access(&database) {
            Access::Granted => {}
            Access::Denied => return Ok(Err(Error::AccessDenied)),
            Access::Unknown => return Ok(Err(Error::NoSuchDatabase)),
        }
        match self.state.backend.connect(&database).await {
            Ok(conn) => Ok(Ok(self.table.push(Connection(conn))?)),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn execute(
        &mut self,
        conn: Resource<Connection>,
        statement: String,
        parameters: Vec<Value>,
    ) -> wasmtime::Result<Result<QueryResult, Error>> {
        let conn = self.table.get_mut(&conn)?;
        Ok(conn.0.execute(statement, parameters).await)
    }

    async fn last_insert_rowid(&mut self, conn: Resource<Connection>) -> wasmtime::Result<i64> {
        Ok(self.table.get(&conn)?.0.last_insert_rowid())
    }

    async fn changes(&mut self, conn: Resource<Connection>) -> wasmtime::Result<u64> {
        Ok(self.table.get(&conn)?.0.changes())
    }

    async fn drop(&mut self, conn: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        Ok(())
    }
}
