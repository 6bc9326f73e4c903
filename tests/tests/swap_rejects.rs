//! A version that cannot serve is rejected with its reason, and traffic running
//! meanwhile never notices.

mod swap_support;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use integration::Host;
use swap_support::{api_a, misbehave, put_version, sha256_hex, slot};

fn expect_rejected(host: &Host, wasm: &[u8], reason: &str, message_part: &str) {
    let put = put_version(host, "api", wasm);
    assert_eq!(put.status, 422, "{reason}: {}", put.text());
    let error = &put.json()["error"];
    assert_eq!(error["code"], "version_rejected", "{}", put.text());
    assert_eq!(error["reason"], reason, "{}", put.text());
    let message = error["message"].as_str().expect("message");
    assert!(message.contains(message_part), "{reason}: {message}");
    assert!(
        host.log().contains(&format!("reason=\"{reason}\""))
            || host.log().contains(&format!("reason={reason}")),
        "the log names the rejection reason {reason}"
    );
}

#[test]
fn bad_versions_are_rejected_with_their_reason_while_traffic_continues() {
    let bad_health = misbehave("bad-health");
    let trap_at_start = misbehave("trap-at-start");
    let extra_import = misbehave("extra-import");
    let active = sha256_hex(&api_a());
    let host = Host::start();

    let stop = AtomicBool::new(false);
    let served = AtomicU64::new(0);
    let failures = Mutex::new(Vec::<String>::new());
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    match host.try_request("GET", "/health", &[], None) {
                        Ok(r) if r.status == 200 && r.json()["component"] == "skilltrack-api" => {
                            served.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(r) => failures
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(format!("{}: {}", r.status, r.text())),
                        Err(e) => failures
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .push(e.to_string()),
                    }
                }
            });
        }

        expect_rejected(
            &host,
            b"<html>not a component</html>",
            "not_wasm",
            "not a WebAssembly file",
        );
        expect_rejected(&host, &extra_import, "link", "skilltrack:misbehave/absent");
        expect_rejected(
            &host,
            &bad_health,
            "smoke_status",
            "GET /health answered 500",
        );
        expect_rejected(&host, &trap_at_start, "instantiate", "unreachable");
        stop.store(true, Ordering::Relaxed);
    });

    let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    assert!(
        failures.is_empty(),
        "requests failed during rejected swaps: {failures:?}"
    );
    assert!(served.load(Ordering::Relaxed) > 0);

    let api = slot(&host, "api");
    assert_eq!(
        api["active"]["sha256"], active,
        "the old version still serves"
    );
    assert!(
        api["previous"].is_null(),
        "no rejected version became previous"
    );

    let metrics = host.admin_request("GET", "/-/metrics", &[], None).text();
    for reason in ["not_wasm", "link", "smoke_status", "instantiate"] {
        assert!(
            metrics.contains(&format!(
                "tracker_swaps_rejected_total{{component=\"api\",reason=\"{reason}\"}} 1"
            )),
            "{reason} counted:\n{metrics}"
        );
    }
    // Rejected builds leave no request series behind, and smoke requests are not user traffic.
    assert!(
        !metrics.contains(&sha256_hex(&bad_health)[..12]),
        "{metrics}"
    );
    assert!(
        !metrics.contains("tracker_swaps_accepted_total{component=\"api\"}"),
        "{metrics}"
    );
}

#[test]
fn unknown_components_and_rollback_without_history_are_client_errors() {
    let host = Host::start();
    let put = put_version(&host, "nope", b"\0asm");
    assert_eq!(put.status, 404, "{}", put.text());
    assert_eq!(put.json()["error"]["code"], "unknown_component");
    let back = host.admin_request("POST", "/-/components/api/rollback", &[], None);
    assert_eq!(back.status, 409, "{}", back.text());
    assert_eq!(back.json()["error"]["code"], "no_previous_version");
}
