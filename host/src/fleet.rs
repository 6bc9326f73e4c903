//! Fleet mode: replicas of tracker-host sharing one PostgreSQL keep their component
//! versions there instead of in `<data>/components`, so a hot swap or rollback
//! accepted by any replica reaches all of them.
//!
//! Host-owned tables (created idempotently at start, under an advisory lock so
//! replicas starting together do not race):
//! - `tracker_host_builds`: the `.wasm` of every accepted build, by sha256;
//! - `tracker_host_slots`: each component's active and previous version and the
//!   manifest source sha256 last seen (the fields of [`SlotRecord`]);
//! - `tracker_host_sources`: every manifest source sha256 each component has been
//!   deployed with (or whose file a replica's watcher read), so an older image
//!   coming back is told apart from a new deployment;
//! - `tracker_host_replicas`: one status row per replica: the sha256 each
//!   component serves there, why it refused the fleet's version if it did, and a
//!   heartbeat (`updated_at`).
//!
//! Protocol: a swap or rollback accepted on one replica (after its own compile and
//! smoke test) writes the slot row in one transaction that also `NOTIFY`s
//! [`CHANNEL`]. Every replica holds a connection that `LISTEN`s; on a notification
//! it reads the slot rows, and for each component whose active version differs
//! from its own it fetches the bytes, compiles, smoke-tests and switches (or keeps
//! its version and records why), then writes its status row. The notification
//! carries no state, it only says "look again": on every (re)connect a replica
//! first `LISTEN`s and then reads the rows, so a change committed while it was
//! disconnected is seen by that read and one committed after it by a notification.
//! Serving never waits on any of this.

use std::collections::BTreeMap;
use std::future::{Future, poll_fn};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use tokio_postgres::{AsyncMessage, Client, GenericClient, Row};

use crate::engine::Runtime;
use crate::files::sha256_hex;
use crate::metrics::{Registry, short};
use crate::pg_tls::{Tls, parse_config};
use crate::slot::{Slot, Version};
use crate::swap::{Followed, Swapper};
use crate::versions::SlotRecord;

/// The channel accepted versions are announced on; the payload is the component.
pub const CHANNEL: &str = "tracker_host_versions";
/// The advisory lock that serialises schema creation and start-up writes
/// (`trackerh` in ASCII).
const LOCK_KEY: i64 = 0x7472_6163_6b65_7268;
/// Connecting, when the URL sets no `connect_timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Any one database operation, connect included.
const OP_TIMEOUT: Duration = Duration::from_secs(20);
/// How often a replica refreshes its status row.
const HEARTBEAT: Duration = Duration::from_secs(5);
const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tracker_host_builds (
    sha256 TEXT PRIMARY KEY,
    wasm BYTEA NOT NULL,
    size BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS tracker_host_slots (
    component TEXT PRIMARY KEY,
    active TEXT NOT NULL REFERENCES tracker_host_builds (sha256),
    active_source TEXT NOT NULL,
    previous TEXT REFERENCES tracker_host_builds (sha256),
    previous_source TEXT,
    source_sha256 TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS tracker_host_sources (
    component TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    first_seen TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (component, sha256)
);
CREATE TABLE IF NOT EXISTS tracker_host_replicas (
    replica_id TEXT PRIMARY KEY,
    components JSONB NOT NULL,
    last_error TEXT,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
";

const SELECT_SLOT: &str = "SELECT active, active_source, previous, previous_source, source_sha256 \
     FROM tracker_host_slots WHERE component = $1";

/// `--fleet-database-url` and `--replica-id`.
#[derive(Debug, Clone)]
pub struct FleetOptions {
    pub url: String,
    pub replica_id: String,
}

/// This machine's name for the status row: `$HOSTNAME` (a Kubernetes pod's name),
/// else the kernel's host name, else a random id.
pub fn default_replica_id() -> String {
    let non_empty = |s: String| {
        let s = s.trim().to_owned();
        (!s.is_empty()).then_some(s)
    };
    std::env::var("HOSTNAME")
        .ok()
        .and_then(non_empty)
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .and_then(non_empty)
        })
        .or_else(|| {
            std::fs::read_to_string("/etc/hostname")
                .ok()
                .and_then(non_empty)
        })
        .unwrap_or_else(|| {
            let token = crate::stamps::random_token();
            format!("replica-{}", token.get(..12).unwrap_or(&token))
        })
}

/// One replica's row, as the admin listing shows it.
#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicaStatus {
    pub replica: String,
    /// Component -> the sha256 it serves on that replica.
    pub active: BTreeMap<String, String>,
    pub last_error: Option<String>,
    pub updated_at: String,
    /// Seconds since the row was last written (heartbeats come every 5 s).
    pub age_seconds: f64,
}

/// The fleet's record and every replica's status.
#[derive(Debug, Clone)]
pub struct Overview {
    pub slots: BTreeMap<String, SlotRecord>,
    pub replicas: Vec<ReplicaStatus>,
}

pub struct Fleet {
    config: tokio_postgres::Config,
    tls: Tls,
    replica: String,
    /// Component -> why this replica does not serve the fleet's active version.
    refusals: Mutex<BTreeMap<String, String>>,
}

impl Fleet {
    pub fn new(options: &FleetOptions, tls: Tls) -> anyhow::Result<Self> {
        let url = options.url.trim();
        anyhow::ensure!(
            url.starts_with("postgres://") || url.starts_with("postgresql://"),
            "--fleet-database-url must be a postgres:// or postgresql:// URL"
        );
        let mut config = parse_config(url).map_err(|e| anyhow!("--fleet-database-url: {e}"))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(CONNECT_TIMEOUT);
        }
        anyhow::ensure!(
            !options.replica_id.trim().is_empty(),
            "--replica-id must not be empty"
        );
        if config.get_application_name().is_none() {
            // pg_stat_activity then tells the replicas' sessions apart.
            config.application_name(format!("tracker-host {}", options.replica_id.trim()));
        }
        // A server that vanishes without closing the socket is noticed too.
        config.keepalives_idle(Duration::from_secs(15));
        Ok(Self {
            config,
            tls,
            replica: options.replica_id.trim().to_owned(),
            refusals: Mutex::new(BTreeMap::new()),
        })
    }

    pub fn replica(&self) -> &str {
        &self.replica
    }

    /// A fresh session for one operation; it closes when the client is dropped.
    async fn client(&self) -> anyhow::Result<Client> {
        let (client, connection) = self
            .config
            .connect(self.tls.clone())
            .await
            .context("cannot connect to the fleet database")?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "fleet database session ended");
            }
        });
        Ok(client)
    }

    /// The slot's record in the database.
    pub async fn record(&self, component: &str) -> anyhow::Result<Option<SlotRecord>> {
        timed(async {
            let client = self.client().await?;
            read_record(&client, component, false).await
        })
        .await
    }

    /// A build's bytes, checked against its sha256.
    pub async fn build(&self, sha256: &str) -> anyhow::Result<Vec<u8>> {
        timed(async {
            let client = self.client().await?;
            fetch_build(&client, sha256).await
        })
        .await
    }

    /// Records `sha256` as the component's active version (its bytes stored first
    /// when given), the active one it replaces as previous, and announces it, in
    /// one transaction. Returns the replaced version.
    pub async fn commit(
        &self,
        component: &str,
        sha256: &str,
        source: &str,
        wasm: Option<&[u8]>,
    ) -> anyhow::Result<Option<String>> {
        timed(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
                .await?;
            if let Some(wasm) = wasm {
                store_build(&tx, sha256, wasm).await?;
            }
            let current = read_record(&tx, component, true).await?;
            let record = match &current {
                Some(r) if r.active == sha256 => r.clone(),
                Some(r) => SlotRecord {
                    active: sha256.to_owned(),
                    active_source: source.to_owned(),
                    previous: Some(r.active.clone()),
                    previous_source: Some(r.active_source.clone()),
                    source_sha256: r.source_sha256.clone(),
                },
                None => SlotRecord {
                    active: sha256.to_owned(),
                    active_source: source.to_owned(),
                    previous: None,
                    previous_source: None,
                    source_sha256: sha256.to_owned(),
                },
            };
            write_record(&tx, component, &record, &self.replica).await?;
            announce(&tx, component).await?;
            tx.commit().await?;
            Ok(current.map(|r| r.active).filter(|a| a != sha256))
        })
        .await
    }

    /// Notes the manifest source file's hash, in the record and in the history of
    /// sources seen (no announcement: nothing serves differently). A file already
    /// judged here does not win when a replica starts with it later.
    pub async fn note_source(&self, component: &str, sha256: &str) -> anyhow::Result<()> {
        timed(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            tx.execute(
                "UPDATE tracker_host_slots SET source_sha256 = $2 \
                 WHERE component = $1 AND source_sha256 <> $2",
                &[&component, &sha256],
            )
            .await?;
            see_source(&tx, component, sha256).await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    /// The record and every replica's status row, for the admin listing.
    pub async fn overview(&self) -> anyhow::Result<Overview> {
        timed(async {
            let client = self.client().await?;
            let mut slots = BTreeMap::new();
            for row in client
                .query(
                    "SELECT component, active, active_source, previous, previous_source, \
                     source_sha256 FROM tracker_host_slots ORDER BY component",
                    &[],
                )
                .await?
            {
                let component: String = row.try_get(0)?;
                slots.insert(
                    component,
                    SlotRecord {
                        active: row.try_get(1)?,
                        active_source: row.try_get(2)?,
                        previous: row.try_get(3)?,
                        previous_source: row.try_get(4)?,
                        source_sha256: row.try_get(5)?,
                    },
                );
            }
            let mut replicas = Vec::new();
            for row in client
                .query(
                    "SELECT replica_id, components::text, last_error, \
                     to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'), \
                     EXTRACT(EPOCH FROM now() - updated_at)::float8 \
                     FROM tracker_host_replicas ORDER BY replica_id",
                    &[],
                )
                .await?
            {
                let components: String = row.try_get(1)?;
                replicas.push(ReplicaStatus {
                    replica: row.try_get(0)?,
                    active: serde_json::from_str(&components).unwrap_or_default(),
                    last_error: row.try_get(2)?,
                    updated_at: row.try_get(3)?,
                    age_seconds: row.try_get(4)?,
                });
            }
            Ok(Overview { slots, replicas })
        })
        .await
    }
}

/// Start-up.
impl Fleet {
    /// Before serving, with the manifest's sources loaded into the slots: creates
    /// the tables if needed, then per slot (see [`Fleet::settle`]): a manifest
    /// source the fleet has never seen is a new deployment, wins, and is written
    /// (and announced) with the recorded active kept as previous; any other source
    /// (the one the record last saw, or an older one coming back, e.g. an old
    /// image's pod restarting mid-rollout or `kubectl rollout undo`) follows the
    /// record: its active (and previous) version serves here and nothing is
    /// written. A deployment wins once; going back is the admin API's rollback.
    /// Fails when the database cannot be reached: a replica that cannot learn
    /// the fleet's version must not serve another one.
    pub fn restore(
        &self,
        rt: &tokio::runtime::Runtime,
        slots: &BTreeMap<String, Arc<Slot>>,
        runtime: &Runtime,
        metrics: &Registry,
    ) -> anyhow::Result<()> {
        let mut client = rt
            .block_on(timed(self.client()))
            .context("fleet mode needs its database at start-up")?;
        rt.block_on(timed(async {
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
                .await?;
            // "already exists, skipping" on every start is not news.
            tx.batch_execute("SET LOCAL client_min_messages = warning")
                .await?;
            tx.batch_execute(SCHEMA).await?;
            tx.commit().await?;
            Ok(())
        }))
        .context("cannot create the fleet tables")?;

        for slot in slots.values() {
            let source = slot.active();
            metrics.adopt(&slot.id, &source.sha256, source.stats.clone());
            let bytes = std::fs::read(&source.source)
                .ok()
                .filter(|b| sha256_hex(b) == source.sha256)
                .with_context(|| {
                    format!(
                        "{} changed while it was being loaded; start again",
                        source.source.display()
                    )
                })?;
            let record = rt
                .block_on(timed(self.settle(&mut client, &slot.id, &source, &bytes)))
                .with_context(|| {
                    format!(
                        "cannot record component `{}` in the fleet database",
                        slot.id
                    )
                })?;
            let load = |sha256: &str, from: &str| -> anyhow::Result<Arc<Version>> {
                if sha256 == source.sha256 {
                    return Ok(source.clone());
                }
                let bytes = rt.block_on(timed(fetch_build(&client, sha256)))?;
                let version = runtime.prepare_version_from_bytes(&bytes, from.as_ref())?;
                Ok(Arc::new(Version {
                    stats: metrics.stats_for(&slot.id, sha256),
                    ..version
                }))
            };
            match load(&record.active, &record.active_source) {
                Ok(active) => {
                    if active.sha256 != source.sha256 {
                        tracing::info!(component = %slot.id, sha256 = %active.sha256, "serving the fleet's active version");
                        slot.activate(active);
                    }
                }
                Err(e) => {
                    let message = format!(
                        "cannot load the fleet's version {}: {e:#}",
                        short(&record.active)
                    );
                    tracing::warn!(component = %slot.id, "{message}; serving the manifest's source");
                    self.refuse(&slot.id, message);
                }
            }
            let previous = record.previous.as_deref().and_then(|sha| {
                let from = record.previous_source.as_deref().unwrap_or("");
                load(sha, from)
                    .inspect_err(|e| tracing::warn!(component = %slot.id, %sha, error = %format!("{e:#}"), "cannot load the previous version"))
                    .ok()
            });
            slot.set_previous(previous);
        }
        rt.block_on(timed(self.write_status(&client, slots)))?;
        Ok(())
    }

    /// The start-up rule for one slot, in one transaction under the advisory lock;
    /// returns the record as it stands.
    ///
    /// - No record: the manifest's source becomes it.
    /// - The source has never been seen for this component (not in
    ///   `tracker_host_sources`): a new deployment; it becomes active fleet-wide,
    ///   the recorded active becomes previous, and it is announced.
    /// - Otherwise (the recorded source, or one seen before: an older image
    ///   coming back) the record stands; nothing is written or announced.
    ///
    /// Every source met is added to the history. A database written before the
    /// history existed has no rows: the record's own source counts as seen (and
    /// is added), so the first start after an upgrade behaves like the old rule
    /// for the current deployment and like the new one for everything after.
    async fn settle(
        &self,
        client: &mut Client,
        component: &str,
        source: &Version,
        bytes: &[u8],
    ) -> anyhow::Result<SlotRecord> {
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_KEY])
            .await?;
        store_build(&tx, &source.sha256, bytes).await?;
        let fresh = SlotRecord::fresh(source);
        let current = read_record(&tx, component, true).await?;
        if let Some(record) = &current {
            see_source(&tx, component, &record.source_sha256).await?;
        }
        let first_seen = see_source(&tx, component, &source.sha256).await?;
        let record = match current {
            None => fresh,
            Some(record) if record.source_sha256 == source.sha256 => {
                tx.commit().await?;
                return Ok(record);
            }
            Some(record) if !first_seen => {
                tracing::info!(component, sha256 = %source.sha256, recorded_source = %record.source_sha256, active = %record.active, "the manifest's source was deployed before (an older image coming back): following the fleet's record");
                tx.commit().await?;
                return Ok(record);
            }
            Some(record) => {
                tracing::info!(component, sha256 = %source.sha256, replaced = %record.active, "the manifest's source is new to the fleet: a new deployment, recorded for the fleet");
                let keep = record.active != source.sha256;
                SlotRecord {
                    previous: keep.then(|| record.active.clone()),
                    previous_source: keep.then(|| record.active_source.clone()),
                    ..fresh
                }
            }
        };
        write_record(&tx, component, &record, &self.replica).await?;
        announce(&tx, component).await?;
        tx.commit().await?;
        Ok(record)
    }
}

/// Following the fleet.
impl Fleet {
    /// Runs until the process ends: keeps a `LISTEN`ing session (reconnecting with
    /// backoff) and brings this replica to the recorded versions.
    pub async fn follow(self: Arc<Self>, swapper: Arc<Swapper>) {
        let mut backoff = MIN_BACKOFF;
        loop {
            let started = tokio::time::Instant::now();
            if let Err(e) = self.session(&swapper).await {
                tracing::warn!(error = %format!("{e:#}"), retry_in = ?backoff, "fleet database session lost; reconnecting");
            }
            if started.elapsed() > MAX_BACKOFF * 2 {
                backoff = MIN_BACKOFF;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// One connection's life: LISTEN, reconcile, then reconcile on every
    /// notification and refresh the status row on every heartbeat.
    async fn session(&self, swapper: &Swapper) -> anyhow::Result<()> {
        let (client, mut connection) =
            timed(async { Ok(self.config.connect(self.tls.clone()).await?) }).await?;
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
        let driver = tokio::spawn(async move {
            loop {
                match poll_fn(|cx| connection.poll_message(cx)).await {
                    Some(Ok(AsyncMessage::Notification(n))) => {
                        if tx.send(n.payload().to_owned()).is_err() {
                            break;
                        }
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => {
                        tracing::debug!(error = %e, "fleet listening session failed");
                        break;
                    }
                    None => break,
                }
            }
        });
        let _abort = AbortOnDrop(driver);
        // LISTEN before reading: whatever commits after the read is announced to us.
        timed(async { Ok(client.batch_execute(&format!("LISTEN {CHANNEL}")).await?) }).await?;
        tracing::info!(replica = %self.replica, "fleet: listening for version announcements");
        self.reconcile(&client, swapper).await?;
        let mut heartbeat = tokio::time::interval(HEARTBEAT);
        heartbeat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                message = rx.recv() => {
                    if message.is_none() {
                        bail!("the fleet database closed the session");
                    }
                    // One read covers every announcement already queued.
                    while rx.try_recv().is_ok() {}
                    self.reconcile(&client, swapper).await?;
                }
                _ = heartbeat.tick() => {
                    timed(self.write_status(&client, &swapper.app().slots)).await?;
                }
            }
        }
    }

    /// Reads the record and follows every component whose active version is not
    /// the one serving here; then writes the status row.
    async fn reconcile(&self, client: &Client, swapper: &Swapper) -> anyhow::Result<()> {
        let rows = timed(async {
            Ok(client
                .query(
                    "SELECT component, active, active_source FROM tracker_host_slots",
                    &[],
                )
                .await?)
        })
        .await?;
        for row in rows {
            let (component, sha256, source): (String, String, String) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            if !swapper.app().slots.contains_key(&component) {
                continue;
            }
            let fetch = timed(fetch_build(client, &sha256));
            match swapper.follow(&component, &sha256, &source, fetch).await {
                Ok(Followed::Already) => self.clear_refusal(&component),
                Ok(Followed::Switched) => {
                    tracing::info!(component, sha256 = %sha256, "following the fleet: now serving its active version");
                    self.clear_refusal(&component);
                }
                Err(e) => {
                    tracing::warn!(component, sha256 = %sha256, error = %e, "refusing the fleet's active version; the current one keeps serving");
                    self.refuse(&component, format!("refused {}: {e}", short(&sha256)));
                }
            }
        }
        timed(self.write_status(client, &swapper.app().slots)).await
    }

    fn refuse(&self, component: &str, message: String) {
        let mut refusals = self.refusals.lock().unwrap_or_else(PoisonError::into_inner);
        refusals.insert(component.to_owned(), message);
    }

    fn clear_refusal(&self, component: &str) {
        let mut refusals = self.refusals.lock().unwrap_or_else(PoisonError::into_inner);
        refusals.remove(component);
    }

    async fn write_status(
        &self,
        client: &Client,
        slots: &BTreeMap<String, Arc<Slot>>,
    ) -> anyhow::Result<()> {
        let active: BTreeMap<&str, String> = slots
            .values()
            .map(|s| (s.id.as_str(), s.active().sha256.clone()))
            .collect();
        let components = serde_json::to_string(&active)?;
        let last_error = {
            let refusals = self.refusals.lock().unwrap_or_else(PoisonError::into_inner);
            (!refusals.is_empty()).then(|| {
                refusals
                    .iter()
                    .map(|(c, m)| format!("{c}: {m}"))
                    .collect::<Vec<_>>()
                    .join("; ")
            })
        };
        client
            .execute(
                "INSERT INTO tracker_host_replicas (replica_id, components, last_error, updated_at) \
                 VALUES ($1, $2::text::jsonb, $3, now()) \
                 ON CONFLICT (replica_id) DO UPDATE SET components = excluded.components, \
                 last_error = excluded.last_error, updated_at = now()",
                &[&self.replica, &components, &last_error],
            )
            .await?;
        Ok(())
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Bounds one database operation, so a server that stops answering without
/// closing the connection cannot hold a swap or the follower forever.
async fn timed<T>(op: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::time::timeout(OP_TIMEOUT, op)
        .await
        .map_err(|_| anyhow!("the fleet database did not answer within {OP_TIMEOUT:?}"))?
}

fn record_of(row: &Row) -> anyhow::Result<SlotRecord> {
    Ok(SlotRecord {
        active: row.try_get(0)?,
        active_source: row.try_get(1)?,
        previous: row.try_get(2)?,
        previous_source: row.try_get(3)?,
        source_sha256: row.try_get(4)?,
    })
}

async fn read_record(
    client: &impl GenericClient,
    component: &str,
    for_update: bool,
) -> anyhow::Result<Option<SlotRecord>> {
    let query = if for_update {
        format!("{SELECT_SLOT} FOR UPDATE")
    } else {
        SELECT_SLOT.to_owned()
    };
    client
        .query_opt(&query, &[&component])
        .await?
        .as_ref()
        .map(record_of)
        .transpose()
}

async fn write_record(
    client: &impl GenericClient,
    component: &str,
    record: &SlotRecord,
    replica: &str,
) -> anyhow::Result<()> {
    client
        .execute(
            "INSERT INTO tracker_host_slots (component, active, active_source, previous, \
             previous_source, source_sha256, updated_by, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, now()) \
             ON CONFLICT (component) DO UPDATE SET active = excluded.active, \
             active_source = excluded.active_source, previous = excluded.previous, \
             previous_source = excluded.previous_source, source_sha256 = excluded.source_sha256, \
             updated_by = excluded.updated_by, updated_at = now()",
            &[
                &component,
                &record.active,
                &record.active_source,
                &record.previous,
                &record.previous_source,
                &record.source_sha256,
                &replica,
            ],
        )
        .await?;
    Ok(())
}

async fn announce(client: &impl GenericClient, component: &str) -> anyhow::Result<()> {
    client
        .execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &component])
        .await?;
    Ok(())
}

/// Adds a manifest source to the component's history; true when it was not
/// there yet (the first time the fleet sees it).
async fn see_source(
    client: &impl GenericClient,
    component: &str,
    sha256: &str,
) -> anyhow::Result<bool> {
    let inserted = client
        .execute(
            "INSERT INTO tracker_host_sources (component, sha256) VALUES ($1, $2) \
             ON CONFLICT (component, sha256) DO NOTHING",
            &[&component, &sha256],
        )
        .await?;
    Ok(inserted == 1)
}

/// Keeps a build (content-addressed: an existing row is the same bytes).
async fn store_build(client: &impl GenericClient, sha256: &str, wasm: &[u8]) -> anyhow::Result<()> {
    let known = client
        .query_opt(
            "SELECT 1 FROM tracker_host_builds WHERE sha256 = $1",
            &[&sha256],
        )
        .await?
        .is_some();
    if !known {
        let size = i64::try_from(wasm.len()).context("build too large")?;
        client
            .execute(
                "INSERT INTO tracker_host_builds (sha256, wasm, size) VALUES ($1, $2, $3) \
                 ON CONFLICT (sha256) DO NOTHING",
                &[&sha256, &wasm, &size],
            )
            .await?;
    }
    Ok(())
}

async fn fetch_build(client: &impl GenericClient, sha256: &str) -> anyhow::Result<Vec<u8>> {
    let row = client
        .query_opt(
            "SELECT wasm FROM tracker_host_builds WHERE sha256 = $1",
            &[&sha256],
        )
        .await?
        .ok_or_else(|| anyhow!("build {} is not in the fleet database", short(sha256)))?;
    let bytes: Vec<u8> = row.try_get(0)?;
    if sha256_hex(&bytes) != sha256 {
        bail!(
            "the fleet database's bytes for {} have another sha256",
            short(sha256)
        );
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(url: &str, replica: &str) -> FleetOptions {
        FleetOptions {
            url: url.to_owned(),
            replica_id: replica.to_owned(),
        }
    }

    #[test]
    fn fleet_urls_are_checked_before_anything_connects() {
        let tls = Tls::new().expect("tls");
        assert!(
            Fleet::new(
                &options("postgres://u@127.0.0.1:5432/db", "r1"),
                tls.clone()
            )
            .is_ok()
        );
        assert!(
            Fleet::new(
                &options("postgresql://u@db/app?sslmode=require", "r1"),
                tls.clone()
            )
            .is_ok()
        );
        let error = |url: &str, replica: &str| {
            Fleet::new(&options(url, replica), tls.clone())
                .err()
                .map(|e| format!("{e:#}"))
                .unwrap_or_default()
        };
        assert!(error("mysql://u@h/db", "r1").contains("postgres:// or postgresql://"));
        assert!(error("postgres://u@h/db?sslmode=verify-full", "r1").contains("not supported"));
        assert!(error("postgres://u@h/db", "  ").contains("--replica-id"));
    }

    #[test]
    fn a_replica_id_is_always_found() {
        assert!(!default_replica_id().trim().is_empty());
    }
}
