//! The real tracker-host binary serving the real components from spin.toml, over
//! real HTTP (the [`Host`](crate::Host) harness).

use crate::suite::{Api, Client, Resp, Target};
use crate::{Host, HostOptions, build_component};

pub struct HostTarget;

pub struct HostClient {
    pub host: Host,
}

/// The components the manifest serves, built (once per test process).
pub fn build_app() {
    build_component("skilltrack-api");
    build_component("skilltrack-static");
}

/// A host with these options and the API on it, for tests that also need the
/// host itself (kill it, load it from several threads).
pub fn start_api(opts: HostOptions) -> Api<HostClient> {
    build_app();
    Api::new(HostClient {
        host: Host::start_with(opts),
    })
}

impl Target for HostTarget {
    fn start(&self, variables: &[(&str, &str)]) -> Box<dyn Client> {
        build_app();
        let host = Host::start_with(HostOptions {
            env: super::spin_variable_env(variables),
            ..HostOptions::default()
        });
        Box::new(HostClient { host })
    }
}

impl Client for HostClient {
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        self.host.request(method, path, headers, Some(body))
    }

    fn restart(&mut self) {
        self.host.restart();
    }
}
