//! Hot swap under continuous load: no request fails, each is served whole by one
//! version, and the new version serves from the moment the swap is accepted.

mod swap_support;

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use integration::Host;
use swap_support::{
    A_VERSION, VARIANT_LABEL, api_a, api_b, health_version, put_version, sha256_hex,
};

const CLIENTS: usize = 4;
const SWAPS: usize = 20;

#[derive(Default)]
struct Seen {
    ok_a: u64,
    ok_b: u64,
    failures: Vec<String>,
}

#[test]
fn twenty_swaps_under_load_lose_no_request_and_serve_the_new_version_at_once() {
    let a = api_a();
    let b = api_b();
    let host = Host::start();
    assert_eq!(health_version(&host), A_VERSION);

    let stop = AtomicBool::new(false);
    let seen = Mutex::new(Seen::default());
    let mut swap_to_serving = Vec::new();
    std::thread::scope(|s| {
        for _ in 0..CLIENTS {
            s.spawn(|| {
                while !stop.load(Ordering::Relaxed) {
                    let outcome = match host.try_request("GET", "/health", &[], None) {
                        Err(e) => Err(format!("no response: {e}")),
                        Ok(r) if r.status != 200 => Err(format!("{}: {}", r.status, r.text())),
                        Ok(r) => match serde_json::from_slice::<serde_json::Value>(&r.body) {
                            Ok(v) if v["version"] == A_VERSION => Ok(false),
                            Ok(v) if v["version"] == VARIANT_LABEL => Ok(true),
                            _ => Err(format!("unexpected body {}", r.text())),
                        },
                    };
                    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
                    match outcome {
                        Ok(false) => seen.ok_a += 1,
                        Ok(true) => seen.ok_b += 1,
                        Err(e) => seen.failures.push(e),
                    }
                }
            });
        }

        for i in 0..SWAPS {
            let (wasm, label) = if i % 2 == 0 {
                (&b, VARIANT_LABEL)
            } else {
                (&a, A_VERSION)
            };
            let put = put_version(&host, "api", wasm);
            assert_eq!(put.status, 200, "swap {i}: {}", put.text());
            let accepted = Instant::now();
            assert_eq!(put.json()["sha256"], sha256_hex(wasm), "swap {i}");
            // The first request sent after acceptance already meets the new version.
            assert_eq!(
                health_version(&host),
                label,
                "swap {i}: first request after acceptance"
            );
            swap_to_serving.push(accepted.elapsed());
            std::thread::sleep(Duration::from_millis(100));
        }
        stop.store(true, Ordering::Relaxed);
    });

    let seen = seen.into_inner().unwrap_or_else(|e| e.into_inner());
    assert!(
        seen.failures.is_empty(),
        "failed requests: {:?}",
        &seen.failures[..seen.failures.len().min(5)]
    );
    assert!(
        seen.ok_a > 0 && seen.ok_b > 0,
        "load saw both versions: {} / {}",
        seen.ok_a,
        seen.ok_b
    );
    let slowest = swap_to_serving.iter().max().expect("swaps ran");
    eprintln!(
        "swap_under_load: {} requests ({} on A, {} on B) during {SWAPS} swaps, 0 failed; \
         acceptance -> new version answering: max {:?}",
        seen.ok_a + seen.ok_b,
        seen.ok_a,
        seen.ok_b,
        slowest
    );

    let metrics = host.admin_request("GET", "/-/metrics", &[], None).text();
    assert!(
        metrics.contains(&format!(
            "tracker_swaps_accepted_total{{component=\"api\"}} {SWAPS}"
        )),
        "{metrics}"
    );
    assert!(metrics.contains(&format!(
        "tracker_component_info{{component=\"api\",sha256=\"{}\"}} 1",
        sha256_hex(&a)
    )));
}
