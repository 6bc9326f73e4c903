//! SIGTERM while a slow request is in flight: that request completes and the host
//! exits 0.

mod host_support;

use std::time::{Duration, Instant};

use host_support::{misbehave_app, start_misbehave};

#[test]
fn sigterm_lets_the_in_flight_request_finish_and_exits_zero() {
    let app = misbehave_app("/...", "");
    let mut host = start_misbehave(&app, "/ok", &["--request-timeout", "10s"]);
    let slow = std::thread::scope(|s| {
        let client = s.spawn(|| host.get("/sleep?ms=2000"));
        // Wait until the component has started the request (it logs a marker).
        let deadline = Instant::now() + Duration::from_secs(30);
        while !host.log().contains("misbehave: sleep started") {
            assert!(
                Instant::now() < deadline,
                "slow request never started:\n{}",
                host.log()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let pid = libc::pid_t::try_from(host.pid()).expect("pid");
        // SAFETY: kill(2) on the host process this test started.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGTERM) }, 0);
        client.join().expect("client thread")
    });
    assert_eq!(slow.status, 200, "{}", slow.text());
    assert_eq!(slow.text(), "slept 2000ms");
    // The harness's stop sends SIGTERM again (harmless) and asserts exit code 0.
    host.stop();
    assert!(host.log().contains("SIGTERM received"));
}
