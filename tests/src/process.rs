//! A server process other than tracker-host (Spin, `wasmtime serve`): started on a
//! free loopback port, its output kept in a log, spoken to over real HTTP.

use crate::{Resp, free_port, http_agent, send_request, signal};
use std::ffi::OsString;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Generous: Spin compiles each component when it starts, which takes seconds on
/// a loaded 2-core machine.
const START_TIMEOUT: Duration = Duration::from_secs(120);
const STOP_TIMEOUT: Duration = Duration::from_secs(20);

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

/// A running server process; killed when dropped.
pub struct Served {
    spec: ServeSpec,
    child: Option<Child>,
    port: u16,
    log_path: PathBuf,
    _logs: tempfile::TempDir,
    agent: ureq::Agent,
}

impl Served {
    pub fn start(spec: ServeSpec) -> Served {
        let logs = tempfile::tempdir().expect("temp log dir");
        let mut served = Served {
            log_path: logs.path().join("server.log"),
            spec,
            child: None,
            port: 0,
            _logs: logs,
            agent: http_agent(),
        };
        served.spawn();
        served
    }

    fn spawn(&mut self) {
        self.port = free_port();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("open server log");
        let mut cmd = Command::new(&self.spec.program);
        cmd.args((self.spec.args)(self.port))
            .current_dir(&self.spec.current_dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone log handle"))
            .stderr(log);
        for (k, v) in &self.spec.env {
            cmd.env(k, v);
        }
        self.child = Some(cmd.spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start {} ({}): {e}",
                self.spec.name,
                self.spec.program.display()
            )
        }));
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let child = self.child.as_mut().expect("server is running");
            if let Some(status) = child.try_wait().expect("poll child") {
                panic!(
                    "{} exited during start ({status}):\n{}",
                    self.spec.name,
                    self.log()
                );
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && self
                    .try_request("GET", &self.spec.ready_path, &[], None)
                    .is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer {} within {START_TIMEOUT:?}:\n{}",
                self.spec.name,
                self.spec.ready_path,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<&[u8]>,
    ) -> Result<Resp, ureq::Error> {
        let url = format!("http://127.0.0.1:{}{path}", self.port);
        send_request(&self.agent, method, &url, headers, body)
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
                    self.spec.name,
                    self.log()
                )
            })
    }

    /// SIGTERM, a graceful exit or a kill after a while, then the same command again.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        signal(&child, libc::SIGTERM);
        let deadline = Instant::now() + STOP_TIMEOUT;
        while child.try_wait().expect("poll child").is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
