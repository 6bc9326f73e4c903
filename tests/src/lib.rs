//! The shared harness of the end-to-end tests: starts the real `tracker-host` binary
//! on a free loopback port with a fresh data dir and speaks HTTP to it.
//!
//! Nothing here knows about courses; the tests state what they need. The API
//! scenarios every store and runtime must pass are in [`suite`], the ways to serve
//! them in [`targets`]; see docs/testing.md.

pub mod process;
pub mod suite;
pub mod targets;
pub mod tools;

use std::collections::HashMap;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

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

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind an ephemeral loopback port")
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

/// A running tracker-host process.
pub struct Host {
    opts: HostOptions,
    child: Option<Child>,
    port: u16,
    /// The admin API's port; `None` when `args` turn it off or choose it.
    admin_port: Option<u16>,
    data_dir: PathBuf,
    log_path: PathBuf,
    // Owned temp dirs are removed when the Host is dropped.
    _temp_data: Option<tempfile::TempDir>,
    _temp_logs: tempfile::TempDir,
    agent: ureq::Agent,
}

/// A response, fully read.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: http::HeaderMap,
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

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
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
        let temp_logs = tempfile::tempdir().expect("temp log dir");
        let log_path = temp_logs.path().join("host.log");
        let agent = http_agent();
        let mut host = Host {
            opts,
            child: None,
            port: 0,
            admin_port: None,
            data_dir,
            log_path,
            _temp_data: temp_data,
            _temp_logs: temp_logs,
            agent,
        };
        host.spawn();
        host
    }

    fn spawn(&mut self) {
        self.port = free_port();
        let manifest = self.opts.manifest.clone().unwrap_or_else(manifest);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open host log");
        // Each host gets its own admin port unless the test sets `--admin-listen`
        // (a fixed default would make concurrent hosts collide).
        let chooses_admin = self
            .opts
            .args
            .iter()
            .any(|a| a.starts_with("--admin-listen"));
        self.admin_port = (!chooses_admin).then(free_port);
        let mut cmd = Command::new(host_bin());
        if let Some(admin_port) = self.admin_port {
            cmd.arg("up")
                .arg("--admin-listen")
                .arg(format!("127.0.0.1:{admin_port}"));
        } else {
            cmd.arg("up");
        }
        cmd.arg("--manifest")
            .arg(&manifest)
            .arg("--listen")
            .arg(format!("127.0.0.1:{}", self.port))
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(&self.opts.args)
            .env_remove("TRACKER_MANIFEST")
            .env_remove("TRACKER_LISTEN")
            .env_remove("TRACKER_DATA_DIR")
            .env_remove("TRACKER_ADMIN_LISTEN")
            .env_remove("TRACKER_ADMIN_TOKEN")
            .env(
                "RUST_LOG",
                std::env::var("RUST_LOG").unwrap_or("info".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log);
        for (k, v) in &self.opts.env {
            cmd.env(k, v);
        }
        if let Some(limit) = self.opts.max_open_files {
            set_open_files_limit(&mut cmd, limit);
        }
        self.child = Some(cmd.spawn().expect("spawn tracker-host"));
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let path = self.opts.ready_path.clone().unwrap_or("/health".into());
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child_mut().try_wait().expect("poll child") {
                panic!(
                    "tracker-host exited during start ({status}):\n{}",
                    self.log()
                );
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && self.try_request("GET", &path, &[], None).is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "tracker-host did not answer {path} within {START_TIMEOUT:?}:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn child_mut(&mut self) -> &mut Child {
        self.child.as_mut().expect("host is running")
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("host is running").id()
    }

    /// `http://127.0.0.1:PORT` + path.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
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

    /// Sends a request to any URL; `Err` only when no HTTP response came back.
    pub fn try_request_url(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Resp, ureq::Error> {
        send_request(&self.agent, method, url, headers, body)
    }

    /// Everything the host wrote to stdout/stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Sends a request; `Err` only when no HTTP response came back at all.
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Resp, ureq::Error> {
        self.try_request_url(method, &self.url(path), headers, body)
    }

    /// Sends a request and panics (with the host log) when no response came back.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        self.try_request(method, path, headers, body)
            .unwrap_or_else(|e| panic!("{method} {path}: no response: {e}\n{}", self.log()))
    }

    pub fn get(&self, path: &str) -> Resp {
        self.request("GET", path, &[], None)
    }

    /// A request with a JSON body (`Content-Type: application/json`).
    pub fn send_json(&self, method: &str, path: &str, body: &serde_json::Value) -> Resp {
        let bytes = serde_json::to_vec(body).expect("serialisable");
        self.request(
            method,
            path,
            &[("content-type", "application/json")],
            Some(&bytes),
        )
    }

    pub fn put_json(&self, path: &str, body: &serde_json::Value) -> Resp {
        self.send_json("PUT", path, body)
    }

    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> Resp {
        self.send_json("POST", path, body)
    }

    pub fn patch_json(&self, path: &str, body: &serde_json::Value) -> Resp {
        self.send_json("PATCH", path, body)
    }

    pub fn delete(&self, path: &str) -> Resp {
        self.request("DELETE", path, &[], None)
    }

    /// SIGTERM, then wait for the exit; returns the exit status.
    pub fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("host is running");
        signal(&child, libc::SIGTERM);
        let deadline = Instant::now() + STOP_TIMEOUT;
        loop {
            if let Some(status) = child.try_wait().expect("poll child") {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "tracker-host did not exit within {STOP_TIMEOUT:?} of SIGTERM:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
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
        let mut child = self.child.take().expect("host is running");
        signal(&child, libc::SIGKILL);
        let _ = child.wait();
    }

    /// Starts the host again on the same data dir and options (a new port).
    pub fn restart(&mut self) {
        if self.child.is_some() {
            self.stop();
        }
        self.spawn();
    }

    /// Starts a stopped or killed host again (same as `restart` when stopped).
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "host is still running");
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
    let headers = resp.headers().clone();
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

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
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

fn signal(child: &Child, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
    // SAFETY: kill(2) on a pid we spawned and have not reaped yet.
    let rc = unsafe { libc::kill(pid, sig) };
    assert_eq!(rc, 0, "kill({pid}, {sig}) failed");
}
