//! The PostgreSQL backend: tokio-postgres sessions in a deadpool pool per address.
//!
//! TLS as libpq's `sslmode` has it (`disable`, `prefer`, `require`; see
//! `crate::pg_tls`, which the fleet connection shares); other modes are refused
//! with `connection-failed` naming the supported ones.

#![allow(
    clippy::result_large_err,
    reason = "the WIT's error carries PostgreSQL's error fields and is what the guest receives"
)]

use std::collections::HashMap;
use std::sync::Mutex;

use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, RecyclingMethod, Runtime};

use crate::pg_tls::{Tls, parse_config};

use super::values::{self, Param};
use super::{PoolSettings, PostgresBackend, PostgresConnection};
use crate::caps::bindings::spin::postgres::postgres::{Column, Error, ParameterValue, RowSet};

/// One pool per distinct address string (credentials and database are part of it).
pub struct Pools {
    settings: PoolSettings,
    tls: Tls,
    pools: Mutex<HashMap<String, Pool>>,
}

impl Pools {
    pub fn new(settings: PoolSettings, tls: Tls) -> Self {
        Self {
            settings,
            tls,
            pools: Mutex::new(HashMap::new()),
        }
    }

    fn pool(&self, address: &str) -> Result<Pool, Error> {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pool) = pools.get(address) {
            return Ok(pool.clone());
        }
        let mut config = parse_config(address).map_err(Error::ConnectionFailed)?;
        // Notices and warnings reach no guest (the WIT has no way to deliver
        // them) and tokio-postgres would log each one, among them the warning of
        // the ROLLBACK every used session gets on its way back to the pool.
        let options = match config.get_options() {
            Some(o) => format!("{o} -c client_min_messages=error"),
            None => "-c client_min_messages=error".to_string(),
        };
        config.options(&options);
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(self.settings.connect_timeout);
        }
        let manager = Manager::from_config(
            config,
            self.tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(self.settings.max_connections)
            .runtime(Runtime::Tokio1)
            // Bounds both a new session's connect and the wait for a busy pool,
            // so an unreachable server answers an error instead of hanging.
            .create_timeout(Some(self.settings.connect_timeout))
            .wait_timeout(Some(self.settings.connect_timeout))
            .build()
            .map_err(|e| Error::Other(format!("building the connection pool: {e}")))?;
        pools.insert(address.to_string(), pool.clone());
        Ok(pool)
    }
}

#[async_trait::async_trait]
impl PostgresBackend for Pools {
    async fn connect(&self, address: &str) -> Result<Box<dyn PostgresConnection>, Error> {
        let pool = self.pool(address)?;
        let session = pool
            .get()
            .await
            .map_err(|e| Error::ConnectionFailed(e.to_string()))?;
        Ok(Box::new(Session {
            object: Some(session),
            used: false,
        }))
    }
}

/// A pooled session lent to one guest connection.
struct Session {
    /// `None` only during drop.
    object: Option<Object>,
    /// Whether the guest ran anything (an untouched session cannot be in a
    /// transaction).
    used: bool,
}

impl Session {
    fn object(&mut self) -> Result<&Object, Error> {
        self.used = true;
        self.object
            .as_ref()
            .ok_or_else(|| Error::ConnectionFailed("connection already closed".into()))
    }
}

fn refs(params: &[Param]) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect()
}

#[async_trait::async_trait]
impl PostgresConnection for Session {
    async fn query(
        &mut self,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<RowSet, Error> {
        let params = values::to_params(params)?;
        let client = self.object()?;
        // Prepared first so the columns are known even when no row comes back.
        let prepared = client
            .prepare(&statement)
            .await
            .map_err(values::query_error)?;
        let rows = client
            .query(&prepared, &refs(&params))
            .await
            .map_err(values::query_error)?;
        let columns = prepared
            .columns()
            .iter()
            .map(|c| Column {
                name: c.name().to_string(),
                data_type: values::data_type(c.type_()),
            })
            .collect();
        let rows = rows
            .iter()
            .map(|row| (0..row.len()).map(|i| values::db_value(row, i)).collect())
            .collect::<Result<_, _>>()?;
        Ok(RowSet { columns, rows })
    }

    async fn execute(
        &mut self,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> Result<u64, Error> {
        let params = values::to_params(params)?;
        self.object()?
            .execute(statement.as_str(), &refs(&params))
            .await
            .map_err(values::query_error)
    }
}

impl Drop for Session {
    /// A guest may end (or be cut off) between `BEGIN` and `COMMIT`. The session
    /// goes back to the pool only after a `ROLLBACK` succeeded; otherwise it is
    /// detached from the pool and closed, which makes the server roll back.
    fn drop(&mut self) {
        let Some(object) = self.object.take() else {
            return;
        };
        if !self.used {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    // Outside a transaction ROLLBACK only warns, and the
                    // session does not send warnings (see `pool`).
                    if object.batch_execute("ROLLBACK").await.is_err() {
                        drop(Object::take(object));
                    }
                });
            }
            Err(_) => drop(Object::take(object)),
        }
    }
}
