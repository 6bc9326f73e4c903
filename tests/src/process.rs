//! A server process spoken to over real HTTP: started on a free loopback port, its
//! output kept in a log, killed when dropped. [`Server`] is that process, shared by
//! the tracker-host harness ([`Host`](crate::Host)) and by other servers such as
//! Spin and `wasmtime serve` ([`Served`]).

use crate::{Resp, free_port, http_agent, send_request};
use std::ffi::OsString;
use std::net::TcpStream;
use std::ops::Deref;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Generous: Spin compiles each component when it starts, which takes seconds on
/// a loaded 2-core machine.
const START_TIMEOUT: Duration = Duration::from_secs(120);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

/// One server process (or none, between a stop and the next spawn) and the log
/// all its runs append to.
pub struct Server {
    /// For messages: `tracker-host`, `spin`, `wasmtime serve`.
    name: String,
    child: Option<Child>,
    port: u16,
    log_path: PathBuf,
    _logs: tempfile::TempDir,
    agent: ureq::Agent,
}

impl Server {
    /// No process yet; [`spawn`](Server::spawn) starts one.
    pub fn new(name: &str) -> Server {
        let logs = tempfile::tempdir().expect("temp log dir");
        Server {
            name: name.to_owned(),
            child: None,
            port: 0,
            log_path: logs.path().join("server.log"),
            _logs: logs,
            agent: http_agent(),
        }
    }

    /// Starts the command `command(port)` builds on a fresh free port, its output
    /// appended to the log, and returns once `ready_path` answers (any status).
    pub fn spawn(
        &mut self,
        command: impl FnOnce(u16) -> Command,
        ready_path: &str,
        start_timeout: Duration,
    ) {
        assert!(self.child.is_none(), "{} is still running", self.name);
        self.port = free_port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open server log");
        let mut cmd = command(self.port);
        // Its own process group, so a stop reaches what it starts too (`spin up`
        // runs the trigger as a child process that would outlive it otherwise).
        cmd.process_group(0)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log);
        self.child = Some(cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start {} ({}): {e}",
                self.name,
                cmd.get_program().to_string_lossy()
            )
        }));
        self.wait_ready(ready_path, start_timeout);
    }

    fn wait_ready(&mut self, path: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let child = self.child.as_mut().expect("server is running");
            if let Some(status) = child.try_wait().expect("poll child") {
                panic!(
                    "{} exited during start ({status}):\n{}",
                    self.name,
                    self.log()
                );
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && self.try_request("GET", path, &[], None).is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer {path} within {timeout:?}:\n{}",
                self.name,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("server is running").id()
    }

    /// `http://127.0.0.1:PORT` + path.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.port, path)
    }

    /// Everything the process wrote to stdout/stderr so far, over all its runs.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
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

    /// Sends a request and panics (with the server's log) when no answer came back.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Resp {
        self.try_request(method, path, headers, body)
            .unwrap_or_else(|e| {
                panic!(
                    "{} {method} {path}: no response: {e}\n{}",
                    self.name,
                    self.log()
                )
            })
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

    /// SIGTERM, then waits up to `timeout` for the exit and returns its status;
    /// `None` when the process had to be killed instead.
    pub fn terminate_within(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let mut child = self.child.take().expect("server is running");
        signal(&child, libc::SIGTERM);
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = child.try_wait().expect("poll child") {
                // Whatever of its group is still running goes too.
                signal(&child, libc::SIGKILL);
                return Some(status);
            }
            if Instant::now() > deadline {
                signal(&child, libc::SIGKILL);
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// SIGKILL: the process gets no chance to clean up.
    pub fn kill(&mut self) {
        let mut child = self.child.take().expect("server is running");
        signal(&child, libc::SIGKILL);
        let _ = child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            signal(&child, libc::SIGKILL);
            let _ = child.wait();
        }
    }
}

/// Signals the server's whole process group (see `spawn`). A group whose every
/// member has exited is no error: there is nothing left to stop.
fn signal(child: &Child, sig: libc::c_int) {
    let pid = libc::pid_t::try_from(child.id()).expect("pid fits pid_t");
    // SAFETY: kill(2) on the process group of a child we spawned as its leader.
    let rc = unsafe { libc::kill(-pid, sig) };
    let err = std::io::Error::last_os_error();
    assert!(
        rc == 0 || err.raw_os_error() == Some(libc::ESRCH),
        "kill(-{pid}, {sig}) failed: {err}"
    );
}

/// The command line of a server, given the port it must listen on.
pub type ArgsForPort = Box<dyn Fn(u16) -> Vec<OsString> + Send + Sync>;

pub struct ServeSpec {
    /// For messages: `spin`, `wasmtime serve`.
    pub name: String,
    pub program: PathBuf,
    pub args: ArgsForPort,
    pub env: Vec<(String, String)>,
    pub current_dir: PathBuf,
    /// Answering this path (any status) means ready.
    pub ready_path: String,
}

/// A server other than tracker-host, started from a [`ServeSpec`]; killed when
/// dropped. Its requests and log are those of the [`Server`] it derefs to.
pub struct Served {
    spec: ServeSpec,
    server: Server,
}

// A `Served` is its process plus the command that starts it again: the tests use
// the process's request and log methods on it directly.
impl Deref for Served {
    type Target = Server;

    fn deref(&self) -> &Server {
        &self.server
    }
}

impl Served {
    pub fn start(spec: ServeSpec) -> Served {
        let server = Server::new(&spec.name);
        let mut served = Served { spec, server };
        served.spawn();
        served
    }

    fn spawn(&mut self) {
        let spec = &self.spec;
        self.server.spawn(
            |port| {
                let mut cmd = Command::new(&spec.program);
                cmd.args((spec.args)(port))
                    .current_dir(&spec.current_dir)
                    .envs(spec.env.iter().map(|(k, v)| (k, v)));
                cmd
            },
            &spec.ready_path,
            START_TIMEOUT,
        );
    }

    /// SIGTERM, a graceful exit or a kill after a while, then the same command again.
    pub fn restart(&mut self) {
        if self.server.is_running() {
            self.server.terminate_within(STOP_TIMEOUT);
        }
        self.spawn();
    }
}
