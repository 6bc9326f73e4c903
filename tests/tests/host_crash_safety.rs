//! `kill -9` while a client writes: every write that got a 2xx is there after a
//! restart, and the SQLite files pass `PRAGMA integrity_check`.

mod host_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use host_support::{build_app, course, course_ids, integrity_check};
use integration::{Host, Resp};
use serde_json::json;

/// Acknowledged writes the client must have seen before the kill.
const WRITES_BEFORE_KILL: usize = 30;

fn send(host: &Host, method: &str, path: &str, body: &serde_json::Value) -> Option<Resp> {
    let bytes = serde_json::to_vec(body).expect("json");
    host.try_request(
        method,
        path,
        &[("content-type", "application/json")],
        Some(&bytes),
    )
    .ok()
}

/// Writes a course and a setting per step until the host stops answering;
/// returns the steps whose writes were both acknowledged with a 2xx.
fn write_until_the_host_dies(host: &Host, acknowledged_count: &AtomicUsize) -> Vec<u32> {
    let mut acknowledged = Vec::new();
    for i in 0u32.. {
        let id = format!("crash-{i}");
        let Some(c) = send(
            host,
            "PUT",
            &format!("/api/courses/{id}"),
            &course(&id, "Crash test"),
        ) else {
            break;
        };
        assert!(c.status < 500, "server error while writing: {}", c.text());
        let Some(s) = send(
            host,
            "POST",
            &format!("/api/settings/crash-{i}"),
            &json!({ "value": i }),
        ) else {
            break;
        };
        assert!(s.status < 500, "server error while writing: {}", s.text());
        if (200..300).contains(&c.status) && (200..300).contains(&s.status) {
            acknowledged.push(i);
            acknowledged_count.fetch_add(1, Ordering::Relaxed);
        }
    }
    acknowledged
}

#[test]
fn every_acknowledged_write_survives_kill_9_mid_stream() {
    build_app();
    let mut host = Host::start();
    let count = AtomicUsize::new(0);

    let acknowledged = std::thread::scope(|s| {
        let writer = s.spawn(|| write_until_the_host_dies(&host, &count));
        while count.load(Ordering::Relaxed) < WRITES_BEFORE_KILL {
            assert!(
                !writer.is_finished(),
                "writer stopped early:\n{}",
                host.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let pid = libc::pid_t::try_from(host.pid()).expect("pid");
        // SAFETY: kill(2) on the host process this test started; the writer is
        // still sending, so the host dies in the middle of its writes.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
        writer.join().expect("writer thread")
    });
    host.kill(); // reaps the process
    assert!(acknowledged.len() >= WRITES_BEFORE_KILL);

    for db in ["sqlite/default.db", "key-value.db"] {
        assert_eq!(integrity_check(&host.data_dir().join(db)), "ok", "{db}");
    }

    host.start_again();
    let ids = course_ids(&host);
    for i in &acknowledged {
        assert!(
            ids.contains(&format!("crash-{i}")),
            "acknowledged course crash-{i} was lost"
        );
        let s = host.get(&format!("/api/settings/crash-{i}"));
        assert_eq!(
            s.status,
            200,
            "acknowledged setting crash-{i} was lost: {}",
            s.text()
        );
        assert_eq!(s.json()["value"], json!(i));
    }
}
