//! Spin itself serving the repository's spin.toml: `spin up --from spin.toml
//! --listen 127.0.0.1:PORT --state-dir DIR`, variables as `SPIN_VARIABLE_<NAME>`.
//! Spin keeps SQLite at `DIR/sqlite_db.db` and key-value at
//! `DIR/sqlite_key_value.db`, in rollback-journal mode with no busy timeout, so
//! its scenarios run one at a time. Skipped, saying so, where no `spin` is found
//! (see [`crate::tools`]).

use super::host::build_app;
use crate::process::{ArgsForPort, ServeSpec, Served};
use crate::suite::{Client, Resp, Target};
use crate::tools;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard};

pub struct SpinTarget;

/// `spin up --from MANIFEST --listen 127.0.0.1:PORT --state-dir STATE_DIR`, for a
/// [`ServeSpec`] (which picks the port).
pub fn spin_up_args(manifest: PathBuf, state_dir: PathBuf) -> ArgsForPort {
    Box::new(move |port| -> Vec<OsString> {
        vec![
            "up".into(),
            "--from".into(),
            manifest.clone().into(),
            "--listen".into(),
            format!("127.0.0.1:{port}").into(),
            "--state-dir".into(),
            state_dir.clone().into(),
        ]
    })
}

static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

pub struct SpinClient {
    served: Served,
    // Removed after the server (fields drop in order).
    _state: tempfile::TempDir,
}

impl SpinClient {
    fn start(env: Vec<(String, String)>) -> SpinClient {
        build_app();
        let spin = tools::spin().expect("checked by unavailable()");
        let state = tempfile::tempdir().expect("temp state dir");
        let served = Served::start(ServeSpec {
            name: "spin".into(),
            program: spin,
            args: spin_up_args(crate::manifest(), state.path().to_path_buf()),
            env,
            // Anything Spin writes beside its state stays in the temp dir.
            current_dir: state.path().to_path_buf(),
            ready_path: "/health".into(),
        });
        SpinClient {
            served,
            _state: state,
        }
    }
}

fn spin_unavailable() -> Option<String> {
    tools::spin()
        .is_none()
        .then(|| tools::missing("spin", "SPIN"))
}

impl Target for SpinTarget {
    fn unavailable(&self) -> Option<String> {
        spin_unavailable()
    }

    fn start(&self, variables: &[(&str, &str)]) -> Box<dyn Client> {
        Box::new(SpinClient::start(super::spin_variable_env(variables)))
    }

    fn exclusive(&self) -> Option<MutexGuard<'static, ()>> {
        Some(ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

/// Spin with the API in PostgreSQL mode, each scenario on a database of its own.
/// PostgreSQL takes concurrent writers, so these run in parallel.
pub struct SpinPostgresTarget;

impl Target for SpinPostgresTarget {
    fn unavailable(&self) -> Option<String> {
        spin_unavailable()
    }

    fn start(&self, variables: &[(&str, &str)]) -> Box<dyn Client> {
        let client = SpinClient::start(super::postgres::env_with_database(variables));
        super::postgres::assert_on_postgres(&client);
        Box::new(client)
    }
}

impl Client for SpinClient {
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        self.served.request(method, path, headers, Some(body))
    }

    fn restart(&mut self) {
        self.served.restart();
    }
}
