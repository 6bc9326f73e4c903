//! Fleet mode: tracker-host replicas on one real PostgreSQL (tests/src/postgres.rs),
//! each its own process with its own data dir and ports, spoken to over HTTP. A
//! swap or rollback accepted by one replica reaches every replica (each smoke-tests
//! it first) while load on all of them sees no failure; a rejected build changes
//! nothing anywhere; a replica started later comes up on the fleet's version; the
//! database going away and coming back costs no request and loses no swap; and the
//! fleet connection works over TLS with `sslmode=require`; and a manifest source wins
//! only the first time the fleet sees it (an old pod restarting mid-rollout follows
//! the fleet instead of switching it back).
//! Without PostgreSQL binaries every test prints `skipped: postgresql not found`.

mod swap_support;

use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use integration::postgres::{Postgres, PostgresOptions};
use integration::{Host, HostOptions};
use swap_support::{
    A_VERSION, VARIANT_LABEL, api_a, api_b, health_version, misbehave, put_version, rollback,
    sha256_hex, temp_app, with_custom_section,
};

/// How long the fleet may take to converge on a version (each replica compiles
/// and smoke-tests it; generous for a loaded 2-core machine).
const CONVERGE: Duration = Duration::from_secs(90);

/// Replicas are heavy (each compiles both components); one scenario at a time.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

fn replica(url: &str, id: &str) -> Host {
    replica_of(url, id, None)
}

const IDS: [&str; 3] = ["r1", "r2", "r3"];

/// Replicas r1, r2 and r3 on `url`, once all three serve `sha` for `api`.
fn three_replicas(url: &str, sha: &str) -> [Host; 3] {
    let hosts = IDS.map(|id| replica(url, id));
    let [r1, r2, r3] = &hosts;
    wait_for_fleet(&[r1, r2, r3], &IDS, sha);
    hosts
}

/// A replica serving `manifest` (default: the repo's spin.toml).
fn replica_of(url: &str, id: &str, manifest: Option<PathBuf>) -> Host {
    Host::start_with(HostOptions {
        manifest,
        env: vec![
            ("TRACKER_FLEET_DATABASE_URL".into(), url.into()),
            ("TRACKER_REPLICA_ID".into(), id.into()),
        ],
        args: vec!["--no-watch".into()],
        ..HostOptions::default()
    })
}

/// `GET /-/components` of one replica.
fn listing(host: &Host) -> serde_json::Value {
    let resp = host.admin_request("GET", "/-/components", &[], None);
    assert_eq!(resp.status, 200, "{}", resp.text());
    resp.json()
}

fn component<'a>(listing: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    listing["components"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no component {name} in {listing}"))
}

/// Polls every replica's listing until each shows every replica in `ids` serving
/// `sha` for `api` (from the status rows), and itself serving it; panics with the
/// last listings at the deadline.
fn wait_for_fleet(hosts: &[&Host], ids: &[&str], sha: &str) {
    let deadline = Instant::now() + CONVERGE;
    loop {
        let listings: Vec<serde_json::Value> = hosts.iter().map(|h| listing(h)).collect();
        let converged = listings.iter().all(|l| {
            let api = component(l, "api");
            api["active"]["sha256"] == sha
                && api["fleet"]["active"] == sha
                && ids.iter().all(|id| api["fleet"]["replicas"][*id] == sha)
        });
        if converged {
            return;
        }
        if Instant::now() > deadline {
            let logs: Vec<String> = hosts.iter().map(|h| h.log()).collect();
            panic!(
                "the fleet did not converge on {sha} within {CONVERGE:?}:\n{}\n\nlogs:\n{}",
                serde_json::to_string_pretty(&listings).unwrap_or_default(),
                logs.join("\n-----\n")
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Hits `/health` on every host until stopped; counts answers and failures.
struct Load {
    stop: AtomicBool,
    ok: AtomicU64,
    failures: Mutex<Vec<String>>,
}

impl Load {
    fn new() -> Self {
        Self {
            stop: AtomicBool::new(false),
            ok: AtomicU64::new(0),
            failures: Mutex::new(Vec::new()),
        }
    }

    fn run(&self, host: &Host, name: &str) {
        while !self.stop.load(Ordering::Relaxed) {
            let outcome = match host.try_request("GET", "/health", &[], None) {
                Err(e) => Err(format!("{name}: no response: {e}")),
                Ok(r) if r.status != 200 => Err(format!("{name}: {}: {}", r.status, r.text())),
                Ok(r) => match serde_json::from_slice::<serde_json::Value>(&r.body) {
                    Ok(v) if v["version"] == A_VERSION || v["version"] == VARIANT_LABEL => Ok(()),
                    _ => Err(format!("{name}: unexpected body {}", r.text())),
                },
            };
            match outcome {
                Ok(()) => {
                    self.ok.fetch_add(1, Ordering::Relaxed);
                }
                Err(e) => self
                    .failures
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(e),
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// One load loop per replica (r1, r2, r3) in the scope, until `stop`.
    fn spawn_on<'scope>(
        &'scope self,
        s: &'scope std::thread::Scope<'scope, '_>,
        hosts: [&'scope Host; 3],
    ) {
        for (host, name) in hosts.into_iter().zip(IDS) {
            s.spawn(move || self.run(host, name));
        }
    }

    fn check(&self, what: &str) {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        assert!(
            failures.is_empty(),
            "{what}: {} failed requests, first: {:?}",
            failures.len(),
            &failures[..failures.len().min(5)]
        );
        let ok = self.ok.load(Ordering::Relaxed);
        assert!(ok > 0, "{what}: the load loop ran no request");
        eprintln!("{what}: {ok} requests across the replicas, 0 failed");
    }
}

#[test]
fn swaps_and_rollbacks_reach_every_replica_and_rejected_builds_reach_none() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(pg) = Postgres::start() else { return };
    let (a, b) = (api_a(), api_b());
    let (sha_a, sha_b) = (sha256_hex(&a), sha256_hex(&b));
    let url = pg.url();
    let [r1, r2, r3] = three_replicas(&url, &sha_a);
    let ids = IDS;

    // (a) A swap uploaded to r1 reaches all three while load hits all three.
    let load = Load::new();
    std::thread::scope(|s| {
        load.spawn_on(s, [&r1, &r2, &r3]);
        let put = put_version(&r1, "api", &b);
        assert_eq!(put.status, 200, "{}\n{}", put.text(), r1.log());
        assert_eq!(put.json()["sha256"], sha_b.as_str());
        assert_eq!(put.json()["previous"], sha_a.as_str());
        wait_for_fleet(&[&r1, &r2, &r3], &ids, &sha_b);
        for host in [&r1, &r2, &r3] {
            assert_eq!(health_version(host), VARIANT_LABEL);
        }
        // (b) A rollback on r2 reaches all three, still under load.
        let back = rollback(&r2, "api");
        assert_eq!(back.status, 200, "{}\n{}", back.text(), r2.log());
        assert_eq!(back.json()["sha256"], sha_a.as_str());
        assert_eq!(back.json()["previous"], sha_b.as_str());
        wait_for_fleet(&[&r1, &r2, &r3], &ids, &sha_a);
        for host in [&r1, &r2, &r3] {
            assert_eq!(health_version(host), A_VERSION);
        }
        load.stop.store(true, Ordering::Relaxed);
    });
    load.check("swap and rollback across the fleet");

    // (c) Builds that fail (the smoke request answers 500; a component that does
    // not compile) are refused by the replica they were uploaded to, and nothing
    // changes anywhere.
    let bad_health = misbehave("bad-health");
    let put = put_version(&r3, "api", &bad_health);
    assert_eq!(put.status, 422, "{}", put.text());
    assert_eq!(
        put.json()["error"]["reason"],
        "smoke_status",
        "{}",
        put.text()
    );
    let mut broken = a[..a.len() / 2].to_vec();
    broken.extend_from_slice(b"truncated");
    let put = put_version(&r1, "api", &broken);
    assert_eq!(put.status, 422, "{}", put.text());
    assert_eq!(put.json()["error"]["reason"], "compile", "{}", put.text());
    // Give a wrongly announced version time to arrive, then check nothing moved.
    std::thread::sleep(Duration::from_secs(2));
    wait_for_fleet(&[&r1, &r2, &r3], &ids, &sha_a);
    let record =
        pg.psql("SELECT active || ' ' || previous FROM tracker_host_slots WHERE component = 'api'");
    assert_eq!(record, format!("{sha_a} {sha_b}"));
    let builds = pg.psql("SELECT count(*) FROM tracker_host_builds");
    let listed = listing(&r2);
    for status in listed["fleet"]["replicas"].as_array().into_iter().flatten() {
        assert!(status["lastError"].is_null(), "{listed}");
    }
    for host in [&r1, &r2, &r3] {
        assert_eq!(health_version(host), A_VERSION);
    }

    // (d) After a swap (on r3 this time), a replica started later comes up on it:
    // its first answer is already the swapped version.
    let put = put_version(&r3, "api", &b);
    assert_eq!(put.status, 200, "{}", put.text());
    wait_for_fleet(&[&r1, &r2, &r3], &ids, &sha_b);
    let r4 = replica(&url, "r4");
    assert_eq!(health_version(&r4), VARIANT_LABEL);
    wait_for_fleet(&[&r1, &r2, &r3, &r4], &["r1", "r2", "r3", "r4"], &sha_b);
    // Content-addressed: the swap back to a known build stored no new bytes.
    assert_eq!(pg.psql("SELECT count(*) FROM tracker_host_builds"), builds);
    // The data dir keeps no version record in fleet mode.
    assert!(!r4.data_dir().join("components").exists());
    eprintln!(
        "fleet listing on r4:\n{}",
        serde_json::to_string_pretty(&listing(&r4)).unwrap_or_default()
    );

    // `tracker-host versions` prints the fleet: every replica with its version.
    let out = std::process::Command::new(integration::host_bin())
        .args(["versions", "--admin", &r2.admin_url("")])
        .env_remove("TRACKER_ADMIN_TOKEN")
        .output()
        .expect("run tracker-host versions");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("tracker-host versions:\n{text}");
    assert!(text.contains("fleet (this replica: r2)"), "{text}");
    let short_b = &sha_b[..12];
    for id in ["r1", "r2", "r3", "r4"] {
        assert!(
            text.lines()
                .any(|l| l.trim_start().starts_with(id) && l.contains(&format!("api={short_b}"))),
            "{id}: {text}"
        );
    }
}

#[test]
fn a_database_restart_costs_no_request_and_the_next_swap_still_reaches_everyone() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(pg) = Postgres::start() else { return };
    let (a, b) = (api_a(), api_b());
    let (sha_a, sha_b) = (sha256_hex(&a), sha256_hex(&b));
    let url = pg.url();
    let [r1, r2, r3] = three_replicas(&url, &sha_a);
    let ids = IDS;

    let load = Load::new();
    std::thread::scope(|s| {
        load.spawn_on(s, [&r1, &r2, &r3]);
        pg.stop();
        // While the database is away the replicas keep serving, and a swap cannot
        // be recorded, so it is refused and nothing changes.
        std::thread::sleep(Duration::from_secs(2));
        let put = put_version(&r2, "api", &b);
        assert_eq!(put.status, 422, "{}", put.text());
        assert_eq!(put.json()["error"]["reason"], "io", "{}", put.text());
        assert_eq!(health_version(&r2), A_VERSION);
        let listed = listing(&r1);
        assert!(listed["fleet"]["error"].is_string(), "{listed}");
        std::thread::sleep(Duration::from_secs(2));
        pg.start_again();

        let put = put_version(&r1, "api", &b);
        assert_eq!(put.status, 200, "{}\n{}", put.text(), r1.log());
        wait_for_fleet(&[&r1, &r2, &r3], &ids, &sha_b);
        for host in [&r1, &r2, &r3] {
            assert_eq!(health_version(host), VARIANT_LABEL);
        }
        load.stop.store(true, Ordering::Relaxed);
    });
    load.check("database restart");
    for host in [&r1, &r2, &r3] {
        assert!(
            host.log()
                .contains("fleet database session lost; reconnecting"),
            "{}",
            host.log()
        );
    }
}

#[test]
fn the_fleet_connection_works_over_tls_with_sslmode_require() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(pg) = Postgres::start_with(PostgresOptions { tls: true }) else {
        return;
    };
    let b = api_b();
    let r1 = replica(&pg.url_with_sslmode("require"), "tls-1");
    let put = put_version(&r1, "api", &b);
    assert_eq!(put.status, 200, "{}\n{}", put.text(), r1.log());
    wait_for_fleet(&[&r1], &["tls-1"], &sha256_hex(&b));
    // The listening session is encrypted (psql itself connects without TLS).
    let encrypted = pg.psql(
        "SELECT count(*) FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) \
         WHERE ssl AND application_name = 'tracker-host tls-1'",
    );
    assert_ne!(encrypted, "0", "no TLS session from tracker-host");
}

#[test]
fn a_replica_whose_session_was_gone_during_a_swap_catches_up_on_reconnect() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(pg) = Postgres::start() else { return };
    let (a, b) = (api_a(), api_b());
    let (sha_a, sha_b) = (sha256_hex(&a), sha256_hex(&b));
    let url = pg.url();
    let r1 = replica(&url, "r1");
    let r2 = replica(&url, "r2");
    wait_for_fleet(&[&r1, &r2], &["r1", "r2"], &sha_a);

    // r2 is frozen and its listening session is ended by the server, so when r1's
    // swap is announced r2 has no session to receive it: the announcement is lost
    // for r2, for good.
    let signal = |sig: i32| {
        // SAFETY: kill(2) on our own child process.
        let rc = unsafe { libc::kill(r2.pid() as i32, sig) };
        assert_eq!(rc, 0, "kill({sig})");
    };
    signal(libc::SIGSTOP);
    let ended = pg.psql(
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE application_name = 'tracker-host r2'",
    );
    assert_ne!(ended, "0", "r2 had no session to end");
    let put = put_version(&r1, "api", &b);
    signal(libc::SIGCONT);
    assert_eq!(put.status, 200, "{}", put.text());

    // Back, r2 finds its session gone, reconnects, LISTENs, reads the record and
    // catches up with no announcement.
    wait_for_fleet(&[&r1, &r2], &["r1", "r2"], &sha_b);
    assert_eq!(health_version(&r2), VARIANT_LABEL);
    assert!(
        r2.log()
            .contains("fleet database session lost; reconnecting"),
        "{}",
        r2.log()
    );
}

#[test]
fn a_source_wins_once_and_an_old_pod_restarting_mid_rollout_follows_the_fleet() {
    let _one = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let Some(pg) = Postgres::start() else { return };
    let (a, b) = (api_a(), api_b());
    // A third build: A's behaviour under a new sha256 (cheaper than a build).
    let c = with_custom_section(&a, "fleet-source-c");
    let (sha_a, sha_b, sha_c) = (sha256_hex(&a), sha256_hex(&b), sha256_hex(&c));
    let url = pg.url();
    let source_record = || {
        pg.psql(
            "SELECT active || ' ' || source_sha256 FROM tracker_host_slots WHERE component = 'api'",
        )
    };
    let seen = || {
        pg.psql(
            "SELECT string_agg(sha256, ' ' ORDER BY sha256) FROM tracker_host_sources \
             WHERE component = 'api'",
        )
    };
    let sorted = |shas: &[&str]| {
        let mut shas = shas.to_vec();
        shas.sort_unstable();
        shas.join(" ")
    };

    // Image A: r1 serves the repo's spin.toml.
    let mut r1 = replica(&url, "r1");
    wait_for_fleet(&[&r1], &["r1"], &sha_a);
    assert_eq!(seen(), sha_a);
    // As a database written before the history existed: no rows. The record's
    // source must then count as seen.
    pg.psql("DELETE FROM tracker_host_sources");

    // Image B rolls out: r2's manifest source is B, new to the fleet, so it wins
    // everywhere (r1 follows through the announcement).
    let app_b = temp_app();
    std::fs::write(&app_b.api_source, &b).expect("write source B");
    let r2 = replica_of(&url, "r2", Some(app_b.manifest.clone()));
    wait_for_fleet(&[&r1, &r2], &["r1", "r2"], &sha_b);
    assert_eq!(source_record(), format!("{sha_b} {sha_b}"));
    assert_eq!(seen(), sorted(&[&sha_a, &sha_b]));

    // An old pod (image A) crashes and restarts before the rollout finishes: its
    // source A was seen before, so it follows the record instead of switching the
    // fleet back. Its first answer is already B, and nothing moved.
    r1.kill();
    r1.start_again();
    assert_eq!(health_version(&r1), VARIANT_LABEL, "{}", r1.log());
    assert!(
        r1.log().contains("an older image coming back"),
        "{}",
        r1.log()
    );
    // Give a wrong announcement time to arrive, then check every replica.
    std::thread::sleep(Duration::from_secs(2));
    wait_for_fleet(&[&r1, &r2], &["r1", "r2"], &sha_b);
    for host in [&r1, &r2] {
        assert_eq!(health_version(host), VARIANT_LABEL);
    }
    assert_eq!(source_record(), format!("{sha_b} {sha_b}"));
    let api = component(&listing(&r2), "api").clone();
    assert_eq!(api["fleet"]["previous"], sha_a.as_str(), "{api}");

    // A source the fleet has never seen (image C) wins, once, everywhere.
    let app_c = temp_app();
    std::fs::write(&app_c.api_source, &c).expect("write source C");
    let r3 = replica_of(&url, "r3", Some(app_c.manifest.clone()));
    wait_for_fleet(&[&r1, &r2, &r3], &["r1", "r2", "r3"], &sha_c);
    for host in [&r1, &r2, &r3] {
        assert_eq!(health_version(host), A_VERSION);
    }
    assert_eq!(source_record(), format!("{sha_c} {sha_c}"));
    assert_eq!(seen(), sorted(&[&sha_a, &sha_b, &sha_c]));
}
