//! Per-request overhead of the host: one `GET /ok` to a trivial component (the
//! isolation test component `misbehave`, whose `/ok` answers 200 "ok"), through the
//! real release binary over a keep-alive loopback connection. Each iteration is the
//! host's whole request path: hyper, routing, a fresh instance from the pre-instantiated
//! component, the call, the response. The binary is driven from outside because the
//! host has no library target; loopback adds a few microseconds that any client pays.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const START_TIMEOUT: Duration = Duration::from_secs(60);

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("host/ has a parent")
        .to_path_buf()
}

/// The trivial component, built for wasm32-wasip2 when it is missing.
fn trivial_component() -> PathBuf {
    let wasm = repo_root().join("target/wasm32-wasip2/wasm/misbehave.wasm");
    if !wasm.exists() {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let status = Command::new(cargo)
            .current_dir(repo_root())
            .args(["build", "--target", "wasm32-wasip2", "--profile", "wasm"])
            .args(["-p", "misbehave"])
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building the misbehave component failed");
    }
    wasm
}

/// A running tracker-host on a temporary data dir; killed and cleaned up on drop.
struct Host {
    child: Child,
    port: u16,
    data_dir: PathBuf,
}

impl Host {
    fn start() -> Host {
        trivial_component();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        let data_dir =
            std::env::temp_dir().join(format!("request-path-bench-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&data_dir);
        let child = Command::new(env!("CARGO_BIN_EXE_tracker-host"))
            .arg("up")
            .arg("--manifest")
            .arg(repo_root().join("bench/manifests/trivial.toml"))
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(&data_dir)
            // No admin listener: its default port may belong to a running host.
            .args(["--admin-listen", "off"])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn tracker-host");
        let mut host = Host {
            child,
            port,
            data_dir,
        };
        host.wait_ready();
        host
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll tracker-host") {
                panic!("tracker-host exited during start: {status}");
            }
            if let Ok(stream) = TcpStream::connect(("127.0.0.1", self.port)) {
                let mut conn = Connection::new(stream);
                if conn.get("/ok").0 == 200 {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "tracker-host did not answer /ok in time"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn connect(&self) -> Connection {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to tracker-host");
        stream.set_nodelay(true).expect("TCP_NODELAY");
        Connection::new(stream)
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// A keep-alive HTTP/1.1 connection that reads just enough of a response to
/// reuse the connection: status, Content-Length or chunked body.
struct Connection {
    reader: BufReader<TcpStream>,
    line: String,
}

impl Connection {
    fn new(stream: TcpStream) -> Self {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .expect("read timeout");
        Connection {
            reader: BufReader::new(stream),
            line: String::new(),
        }
    }

    /// Sends `GET path` and returns (status, body length).
    fn get(&mut self, path: &str) -> (u16, usize) {
        let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        self.reader
            .get_mut()
            .write_all(request.as_bytes())
            .expect("send request");
        let status = self.read_line_owned();
        let status: u16 = status
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("an HTTP status line");
        let mut length = None;
        let mut chunked = false;
        loop {
            let header = self.read_line_owned();
            if header.is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((&header, ""));
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            }
        }
        let body = if chunked {
            self.read_chunked()
        } else {
            let n = length.unwrap_or(0);
            let mut body = vec![0; n];
            self.reader.read_exact(&mut body).expect("read body");
            n
        };
        (status, body)
    }

    fn read_chunked(&mut self) -> usize {
        let mut total = 0;
        loop {
            let size = self.read_line_owned();
            let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                .expect("a chunk size");
            if size == 0 {
                // Trailers end with an empty line.
                while !self.read_line_owned().is_empty() {}
                return total;
            }
            let mut chunk = vec![0; size + 2];
            self.reader.read_exact(&mut chunk).expect("read chunk");
            total += size;
        }
    }

    fn read_line_owned(&mut self) -> String {
        self.line.clear();
        let n = self.reader.read_line(&mut self.line).expect("read line");
        assert!(n > 0, "connection closed by tracker-host");
        self.line.trim_end_matches(['\r', '\n']).to_owned()
    }
}

fn request_path(c: &mut Criterion) {
    let host = Host::start();
    let mut group = c.benchmark_group("request_path");
    group.throughput(Throughput::Elements(1));

    let mut conn = host.connect();
    group.bench_function("trivial_component_get_ok_keepalive", |b| {
        b.iter(|| {
            let (status, len) = conn.get("/ok");
            assert_eq!((status, len), (200, 2), "unexpected answer from /ok");
        })
    });

    group.bench_function("trivial_component_get_ok_new_connection", |b| {
        b.iter(|| {
            let mut conn = host.connect();
            let (status, _) = conn.get("/ok");
            assert_eq!(status, 200, "unexpected answer from /ok");
        })
    });
    group.finish();
}

criterion_group!(benches, request_path);
criterion_main!(benches);
