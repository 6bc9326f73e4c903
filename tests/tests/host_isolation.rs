//! A component that loops forever, traps or allocates past the memory cap costs
//! its own request a 503/500 while other requests keep succeeding.

mod host_support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use host_support::{misbehave_app, start_misbehave};
use integration::{Host, Resp};

fn start() -> (host_support::MisbehaveApp, Host) {
    let app = misbehave_app("/...", "");
    let host = start_misbehave(
        &app,
        "/ok",
        &["--request-timeout", "2s", "--max-memory", "64MiB"],
    );
    (app, host)
}

fn error_code(resp: &Resp) -> String {
    resp.json()["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Runs `bad` while another thread keeps requesting `/ok`: healthy requests
/// succeed before, during and after it.
fn while_healthy_requests_run(host: &Host, bad: impl FnOnce() -> Resp) -> Resp {
    let done = AtomicBool::new(false);
    let ok_count = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let healthy = s.spawn(|| {
            loop {
                let r = host.get("/ok");
                assert_eq!(r.status, 200, "a healthy request failed: {}", r.text());
                ok_count.fetch_add(1, Ordering::SeqCst);
                if done.load(Ordering::SeqCst) {
                    break;
                }
            }
        });
        let wait_for_more_than = |n: usize| {
            while ok_count.load(Ordering::SeqCst) <= n {
                assert!(!healthy.is_finished(), "healthy requests stopped");
                std::thread::sleep(Duration::from_millis(5));
            }
        };
        wait_for_more_than(0);
        let resp = bad();
        // A request that started after the bad one finished must succeed too.
        let seen = ok_count.load(Ordering::SeqCst);
        wait_for_more_than(seen + 1);
        done.store(true, Ordering::SeqCst);
        resp
    })
}

#[test]
fn an_endless_loop_gets_one_503_and_others_keep_being_served() {
    let (_app, host) = start();
    let resp = while_healthy_requests_run(&host, || host.get("/loop"));
    assert_eq!(resp.status, 503, "{}", resp.text());
    assert_eq!(error_code(&resp), "timeout");
    assert_eq!(host.get("/ok").status, 200);
}

#[test]
fn a_trap_gets_one_500_and_others_keep_being_served() {
    let (_app, host) = start();
    let resp = while_healthy_requests_run(&host, || host.get("/trap"));
    assert_eq!(resp.status, 500, "{}", resp.text());
    assert_eq!(error_code(&resp), "component_failed");
    assert!(host.log().contains("unreachable"), "the trap is logged");
    assert_eq!(host.get("/ok").status, 200);
}

#[test]
fn allocating_past_the_memory_cap_gets_one_500_and_others_keep_being_served() {
    let (_app, host) = start();
    let resp = while_healthy_requests_run(&host, || host.get("/oom"));
    assert_eq!(resp.status, 500, "{}", resp.text());
    assert_eq!(error_code(&resp), "component_failed");
    // Repeated exhaustion does not leak the memory of failed instances.
    for _ in 0..5 {
        assert_eq!(host.get("/oom").status, 500);
    }
    assert_eq!(host.get("/ok").status, 200);
}

#[test]
fn a_declared_body_over_the_limit_gets_413_from_the_host() {
    let app = misbehave_app("/...", "");
    let host = start_misbehave(&app, "/ok", &["--max-body", "1KiB"]);
    let small = host.request("POST", "/body", &[], Some(&[7u8; 1000]));
    assert_eq!(small.text(), "read 1000 bytes");
    let big = host.request("POST", "/body", &[], Some(&[7u8; 2000]));
    assert_eq!(big.status, 413, "{}", big.text());
    assert_eq!(error_code(&big), "body_too_large");
}
