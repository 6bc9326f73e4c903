//! The shared harness of the end-to-end tests: starts the real `tracker-host` binary
//! on a free loopback port with a fresh data dir and speaks HTTP to it.
//!
//! Nothing here knows about courses; the tests state what they need. The API
//! scenarios every store and runtime must pass are in [`suite`], the ways to serve
//! them in [`targets`]; see docs/testing.md.

pub mod postgres;
pub mod process;
pub mod suite;
pub mod targets;
pub mod tools;

pub use process::Server;

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::net::TcpListener;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use ureq::http;

/// How long a host may take from spawn to answering its first request. Generous: a
/// cold compile of a component takes a few seconds on a loaded 2-core machine.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long `stop` waits for a graceful exit after SIGTERM.
const STOP_TIMEOUT: Duration = Duration::from_secs(40);

/// The repository root (where spin.toml lives).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The host binary under test: `$TRACKER_HOST_BIN`, else the release build.
pub fn host_bin() -> PathBuf {
    let bin = std::env::var_os("TRACKER_HOST_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("target/release/tracker-host"));
    assert!(
        bin.exists(),
        "{} is missing: run `make build` first (or set TRACKER_HOST_BIN)",
        bin.display()
    );
    bin
}

/// The repository's own manifest.
pub fn manifest() -> PathBuf {
    repo_root().join("spin.toml")
}

/// Builds a workspace component for wasm32-wasip2 (once per test process) and
/// returns the path of its .wasm file.
pub fn build_component(package: &str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<String, PathBuf>>> = OnceLock::new();
    let built = BUILT.get_or_init(Default::default);
    let mut built = built.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(path) = built.get(package) {
        return path.clone();
    }
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(repo_root())
        .args([
            "build",
            "--target",
            "wasm32-wasip2",
            "--profile",
            "wasm",
            "-p",
            package,
        ])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "building component {package} failed");
    let path = repo_root()
        .join("target/wasm32-wasip2/wasm")
        .join(format!("{}.wasm", package.replace('-', "_")));
    assert!(path.exists(), "{} was not produced", path.display());
    built.insert(package.to_string(), path.clone());
    path
}

/// A port nobody listens on right now, and never handed out before in this test
/// process: the kernel may offer a port again as soon as it is released, and tests
/// run in parallel, so two servers starting at once could otherwise be given the
/// same port (one then answers the other's requests).
pub fn free_port() -> u16 {
    static HANDED_OUT: Mutex<BTreeSet<u16>> = Mutex::new(BTreeSet::new());
    let mut handed_out = HANDED_OUT.lock().unwrap_or_else(|e| e.into_inner());
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("bind an ephemeral loopback port");
        if handed_out.insert(port) {
            return port;
        }
    }
}

/// How to start a host; `Default` is the repo's spin.toml on a fresh temp data dir.
#[derive(Clone, Debug, Default)]
pub struct HostOptions {
    /// Manifest to serve (default: the repo's spin.toml).
    pub manifest: Option<PathBuf>,
    /// Data dir to use (default: a fresh temp dir owned by the `Host`).
    pub data_dir: Option<PathBuf>,
    /// Extra environment variables for the host process.
    pub env: Vec<(String, String)>,
    /// Extra arguments after `up --manifest .. --listen .. --data-dir ..`.
    pub args: Vec<String>,
    /// Wait for this path to answer (any status) before `start` returns.
    /// Default `/health`.
    pub ready_path: Option<String>,
    /// Open-file limit (RLIMIT_NOFILE, soft and hard) of the host process.
    pub max_open_files: Option<u64>,
}

/// A running tracker-host process: a [`Server`] plus what is host-specific (its
/// data dir, admin port and flags, and restarts on the same data).
pub struct Host {
    opts: HostOptions,
    server: Server,
    /// The admin API's port; `None` when `args` turn it off or choose it.
    admin_port: Option<u16>,
    data_dir: PathBuf,
    // An owned temp dir is removed when the Host is dropped (after the server).
    _temp_data: Option<tempfile::TempDir>,
}

/// A response, fully read. Header names are lower-case.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body text when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {} body is not JSON ({e}): {}",
                self.status,
                self.text()
            )
        })
    }

    /// The first value of a header.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    /// The names of the headers present, lower-case.
    pub fn header_names(&self) -> Vec<&str> {
        self.headers.iter().map(|(n, _)| n.as_str()).collect()
    }
}

// The tests send requests and read the log through the host's process directly;
// `Host` adds only what is specific to tracker-host.
impl Deref for Host {
    type Target = Server;

    fn deref(&self) -> &Server {
        &self.server
    }
}

impl Host {
    /// The repo's spin.toml on a fresh temp data dir.
    pub fn start() -> Host {
        Host::start_with(HostOptions::default())
    }

    pub fn start_with(opts: HostOptions) -> Host {
        let (data_dir, temp_data) = match &opts.data_dir {
            Some(dir) => (dir.clone(), None),
            None => {
                let t = tempfile::tempdir().expect("temp data dir");
                (t.path().to_path_buf(), Some(t))
            }
        };
        let mut host = Host {
            opts,
            server: Server::new("tracker-host"),
            admin_port: None,
            data_dir,
            _temp_data: temp_data,
        };
        host.spawn();
        host
    }

    fn spawn(&mut self) {
        let manifest = self.opts.manifest.clone().unwrap_or_else(manifest);
        // Each host gets its own admin port unless the test sets `--admin-listen`
        // (a fixed default would make concurrent hosts collide).
        let chooses_admin = self
            .opts
            .args
            .iter()
            .any(|a| a.starts_with("--admin-listen"));
        self.admin_port = (!chooses_admin).then(free_port);
        let (opts, admin_port, data_dir) = (&self.opts, self.admin_port, &self.data_dir);
        let command = |port: u16| {
            let mut cmd = Command::new(host_bin());
            cmd.arg("up");
            if let Some(admin_port) = admin_port {
                cmd.arg("--admin-listen")
                    .arg(format!("127.0.0.1:{admin_port}"));
            }
            cmd.arg("--manifest")
                .arg(&manifest)
                .arg("--listen")
                .arg(format!("127.0.0.1:{port}"))
                .arg("--data-dir")
                .arg(data_dir)
                .args(&opts.args)
                .env_remove("TRACKER_MANIFEST")
                .env_remove("TRACKER_LISTEN")
                .env_remove("TRACKER_DATA_DIR")
                .env_remove("TRACKER_ADMIN_LISTEN")
                .env_remove("TRACKER_ADMIN_TOKEN")
                .env(
                    "RUST_LOG",
                    std::env::var("RUST_LOG").unwrap_or("info".into()),
                )
                .envs(opts.env.iter().map(|(k, v)| (k, v)));
            if let Some(limit) = opts.max_open_files {
                set_open_files_limit(&mut cmd, limit);
            }
            cmd
        };
        let ready_path = opts.ready_path.as_deref().unwrap_or("/health");
        self.server.spawn(command, ready_path, START_TIMEOUT);
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The admin API's port: the one the harness chose, else the one given with
    /// `--admin-listen ADDR` in `args`.
    pub fn admin_port(&self) -> u16 {
        if let Some(port) = self.admin_port {
            return port;
        }
        let given = self
            .opts
            .args
            .iter()
            .position(|a| a == "--admin-listen")
            .and_then(|i| self.opts.args.get(i + 1))
            .expect("this host was started with --admin-listen in args");
        given
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("--admin-listen {given} has no port"))
    }

    /// `http://127.0.0.1:ADMIN_PORT` + path.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.admin_port(), path)
    }

    /// Sends a request to the admin API; panics when no response came back.
    pub fn admin_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        let url = self.admin_url(path);
        self.try_request_url(method, &url, headers, body)
            .unwrap_or_else(|e| panic!("{method} {url}: no response: {e}\n{}", self.log()))
    }

    /// SIGTERM, then wait for the exit; returns the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        self.server
            .terminate_within(STOP_TIMEOUT)
            .unwrap_or_else(|| {
                panic!(
                    "tracker-host did not exit within {STOP_TIMEOUT:?} of SIGTERM:\n{}",
                    self.log()
                )
            })
    }

    /// Graceful stop; asserts exit code 0.
    pub fn stop(&mut self) {
        let status = self.terminate();
        assert!(
            status.success(),
            "tracker-host exited with {status}:\n{}",
            self.log()
        );
    }

    /// SIGKILL: the host gets no chance to clean up.
    pub fn kill(&mut self) {
        self.server.kill();
    }

    /// Starts the host again on the same data dir and options (a new port).
    pub fn restart(&mut self) {
        if self.server.is_running() {
            self.stop();
        }
        self.spawn();
    }

    /// Starts a stopped or killed host again (same as `restart` when stopped).
    pub fn start_again(&mut self) {
        assert!(!self.server.is_running(), "host is still running");
        self.spawn();
    }
}

/// An HTTP client that reports every status as an answer (never as an error) and
/// follows no redirect: tests look at exactly what the server said.
pub fn http_agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

/// Sends one request and reads the whole answer; `Err` only when no HTTP response
/// came back.
pub fn send_request(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Result<Resp, ureq::Error> {
    let mut req = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req
        .body(body.map(<[u8]>::to_vec).unwrap_or_default())
        .expect("valid request");
    let mut resp = agent.run(req)?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    resp.body_mut()
        .with_config()
        .limit(256 * 1024 * 1024)
        .reader()
        .read_to_end(&mut body)
        .map_err(ureq::Error::Io)?;
    Ok(Resp {
        status,
        headers,
        body,
    })
}

fn set_open_files_limit(cmd: &mut Command, limit: u64) {
    use std::os::unix::process::CommandExt as _;
    let rlimit = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: runs in the forked child before exec; setrlimit(2) is async-signal-safe
    // and the closure neither allocates nor takes locks.
    unsafe {
        cmd.pre_exec(move || {
            if libc::setrlimit(libc::RLIMIT_NOFILE, &rlimit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
}
