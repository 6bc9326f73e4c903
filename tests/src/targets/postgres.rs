//! The real tracker-host serving the real components from spin.toml, with the API
//! in PostgreSQL mode: `database_url` set to a fresh database on a real server.

use crate::HostOptions;
use crate::postgres;
use crate::suite::{Client, Target};
use crate::targets::host::{HostClient, build_app};

pub struct PostgresTarget;

/// The scenario's variables plus `database_url` (a new database on the shared
/// server) and `database_host` (its allow-list entry), as `SPIN_VARIABLE_*`.
pub fn env_with_database(variables: &[(&str, &str)]) -> Vec<(String, String)> {
    let pg =
        postgres::shared().expect("PostgreSQL is needed for this suite (`make deps` installs it)");
    let url = pg.create_database();
    let host = pg.host_entry();
    let mut all = vec![
        ("database_url", url.as_str()),
        ("database_host", host.as_str()),
    ];
    all.extend_from_slice(variables);
    super::spin_variable_env(&all)
}

/// The suite must not pass on SQLite by accident.
pub fn assert_on_postgres(client: &dyn Client) {
    let ready = client.send("GET", "/health/ready", &[], b"");
    assert_eq!(ready.status, 200, "{}", ready.text());
    assert_eq!(ready.json()["store"], "postgres", "{}", ready.text());
}

impl Target for PostgresTarget {
    fn start(&self, variables: &[(&str, &str)]) -> Box<dyn Client> {
        build_app();
        let env = env_with_database(variables);
        let client = HostClient {
            host: crate::Host::start_with(HostOptions {
                env,
                ..HostOptions::default()
            }),
        };
        assert_on_postgres(&client);
        Box::new(client)
    }
}
