//! The component's own handlers and SQL natively, in this process, on rusqlite
//! (the `native` backend): no wasm, no HTTP. SQLite files in a temp dir laid out
//! as tracker-host lays them out, so a restart reopens the same data.

use crate::suite::{Client, Resp, Target};
use skilltrack_api::native::NativeBackend;
use skilltrack_api::{Request, handle};

pub struct NativeTarget;

/// The host name requests are addressed to: no socket is involved.
const NATIVE_HOST: &str = "native.localhost";

pub struct NativeClient {
    backend: NativeBackend,
    dir: tempfile::TempDir,
    variables: Vec<(String, String)>,
}

impl NativeClient {
    fn open(dir: &std::path::Path, variables: &[(String, String)]) -> NativeBackend {
        let mut backend = NativeBackend::open_dir(dir)
            .unwrap_or_else(|e| panic!("native backend in {}: {e}", dir.display()));
        for (name, value) in variables {
            backend.set_variable(name, value);
        }
        backend
    }
}

impl Target for NativeTarget {
    fn start(&self, variables: &[(&str, &str)]) -> Box<dyn Client> {
        let dir = tempfile::tempdir().expect("temp data dir");
        let variables: Vec<(String, String)> = variables
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Box::new(NativeClient {
            backend: NativeClient::open(dir.path(), &variables),
            dir,
            variables,
        })
    }

    // A request costs microseconds here.
    fn property_cases(&self) -> u32 {
        64
    }
}

impl Client for NativeClient {
    fn send(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Resp {
        let mut req = Request::new(method, path).with_body(body.to_vec());
        for (name, value) in headers {
            req = req.with_header(name, value);
        }
        // What Spin and tracker-host tell every component: the URL as the client
        // sent it (the calendar feed builds its links from its origin).
        req = req.with_header("spin-full-url", &format!("http://{NATIVE_HOST}{path}"));
        let resp = handle(&self.backend, req);
        Resp {
            status: resp.status,
            headers: resp
                .headers
                .into_iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v))
                .collect(),
            body: resp.body,
        }
    }

    fn restart(&mut self) {
        self.backend = NativeClient::open(self.dir.path(), &self.variables);
    }
}
