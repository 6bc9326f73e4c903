//! `spin:postgres/postgres@4.0.0`.
//!
//! Binding: `open` checks the address against the component's
//! `allowed_outbound_hosts` (a `postgres://host[:port]` entry, port 5432 when
//! omitted, as Spin) and asks the [`PostgresBackend`] for a connection, which the
//! guest's `connection` resource owns for the instance's lifetime, so a
//! transaction opened with `BEGIN` over several calls stays on one session.
//! Backend: [`pool::Pools`], one tokio-postgres pool per address.

#![allow(
    clippy::result_large_err,
    reason = "the WIT's error carries PostgreSQL's error fields and is what the guest receives"
)]

mod pool;
mod values;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use wasmtime::component::{Linker, Resource};

use super::bindings::spin::postgres::postgres::{self, Error, ParameterValue, RowSet};
use super::{Capability, Setup, View, ViewOf};
use crate::host_state::HostState;
use crate::manifest::ComponentDecl;
use crate::manifest::allowed_hosts::AllowList;

/// Environment variable: the most connections one address's pool keeps open.
pub const MAX_CONNECTIONS_ENV: &str = "TRACKER_PG_MAX_CONNECTIONS";
/// Environment variable: how long an open may take (connecting, or waiting for a
/// pooled connection), in seconds.
pub const CONNECT_TIMEOUT_ENV: &str = "TRACKER_PG_CONNECT_TIMEOUT";

const DEFAULT_MAX_CONNECTIONS: usize = 16;
const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where SQL runs. `address` has passed the allow-list.
#[async_trait::async_trait]
pub trait PostgresBackend: Send + Sync {
    async fn connect(&self, address: &str) -> Result<Box<dyn PostgresConnection>, Error>;
}

/// One guest connection. Dropping it must leave no transaction open on whatever
/// session it used (the next instance may get that session).
#[async_trait::async_trait]
pub trait PostgresConnection: Send {
    async fn query(
        &mut self,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<RowSet, Error>;
    async fn execute(
        &mut self,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<u64, Error>;
}

/// Pool settings, read from the environment at start-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSettings {
    pub max_connections: usize,
    pub connect_timeout: Duration,
}

impl PoolSettings {
    fn from_env(env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let max_connections = match env(MAX_CONNECTIONS_ENV) {
            None => DEFAULT_MAX_CONNECTIONS,
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if n > 0 => n,
                _ => anyhow::bail!("{MAX_CONNECTIONS_ENV}: `{v}` is not a positive integer"),
            },
        };
        let connect_timeout = match env(CONNECT_TIMEOUT_ENV) {
            None => DEFAULT_CONNECT_TIMEOUT,
            Some(v) => match v.trim().parse::<f64>() {
                Ok(s) if s > 0.0 && s <= 3600.0 => Duration::from_secs_f64(s),
                _ => anyhow::bail!(
                    "{CONNECT_TIMEOUT_ENV}: `{v}` is not a number of seconds in (0, 3600]"
                ),
            },
        };
        Ok(Self {
            max_connections,
            connect_timeout,
        })
    }
}

/// The capability: the backend, shared by every component.
pub struct Postgres {
    backend: Arc<dyn PostgresBackend>,
    app_values: BTreeMap<String, String>,
}

impl Capability for Postgres {
    type Grant = Arc<AllowList>;
    type Instance = PostgresCtx;

    fn open(setup: &Setup<'_>) -> anyhow::Result<Self> {
        let settings = PoolSettings::from_env(setup.env)?;
        Ok(Self {
            backend: Arc::new(pool::Pools::new(settings, crate::pg_tls::Tls::new()?)),
            app_values: setup.app_values.clone(),
        })
    }

    fn grant(&self, component: &ComponentDecl) -> anyhow::Result<Self::Grant> {
        Ok(Arc::new(component.allow_list(&self.app_values)?))
    }

    fn instance(&self, grant: &Self::Grant) -> PostgresCtx {
        PostgresCtx {
            backend: self.backend.clone(),
            allowed: grant.clone(),
        }
    }

    fn add_to_linker(
        linker: &mut Linker<HostState>,
        view: fn(&mut HostState) -> View<'_, PostgresCtx>,
    ) -> anyhow::Result<()> {
        Ok(postgres::add_to_linker::<_, ViewOf<PostgresCtx>>(
            linker, view,
        )?)
    }
}

/// One instance's PostgreSQL access.
pub struct PostgresCtx {
    backend: Arc<dyn PostgresBackend>,
    allowed: Arc<AllowList>,
}

/// The host side of a guest `connection`.
pub struct Connection(Box<dyn PostgresConnection>);

/// Checks every host the address names against the allow-list, as Spin does: a
/// refusal is `connection-failed` naming the address.
fn check_allowed(allowed: &AllowList, address: &str) -> Result<(), Error> {
    let config = crate::pg_tls::parse_config(address).map_err(Error::ConnectionFailed)?;
    let ports = config.get_ports();
    for (i, host) in config.get_hosts().iter().enumerate() {
        let host = match host {
            tokio_postgres::config::Host::Tcp(h) => h,
            #[cfg(unix)]
            tokio_postgres::config::Host::Unix(_) => {
                return Err(Error::ConnectionFailed(
                    "Unix socket addresses are not supported".into(),
                ));
            }
        };
        // tokio-postgres pairs hosts and ports by position, one port serving all.
        let port = match ports {
            [] => 5432,
            [one] => *one,
            many => many.get(i).copied().unwrap_or(5432),
        };
        if !allowed.allows("postgres", host, port) {
            return Err(Error::ConnectionFailed(format!(
                "address postgres://{host}:{port} is not permitted: add it to the \
                 component's allowed_outbound_hosts"
            )));
        }
    }
    if config.get_hosts().is_empty() {
        return Err(Error::ConnectionFailed(
            "the address names no host".to_string(),
        ));
    }
    Ok(())
}

impl postgres::Host for View<'_, PostgresCtx> {}

impl postgres::HostConnection for View<'_, PostgresCtx> {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        if let Err(e) = check_allowed(&self.state.allowed, &address) {
            return Ok(Err(e));
        }
        match self.state.backend.connect(&address).await {
            Ok(conn) => Ok(Ok(self.table.push(Connection(conn))?)),
            Err(e) => Ok(Err(e)),
        }
    }

    async fn query(
        &mut self,
        conn: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        let conn = self.table.get_mut(&conn)?;
        Ok(conn.0.query(statement, params).await)
    }

    async fn execute(
        &mut self,
        conn: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let conn = self.table.get_mut(&conn)?;
        Ok(conn.0.execute(statement, params).await)
    }

    async fn drop(&mut self, conn: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::allowed_hosts::AllowedHost;

    fn list(entries: &[&str]) -> AllowList {
        entries
            .iter()
            .map(|e| AllowedHost::parse(e).expect("valid allow-list"))
            .collect()
    }

    fn refused(l: &AllowList, address: &str) -> bool {
        matches!(check_allowed(l, address), Err(Error::ConnectionFailed(_)))
    }

    #[test]
    fn an_address_needs_a_postgres_entry_for_its_host_and_port() {
        let l = list(&["postgres://db.internal", "postgres://127.0.0.1:6000"]);
        assert!(check_allowed(&l, "postgres://u:p@db.internal/app").is_ok());
        assert!(check_allowed(&l, "postgres://u@127.0.0.1:6000/app?sslmode=disable").is_ok());
        assert!(check_allowed(&l, "host=db.internal user=u dbname=app").is_ok());
        assert!(refused(&l, "postgres://u@db.internal:6000/app"));
        assert!(refused(&l, "postgres://u@127.0.0.1/app"));
        assert!(refused(&l, "postgres://u@elsewhere/app"));
        assert!(refused(
            &list(&["https://db.internal"]),
            "postgres://db.internal:443/x"
        ));
    }

    #[test]
    fn every_host_of_a_multi_host_address_is_checked() {
        let l = list(&["postgres://a:5432"]);
        assert!(refused(&l, "postgres://u@a:5432,b:5432/app"));
    }

    #[test]
    fn malformed_and_socket_addresses_are_refused() {
        let l = list(&["postgres://*:*"]);
        assert!(refused(&l, "postgres://u@a:notaport/app"));
        assert!(refused(&l, "host=/run/postgresql user=u"));
        assert!(refused(&l, "user=u dbname=app"));
    }

    #[test]
    fn pool_settings_have_defaults_and_refuse_nonsense() {
        let none = |_: &str| None;
        let s = PoolSettings::from_env(&none).expect("defaults");
        assert_eq!(s.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert_eq!(s.connect_timeout, DEFAULT_CONNECT_TIMEOUT);
        let set = |name: &str| match name {
            MAX_CONNECTIONS_ENV => Some("4".to_string()),
            CONNECT_TIMEOUT_ENV => Some("0.5".to_string()),
            _ => None,
        };
        let s = PoolSettings::from_env(&set).expect("set");
        assert_eq!(s.max_connections, 4);
        assert_eq!(s.connect_timeout, Duration::from_millis(500));
        let bad = |name: &str| (name == MAX_CONNECTIONS_ENV).then(|| "0".to_string());
        assert!(PoolSettings::from_env(&bad).is_err());
        let bad = |name: &str| (name == CONNECT_TIMEOUT_ENV).then(|| "soon".to_string());
        assert!(PoolSettings::from_env(&bad).is_err());
    }
}
