//! Slow and hostile clients (issue 16): partial headers are closed after the header
//! timeout, idle keep-alive connections after the idle timeout, a stalled body gets a
//! 408, the connection cap sheds idle connections so a normal request is still
//! answered, and none of it costs stored data or an in-flight request its answer.
//!
//! Timeouts are made small with flags; the only timing bound asserted is the issue's
//! "answered within a second" at the cap, the others are generous upper bounds.

mod host_support;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use host_support::{build_app, course, course_ids, misbehave_app, start_misbehave};
use integration::{Host, HostOptions};

/// Far above every timeout the tests set: a connection not closed by then never will be.
const CLOSE_WITHIN: Duration = Duration::from_secs(15);

fn connect(port: u16) -> TcpStream {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect to the host");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    stream
}

/// A connection that sent part of a request's headers and then nothing.
fn partial(port: u16) -> TcpStream {
    let mut stream = connect(port);
    stream
        .write_all(b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .expect("send partial headers");
    stream
}

/// Sends one request on `stream` (keep-alive) and reads its response.
fn exchange(stream: &mut TcpStream, request: &str) -> (u16, String) {
    stream.write_all(request.as_bytes()).expect("send request");
    read_response(stream).expect("a response")
}

/// Reads one response (`content-length` or chunked); `None` when the connection
/// closed (or failed) before a whole response arrived.
fn read_response(stream: &mut TcpStream) -> Option<(u16, String)> {
    let mut data = Vec::new();
    loop {
        if let Some(parsed) = parse_response(&data) {
            return Some(parsed);
        }
        let mut chunk = [0u8; 4096];
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => data.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The status and body of the complete response at the start of `data`, if there is one.
fn parse_response(data: &[u8]) -> Option<(u16, String)> {
    let end = find(data, b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&data[..end]).to_lowercase();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (n, v) = l.split_once(':')?;
            (n.trim() == name).then(|| v.trim().to_string())
        })
    };
    let mut rest = &data[end + 4..];
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut body = Vec::new();
        loop {
            let line_end = find(rest, b"\r\n")?;
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).ok()?.trim(), 16)
                    .ok()?;
            rest = &rest[line_end + 2..];
            if size == 0 {
                break body;
            }
            body.extend_from_slice(rest.get(..size)?);
            rest = rest.get(size + 2..)?;
        }
    } else {
        let length: usize = header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        rest.get(..length)?.to_vec()
    };
    Some((status, String::from_utf8_lossy(&body).into_owned()))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// A fresh connection, one request, `Connection: close`.
fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream = connect(port);
    exchange(
        &mut stream,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    )
}

/// True once the host has closed `stream` (EOF or reset) without sending anything;
/// false if it is still open after `within`.
fn closed_by_host(stream: &mut TcpStream, within: Duration) -> bool {
    stream.set_read_timeout(Some(within)).expect("read timeout");
    let mut byte = [0u8; 1];
    match stream.read(&mut byte) {
        Ok(0) => true,
        Ok(_) => panic!("the host answered a connection it should have closed"),
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => false,
        Err(_) => true,
    }
}

fn metric(host: &Host, series: &str) -> u64 {
    let text = host.admin_request("GET", "/-/metrics", &[], None).text();
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
}

/// Waits until the misbehave component logged that a `/sleep` request started `n` times.
fn wait_for_sleepers(host: &Host, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while host.log().matches("misbehave: sleep started").count() < n {
        assert!(
            Instant::now() < deadline,
            "slow requests never started:\n{}",
            host.log()
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn partial_headers_and_silent_connections_are_closed_after_the_header_timeout() {
    let app = misbehave_app("/...", "");
    let host = start_misbehave(
        &app,
        "/ok",
        &["--header-read-timeout", "1s", "--idle-timeout", "60s"],
    );
    let mut silent = connect(host.port());
    let mut partial_headers = partial(host.port());
    // A keep-alive connection whose second request stops half-way through its headers.
    let mut second = connect(host.port());
    let (status, _) = exchange(&mut second, "GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
    assert_eq!(status, 200);
    second
        .write_all(b"GET /ok HTTP/1.1\r\nHost: 1")
        .expect("send partial headers");
    // The admin listener has the same protection.
    let mut admin_partial = partial(host.admin_port());

    for (name, stream) in [
        ("silent", &mut silent),
        ("partial headers", &mut partial_headers),
        ("partial second request", &mut second),
        ("admin partial headers", &mut admin_partial),
    ] {
        assert!(
            closed_by_host(stream, CLOSE_WITHIN),
            "{name}: still open after {CLOSE_WITHIN:?}"
        );
    }
    assert!(
        metric(
            &host,
            "tracker_connections_timed_out_total{listener=\"http\",timeout=\"header\"}"
        ) >= 3
    );
    assert!(
        metric(
            &host,
            "tracker_connections_timed_out_total{listener=\"admin\",timeout=\"header\"}"
        ) >= 1
    );
    assert_eq!(get(host.port(), "/ok").0, 200, "the host still serves");
}

#[test]
fn an_idle_keep_alive_connection_outlives_the_header_timeout_then_closes_after_the_idle_timeout() {
    let app = misbehave_app("/...", "");
    let host = start_misbehave(
        &app,
        "/ok",
        &["--header-read-timeout", "1s", "--idle-timeout", "4s"],
    );
    let mut stream = connect(host.port());
    let request = "GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    assert_eq!(exchange(&mut stream, request).0, 200);
    // Idle for twice the header timeout: the connection is still good.
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(exchange(&mut stream, request).0, 200);
    assert!(
        closed_by_host(&mut stream, CLOSE_WITHIN),
        "idle connection still open after {CLOSE_WITHIN:?}"
    );
    assert!(
        metric(
            &host,
            "tracker_connections_timed_out_total{listener=\"http\",timeout=\"idle\"}"
        ) >= 1
    );
}

#[test]
fn at_the_connection_cap_idle_connections_are_shed_and_a_new_request_is_answered_within_a_second() {
    let app = misbehave_app("/...", "");
    let host = start_misbehave(
        &app,
        "/ok",
        &["--max-connections", "20", "--header-read-timeout", "60s"],
    );
    let port = host.port();
    std::thread::scope(|s| {
        // In flight before the cap is reached, and still in flight while it is.
        let slow = s.spawn(|| get(port, "/sleep?ms=3000"));
        wait_for_sleepers(&host, 1);
        let mut held: Vec<TcpStream> = (0..10).map(|_| connect(port)).collect();
        held.extend((0..10).map(|_| partial(port)));

        for _ in 0..3 {
            let started = Instant::now();
            let (status, body) = get(port, "/ok");
            let elapsed = started.elapsed();
            assert_eq!((status, body.as_str()), (200, "ok"));
            assert!(
                elapsed < Duration::from_secs(1),
                "answered in {elapsed:?} at the cap"
            );
        }
        let (status, body) = slow.join().expect("slow client");
        assert_eq!(
            (status, body.as_str()),
            (200, "slept 3000ms"),
            "the in-flight request keeps its answer"
        );
        // The longest idle were shed, only as many as needed: 22 connections wanted
        // in (the harness's own idle one, the slow one, 20 held) and one request at a
        // time after them, for 20 places; the first held connections went.
        assert!(closed_by_host(&mut held[0], CLOSE_WITHIN));
        let closed = held
            .iter_mut()
            .map(|c| closed_by_host(c, Duration::from_millis(100)))
            .filter(|&closed| closed)
            .count();
        assert!(
            (2..=3).contains(&closed),
            "{closed} held connections closed"
        );
    });
    assert!(metric(&host, "tracker_connections_shed_total{listener=\"http\"}") >= 3);

    // The admin listener has a cap of its own (at most 64; here 20) and sheds the same way.
    let admin = host.admin_port();
    let _held: Vec<TcpStream> = (0..20).map(|_| connect(admin)).collect();
    let started = Instant::now();
    let (status, _) = get(admin, "/-/components");
    assert_eq!(status, 200);
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn when_every_connection_has_a_request_in_flight_a_new_one_is_refused_at_once() {
    let app = misbehave_app("/...", "");
    let host = start_misbehave(&app, "/ok", &["--max-connections", "2"]);
    let port = host.port();
    std::thread::scope(|s| {
        let slow: Vec<_> = (0..2)
            .map(|_| s.spawn(|| get(port, "/sleep?ms=3000")))
            .collect();
        wait_for_sleepers(&host, 2);
        let started = Instant::now();
        let mut stream = connect(port);
        let _ = stream.write_all(b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        // A 503 when the host could answer before closing, else just the close.
        if let Some((status, body)) = read_response(&mut stream) {
            assert_eq!(status, 503, "{body}");
            assert!(body.contains("overloaded"), "{body}");
        }
        assert!(started.elapsed() < Duration::from_secs(1));
        for client in slow {
            assert_eq!(client.join().expect("slow client").0, 200);
        }
    });
    assert_eq!(
        metric(
            &host,
            "tracker_connections_refused_total{listener=\"http\"}"
        ),
        1
    );
    assert_eq!(
        get(port, "/ok").0,
        200,
        "served again once requests finished"
    );
}

#[test]
fn a_stalled_body_gets_a_408_and_stores_nothing() {
    build_app();
    let host = Host::start_with(HostOptions {
        args: ["--body-read-timeout", "1s"].map(String::from).to_vec(),
        ..HostOptions::default()
    });
    let put = host.put_json("/api/courses/kept", &course("kept", "Kept as is"));
    assert!((200..300).contains(&put.status), "{}", put.text());
    let active_versions = || {
        let list = host.admin_request("GET", "/-/components", &[], None).json();
        list["components"]
            .as_array()
            .expect("component list")
            .iter()
            .map(|c| (c["active"]["sha256"].clone(), c["previous"].clone()))
            .collect::<Vec<_>>()
    };
    let versions = active_versions();

    let stalled = |port: u16, method: &str, path: &str, body: &str| {
        let mut stream = connect(port);
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).expect("send head");
        // Half the body, then nothing.
        stream
            .write_all(&body.as_bytes()[..body.len() / 2])
            .expect("send half the body");
        read_response(&mut stream).expect("a response to the stalled request")
    };
    let new = serde_json::to_string(&[course("stalled", "Never stored")]).expect("json");
    let changed = serde_json::to_string(&course("kept", "Changed")).expect("json");
    for (method, path, body) in [
        // POST replaces the whole list: a truncated one would lose `kept`.
        ("POST", "/api/courses", &new),
        ("PUT", "/api/courses/kept", &changed),
    ] {
        let (status, answer) = stalled(host.port(), method, path, body);
        assert_eq!(status, 408, "{method} {path}: {answer}");
        let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON error");
        assert_eq!(answer["error"]["code"], "body_timeout");
    }
    // The admin API's upload too.
    let (status, _) = stalled(host.admin_port(), "PUT", "/-/components/api", "0123456789");
    assert_eq!(status, 408);

    assert_eq!(course_ids(&host), vec!["kept".to_string()]);
    let kept = host.get("/api/courses/kept");
    assert_eq!(kept.json()["title"], "Kept as is");
    assert_eq!(
        active_versions(),
        versions,
        "no version change from a stalled upload"
    );
    assert_eq!(
        metric(&host, "tracker_body_read_timeouts_total{listener=\"http\"}"),
        2
    );
    assert_eq!(
        metric(
            &host,
            "tracker_body_read_timeouts_total{listener=\"admin\"}"
        ),
        1
    );
}

#[test]
fn slow_processing_and_a_slow_but_steady_body_still_finish() {
    let app = misbehave_app("/...", "");
    let host = start_misbehave(
        &app,
        "/ok",
        &[
            "--header-read-timeout",
            "1s",
            "--body-read-timeout",
            "1s",
            "--idle-timeout",
            "1s",
            "--request-timeout",
            "20s",
        ],
    );
    assert_eq!(
        get(host.port(), "/sleep?ms=2500"),
        (200, "slept 2500ms".to_string())
    );

    // 8 chunks 300 ms apart: 2.4 s in all, never a second without data.
    let mut stream = connect(host.port());
    stream
        .write_all(b"POST /body HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 800\r\n\r\n")
        .expect("send head");
    for _ in 0..8 {
        std::thread::sleep(Duration::from_millis(300));
        stream.write_all(&[b'x'; 100]).expect("send a chunk");
    }
    let (status, body) = read_response(&mut stream).expect("a response");
    assert_eq!((status, body.as_str()), (200, "read 800 bytes"));
}

/// A host limited to a few open files, serving the misbehave app.
fn start_with_open_files(app: &host_support::MisbehaveApp, limit: u64, args: &[&str]) -> Host {
    Host::start_with(HostOptions {
        manifest: Some(app.manifest.clone()),
        args: args.iter().map(|s| s.to_string()).collect(),
        ready_path: Some("/ok".into()),
        max_open_files: Some(limit),
        ..HostOptions::default()
    })
}

#[test]
fn the_default_cap_keeps_the_host_below_its_open_file_limit() {
    let app = misbehave_app("/...", "");
    let host = start_with_open_files(&app, 256, &[]);
    assert!(
        host.log().contains("max_connections=128"),
        "the cap is half the open-file limit:\n{}",
        host.log()
    );
    // More idle connections than the host has descriptors.
    let held: Vec<TcpStream> = (0..300).map(|_| connect(host.port())).collect();
    let started = Instant::now();
    assert_eq!(get(host.port(), "/ok"), (200, "ok".to_string()));
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(
        metric(&host, "tracker_accept_errors_total{listener=\"http\"}"),
        0
    );
    assert!(metric(&host, "tracker_connections_shed_total{listener=\"http\"}") >= 300 - 128);
    assert!(
        !host.log().contains("Too many open files"),
        "{}",
        host.log()
    );
    drop(held);
}

#[test]
fn failed_accepts_back_off_are_counted_and_logged_at_a_bounded_rate() {
    let app = misbehave_app("/...", "");
    // A cap above the file limit: accepts fail before it is reached.
    let host = start_with_open_files(&app, 128, &["--max-connections", "1000"]);
    assert!(host.log().contains("is not below the open-file limit"));
    let held: Vec<TcpStream> = (0..150).map(|_| connect(host.port())).collect();
    std::thread::sleep(Duration::from_secs(3));
    drop(held);

    // Once the clients let go the host serves again.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut stream = connect(host.port());
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("read timeout");
        let _ =
            stream.write_all(b"GET /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        if read_response(&mut stream).is_some_and(|(status, _)| status == 200) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the host did not recover:\n{}",
            host.log()
        );
    }
    let failures = metric(&host, "tracker_accept_errors_total{listener=\"http\"}");
    let logged = host.log().matches("accept failed").count();
    assert!(failures > 0, "{}", host.log());
    assert!(
        (1..=2).contains(&logged) && (logged as u64) < failures,
        "{failures} failed accepts, {logged} logged:\n{}",
        host.log()
    );
}
