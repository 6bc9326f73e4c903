//! Connection limits shared by the HTTP and admin listeners: a header read timeout,
//! a keep-alive idle timeout, a send timeout, a body read timeout (408) and a cap on
//! open connections that sheds idle connections before refusing new ones.
//!
//! Per connection, a few atomics record where it is: how many requests are in the
//! service (hyper's HTTP/1 serves one at a time), since when it has been idle, when
//! the first byte of its next request arrived, since when a write has been blocked.
//! The request path only stores to them (one store when a request starts, two when its
//! response ends, a load per socket read or write). One reaper task per listener scans
//! every connection a few times per shortest timeout and wakes the ones to close; the
//! connection's own task re-checks and acts, so nothing in flight is ever cut by a race
//! (between the reaper's look and the task's act the connection may have started a
//! request).
//!
//! Timeout semantics follow Go's `net/http` and nginx: a new connection must deliver
//! complete request headers within the header read timeout of being accepted; after a
//! response the connection may sit idle for the idle timeout, and once the first byte
//! of the next request arrives its headers must be complete within the header read
//! timeout. hyper 1.12's own `header_read_timeout` starts counting when the connection
//! goes idle, so it would close keep-alive connections after the header timeout; it is
//! not used.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulConnection;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, NoLabelSet};
use prometheus_client::metrics::MetricType;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Notify;

const DEFAULT_HEADER_READ_TIMEOUT: &str = "10s";
const DEFAULT_BODY_READ_TIMEOUT: &str = "10s";
const DEFAULT_IDLE_TIMEOUT: &str = "75s";
const DEFAULT_SEND_TIMEOUT: &str = "60s";
/// The derived connection cap never exceeds this (also the cap with no open-file
/// limit): each open connection costs buffers and a task, and one host rarely needs
/// more behind an ingress.
const MAX_DERIVED_CONNECTIONS: usize = 10_000;
/// The admin API serves operators and a metrics scraper: a handful of connections.
const ADMIN_MAX_CONNECTIONS: usize = 64;

/// `u64::MAX` in a timestamp field: "not set".
const UNSET: u64 = u64::MAX;

/// `tracker-host up` flags for connection limits.
#[derive(clap::Args, Debug, Clone)]
pub struct ConnArgs {
    /// A connection must send complete request headers within this time of being
    /// accepted, or of the first byte of its next request; else it is closed.
    #[arg(long, env = "TRACKER_HEADER_READ_TIMEOUT", default_value = DEFAULT_HEADER_READ_TIMEOUT, value_parser = crate::parse_duration)]
    pub header_read_timeout: Duration,

    /// A request body that sends nothing for this long while the component waits for
    /// it gets a 408 (keep it below --request-timeout).
    #[arg(long, env = "TRACKER_BODY_READ_TIMEOUT", default_value = DEFAULT_BODY_READ_TIMEOUT, value_parser = crate::parse_duration)]
    pub body_read_timeout: Duration,

    /// A keep-alive connection with no request for this long is closed (longer than
    /// an ingress's upstream keep-alive, 60 s in ingress-nginx, so the proxy closes first).
    #[arg(long, env = "TRACKER_IDLE_TIMEOUT", default_value = DEFAULT_IDLE_TIMEOUT, value_parser = crate::parse_duration)]
    pub idle_timeout: Duration,

    /// A response the client stops reading for this long is abandoned and the
    /// connection closed.
    #[arg(long, env = "TRACKER_SEND_TIMEOUT", default_value = DEFAULT_SEND_TIMEOUT, value_parser = crate::parse_duration)]
    pub send_timeout: Duration,

    /// Open HTTP connections at most; at the cap the longest-idle connections are
    /// closed to make room, and when none is idle new ones get a 503. Default: half
    /// the open-file limit, at most 10000 (both logged at start).
    #[arg(long, env = "TRACKER_MAX_CONNECTIONS")]
    pub max_connections: Option<usize>,
}

/// The limits one listener enforces.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub idle_timeout: Duration,
    pub send_timeout: Duration,
    pub max_connections: usize,
}

impl ConnArgs {
    /// The HTTP listener's limits: reads the process's open-file limit, derives the
    /// default cap from it and logs both.
    pub fn resolve(&self, request_timeout: Duration) -> anyhow::Result<ConnLimits> {
        let files = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        // Half: the other half is for databases, outbound requests and the admin API.
        let derived = files.current.map_or(MAX_DERIVED_CONNECTIONS, |soft| {
            usize::try_from(soft / 2)
                .unwrap_or(usize::MAX)
                .clamp(1, MAX_DERIVED_CONNECTIONS)
        });
        let max_connections = self.max_connections.unwrap_or(derived);
        anyhow::ensure!(max_connections > 0, "--max-connections must be at least 1");
        let show = |limit: Option<u64>| limit.map_or("unlimited".to_owned(), |n| n.to_string());
        tracing::info!(
            open_files_soft = %show(files.current),
            open_files_hard = %show(files.maximum),
            max_connections,
            admin_max_connections = ADMIN_MAX_CONNECTIONS.min(max_connections),
            "connection limits"
        );
        if files
            .current
            .is_some_and(|soft| max_connections as u64 >= soft)
        {
            tracing::warn!(
                "--max-connections {max_connections} is not below the open-file limit: \
                 accepts will fail with `Too many open files` before the cap is reached"
            );
        }
        if self.body_read_timeout >= request_timeout {
            tracing::warn!(
                "--body-read-timeout is not below --request-timeout: a stalled body gets \
                 the request timeout's 503 instead of a 408"
            );
        }
        Ok(ConnLimits {
            header_read_timeout: self.header_read_timeout,
            body_read_timeout: self.body_read_timeout,
            idle_timeout: self.idle_timeout,
            send_timeout: self.send_timeout,
            max_connections,
        })
    }
}

impl ConnLimits {
    /// The admin listener's limits: the same timeouts, a small cap of its own (so a
    /// flood on the HTTP port cannot shed an operator's connection, and the reverse).
    pub fn for_admin(self) -> Self {
        Self {
            max_connections: ADMIN_MAX_CONNECTIONS.min(self.max_connections),
            ..self
        }
    }

    /// How often the reaper looks: a tenth of the shortest connection timeout, so a
    /// timeout fires at most 10% late, between 50 ms and 1 s.
    fn reap_period(&self) -> Duration {
        let shortest = self
            .header_read_timeout
            .min(self.idle_timeout)
            .min(self.send_timeout);
        (shortest / 10).clamp(Duration::from_millis(50), Duration::from_secs(1))
    }
}

/// Why the host closed a connection itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    HeaderTimeout,
    IdleTimeout,
    SendTimeout,
    Shed,
    Shutdown,
}

/// What a connection should do now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Keep,
    /// Finish the request in flight, then close.
    Drain,
    /// Close now: nothing is in flight (or the client stopped reading).
    Close(Close),
}

/// What `/-/metrics` reports about one listener's connections.
#[derive(Default)]
pub struct ListenerCounters {
    limit: AtomicU64,
    open: AtomicU64,
    accept_errors: AtomicU64,
    header_timeouts: AtomicU64,
    idle_timeouts: AtomicU64,
    send_timeouts: AtomicU64,
    shed: AtomicU64,
    refused: AtomicU64,
    body_timeouts: AtomicU64,
}

impl ListenerCounters {
    pub fn accept_failed(&self) {
        self.accept_errors.fetch_add(1, Ordering::Relaxed);
    }

    fn closed(&self, reason: Close) {
        let counter = match reason {
            Close::HeaderTimeout => &self.header_timeouts,
            Close::IdleTimeout => &self.idle_timeouts,
            Close::SendTimeout => &self.send_timeouts,
            // Counted when chosen (see `Tracker::admit`); shutdown is not a limit.
            Close::Shed | Close::Shutdown => return,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The connection counters of both listeners, for the metrics registry.
#[derive(Default, Clone)]
pub struct ConnCounters {
    pub http: Arc<ListenerCounters>,
    pub admin: Arc<ListenerCounters>,
}

impl ConnCounters {
    fn listeners(&self) -> [(&'static str, &ListenerCounters); 2] {
        [("http", &self.http), ("admin", &self.admin)]
    }
}

impl std::fmt::Debug for ConnCounters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnCounters").finish_non_exhaustive()
    }
}

/// One series per listener: name, help, type and the counter it reads.
type Family = (
    &'static str,
    &'static str,
    MetricType,
    fn(&ListenerCounters) -> &AtomicU64,
);

/// The connection series of both listeners, read at scrape time.
impl Collector for ConnCounters {
    fn encode(&self, mut encoder: DescriptorEncoder) -> std::fmt::Result {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let families: [Family; 6] = [
            (
                "tracker_connections_open",
                "Open client connections.",
                MetricType::Gauge,
                |c| &c.open,
            ),
            (
                "tracker_connections_limit",
                "The cap on open connections.",
                MetricType::Gauge,
                |c| &c.limit,
            ),
            (
                "tracker_accept_errors",
                "Failed accepts (e.g. out of file descriptors); the listener backs off after each.",
                MetricType::Counter,
                |c| &c.accept_errors,
            ),
            (
                "tracker_connections_shed",
                "Idle connections closed to make room at the connection cap.",
                MetricType::Counter,
                |c| &c.shed,
            ),
            (
                "tracker_connections_refused",
                "New connections refused at the cap because every open one had a request in flight.",
                MetricType::Counter,
                |c| &c.refused,
            ),
            (
                "tracker_body_read_timeouts",
                "Requests whose body stalled past --body-read-timeout (answered 408).",
                MetricType::Counter,
                |c| &c.body_timeouts,
            ),
        ];
        for (name, help, kind, field) in families {
            let mut metric = encoder.encode_descriptor(name, help, None, kind)?;
            for (listener, counters) in self.listeners() {
                let labels = [("listener", listener)];
                let mut family = metric.encode_family(&labels)?;
                let value = load(field(counters));
                match kind {
                    MetricType::Gauge => {
                        family.encode_gauge(&i64::try_from(value).unwrap_or(i64::MAX))?
                    }
                    _ => family.encode_counter::<NoLabelSet, _, u64>(&value, None)?,
                }
            }
        }
        let mut metric = encoder.encode_descriptor(
            "tracker_connections_timed_out",
            "Connections closed by a timeout, by kind.",
            None,
            MetricType::Counter,
        )?;
        for (listener, c) in self.listeners() {
            for (kind, counter) in [
                ("header", &c.header_timeouts),
                ("idle", &c.idle_timeouts),
                ("send", &c.send_timeouts),
            ] {
                metric
                    .encode_family(&[("listener", listener), ("timeout", kind)])?
                    .encode_counter::<NoLabelSet, _, u64>(&load(counter), None)?;
            }
        }
        Ok(())
    }
}

/// Milliseconds since the tracker started: small enough for an atomic, and the
/// timeouts need no finer grain.
#[derive(Debug, Clone, Copy)]
struct Clock(Instant);

impl Clock {
    fn now(self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(UNSET - 1)
    }
}

fn since(now: u64, then: u64) -> Duration {
    Duration::from_millis(now.saturating_sub(then))
}

/// One connection's state, shared by its task, its socket wrapper, its requests and
/// the tracker.
struct ConnShared {
    clock: Clock,
    counters: Arc<ListenerCounters>,
    body_read_timeout: Duration,
    /// Requests in the service or streaming their response (0 or 1 with HTTP/1).
    in_flight: AtomicU32,
    /// When the last response ended (or the connection was accepted).
    idle_since: AtomicU64,
    /// When the first byte of the next request arrived while idle; a new connection
    /// starts with its accept time, so its headers are due a header timeout later.
    request_started: AtomicU64,
    /// Since when a write has been waiting for the client to read; UNSET when none is.
    write_blocked_since: AtomicU64,
    /// The current request's body stalled past the body read timeout.
    body_stalled: AtomicBool,
    /// Chosen to be closed to make room at the cap.
    shed: AtomicBool,
    /// hyper was told to finish the request in flight and close.
    draining: AtomicBool,
    /// Wakes the connection's task to re-check its verdict.
    wake: Notify,
}

impl ConnShared {
    fn new(clock: Clock, counters: Arc<ListenerCounters>, body_read_timeout: Duration) -> Self {
        let now = clock.now();
        Self {
            clock,
            counters,
            body_read_timeout,
            in_flight: AtomicU32::new(0),
            idle_since: AtomicU64::new(now),
            request_started: AtomicU64::new(now),
            write_blocked_since: AtomicU64::new(UNSET),
            body_stalled: AtomicBool::new(false),
            shed: AtomicBool::new(false),
            draining: AtomicBool::new(false),
            wake: Notify::new(),
        }
    }

    /// Nothing would be lost by closing now: no request in flight, no response bytes
    /// waiting to be written.
    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0
            && self.write_blocked_since.load(Ordering::Relaxed) == UNSET
    }

    fn verdict(&self, now: u64, limits: &ConnLimits, shutting_down: bool) -> Verdict {
        if !self.is_idle() {
            let blocked = self.write_blocked_since.load(Ordering::Relaxed);
            if blocked != UNSET && since(now, blocked) >= limits.send_timeout {
                return Verdict::Close(Close::SendTimeout);
            }
            let stop = shutting_down || self.shed.load(Ordering::Relaxed);
            if stop && !self.draining.load(Ordering::Relaxed) {
                return Verdict::Drain;
            }
            return Verdict::Keep;
        }
        if shutting_down {
            return Verdict::Close(Close::Shutdown);
        }
        if self.shed.load(Ordering::Relaxed) {
            return Verdict::Close(Close::Shed);
        }
        let started = self.request_started.load(Ordering::Relaxed);
        if started != UNSET {
            if since(now, started) >= limits.header_read_timeout {
                return Verdict::Close(Close::HeaderTimeout);
            }
        } else if since(now, self.idle_since.load(Ordering::Relaxed)) >= limits.idle_timeout {
            return Verdict::Close(Close::IdleTimeout);
        }
        Verdict::Keep
    }

    fn saw_bytes(&self) {
        if self.in_flight.load(Ordering::Relaxed) == 0
            && self.request_started.load(Ordering::Relaxed) == UNSET
        {
            self.request_started
                .store(self.clock.now(), Ordering::Relaxed);
        }
    }

    fn write_outcome<T>(&self, result: &Poll<io::Result<T>>) {
        let blocked = self.write_blocked_since.load(Ordering::Relaxed);
        match result {
            Poll::Pending if blocked == UNSET => {
                self.write_blocked_since
                    .store(self.clock.now(), Ordering::Relaxed);
            }
            Poll::Ready(_) if blocked != UNSET => {
                self.write_blocked_since.store(UNSET, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

/// The open connections of one listener.
pub struct Tracker {
    listener: &'static str,
    limits: ConnLimits,
    clock: Clock,
    counters: Arc<ListenerCounters>,
    shutting_down: AtomicBool,
    registry: Mutex<Registry>,
    /// Signalled whenever a connection closes (see `wait_for_room`).
    closed: Notify,
}

#[derive(Default)]
struct Registry {
    conns: HashMap<u64, Arc<ConnShared>>,
    next_id: u64,
    /// Connections chosen to be shed that have not closed yet: room is on its way,
    /// so the next connection does not shed more.
    shedding: usize,
    /// Rate limit of the "at the cap" warning.
    last_warning: Option<Instant>,
    shed_since_warning: u64,
    refused_since_warning: u64,
}

/// How often at most the cap and accept-error warnings are logged.
pub const WARN_EVERY: Duration = Duration::from_secs(10);

impl Tracker {
    /// A tracker for `listener` ("http" or "admin"), with its reaper task running
    /// (on the current tokio runtime) until the tracker is dropped.
    pub fn start(
        listener: &'static str,
        limits: ConnLimits,
        counters: Arc<ListenerCounters>,
    ) -> Arc<Self> {
        counters
            .limit
            .store(limits.max_connections as u64, Ordering::Relaxed);
        let tracker = Arc::new(Self {
            listener,
            limits,
            clock: Clock(Instant::now()),
            counters,
            shutting_down: AtomicBool::new(false),
            registry: Mutex::default(),
            closed: Notify::new(),
        });
        let weak = Arc::downgrade(&tracker);
        tokio::spawn(reaper(weak, limits.reap_period()));
        tracker
    }

    pub fn listener(&self) -> &'static str {
        self.listener
    }

    pub fn counters(&self) -> &ListenerCounters {
        &self.counters
    }

    fn registry(&self) -> std::sync::MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes a new connection under watch, or refuses it (a best-effort 503, then
    /// closed) when the cap is reached and no open connection is idle. At the cap
    /// the connection is admitted once idle ones are told to close; the accept loop
    /// then waits for them (`wait_for_room`), so descriptors stay at about the cap.
    pub fn admit(self: &Arc<Self>, stream: TcpStream) -> Option<(TokioIo<TrackedStream>, Conn)> {
        // Responses are written whole; waiting for ACKs (Nagle) would only add latency.
        let _ = stream.set_nodelay(true);
        let shared = Arc::new(ConnShared::new(
            self.clock,
            self.counters.clone(),
            self.limits.body_read_timeout,
        ));
        let mut registry = self.registry();
        if registry.conns.len() >= self.limits.max_connections {
            if registry.shedding == 0 {
                let shed = self.shed_idle(&mut registry);
                self.warn_at_cap(&mut registry, shed);
            }
            if registry.shedding == 0 {
                drop(registry);
                self.counters.refused.fetch_add(1, Ordering::Relaxed);
                refuse(&stream);
                return None;
            }
        }
        let id = registry.next_id;
        registry.next_id += 1;
        registry.conns.insert(id, shared.clone());
        drop(registry);
        self.counters.open.fetch_add(1, Ordering::Relaxed);
        let io = TokioIo::new(TrackedStream {
            inner: stream,
            shared: shared.clone(),
        });
        let conn = Conn {
            tracker: self.clone(),
            id,
            shared,
        };
        Some((io, conn))
    }

    /// Marks the longest-idle connections to be closed and wakes them; returns how
    /// many. A small batch per call (as nginx drains up to 32 reusable connections at
    /// once), so a flood of new connections does not scan every connection each time.
    fn shed_idle(&self, registry: &mut Registry) -> usize {
        let batch = (self.limits.max_connections / 16).clamp(1, 32);
        // Oldest first; ids break ties (the clock counts milliseconds) by accept order.
        let mut idle: Vec<((u64, u64), &Arc<ConnShared>)> = registry
            .conns
            .iter()
            .filter(|(_, c)| c.is_idle() && !c.shed.load(Ordering::Relaxed))
            .map(|(id, c)| ((c.idle_since.load(Ordering::Relaxed), *id), c))
            .collect();
        if idle.len() > batch {
            idle.select_nth_unstable_by_key(batch - 1, |(age, _)| *age);
            idle.truncate(batch);
        }
        for (_, conn) in &idle {
            conn.shed.store(true, Ordering::Relaxed);
            conn.wake.notify_one();
        }
        let shed = idle.len();
        registry.shedding += shed;
        self.counters.shed.fetch_add(shed as u64, Ordering::Relaxed);
        shed
    }

    fn warn_at_cap(&self, registry: &mut Registry, shed: usize) {
        if shed > 0 {
            registry.shed_since_warning += shed as u64;
        } else {
            registry.refused_since_warning += 1;
        }
        let now = Instant::now();
        if registry
            .last_warning
            .is_some_and(|last| now.duration_since(last) < WARN_EVERY)
        {
            return;
        }
        tracing::warn!(
            listener = self.listener,
            max_connections = self.limits.max_connections,
            shed = registry.shed_since_warning,
            refused = registry.refused_since_warning,
            "at the connection cap: closing idle connections, refusing new ones when none is idle"
        );
        registry.last_warning = Some(now);
        registry.shed_since_warning = 0;
        registry.refused_since_warning = 0;
    }

    fn remove(&self, id: u64, shared: &ConnShared) {
        let mut registry = self.registry();
        if registry.conns.remove(&id).is_some() && shared.shed.load(Ordering::Relaxed) {
            registry.shedding -= 1;
        }
        // Only the accept loop waits, and only while over the cap.
        let waited_on = registry.conns.len() >= self.limits.max_connections;
        drop(registry);
        self.counters.open.fetch_sub(1, Ordering::Relaxed);
        if waited_on {
            self.closed.notify_waiters();
        }
    }

    /// Returns once the connections are back within the cap, or after a second: the
    /// accept loop waits here after admitting past the cap, so the next clients wait
    /// in the kernel's backlog (holding no descriptor) while shed connections close.
    /// Bounded, because a connection told to close that had just started a request
    /// finishes it first.
    pub async fn wait_for_room(&self) {
        // The common case, without a lock: well within the cap.
        if self.counters.open.load(Ordering::Relaxed) < self.limits.max_connections as u64 {
            return;
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(1);
        loop {
            let closed = self.closed.notified();
            let mut closed = pin!(closed);
            // Registered before the check, so a close in between is not missed.
            closed.as_mut().enable();
            if self.registry().conns.len() <= self.limits.max_connections {
                return;
            }
            if tokio::time::timeout_at(deadline, closed).await.is_err() {
                return;
            }
        }
    }

    /// Wakes every connection whose verdict is no longer "keep".
    fn reap(&self) {
        let now = self.clock.now();
        let shutting_down = self.shutting_down.load(Ordering::Relaxed);
        let registry = self.registry();
        for conn in registry.conns.values() {
            if conn.verdict(now, &self.limits, shutting_down) != Verdict::Keep {
                conn.wake.notify_one();
            }
        }
    }

    /// Graceful stop: idle connections close now, busy ones after their request.
    pub fn shutdown(&self) {
        self.shutting_down.store(true, Ordering::Relaxed);
        for conn in self.registry().conns.values() {
            conn.wake.notify_one();
        }
    }

    /// Waits until every connection has closed; false when `timeout` passed first.
    pub async fn drained(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while !self.registry().conns.is_empty() {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

async fn reaper(tracker: Weak<Tracker>, period: Duration) {
    let mut tick = tokio::time::interval(period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(tracker) = tracker.upgrade() else {
            return;
        };
        tracker.reap();
    }
}

/// Answers a connection over the cap without waiting on it: whatever the client
/// already sent is read first (closing with unread data would send a reset that can
/// destroy the answer), then a 503, then the socket closes. A client whose request
/// has not arrived yet may see only the close.
fn refuse(stream: &TcpStream) {
    let mut scratch = [0u8; 4096];
    for _ in 0..4 {
        match stream.try_read(&mut scratch) {
            Ok(n) if n > 0 => {}
            _ => break,
        }
    }
    let body =
        r#"{"error":{"code":"overloaded","message":"too many open connections; try again"}}"#;
    let response = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nretry-after: 1\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.try_write(response.as_bytes());
}

/// An admitted connection: serve it with [`Conn::serve`]; dropping it (when the
/// connection ends) removes it from the tracker.
pub struct Conn {
    tracker: Arc<Tracker>,
    id: u64,
    shared: Arc<ConnShared>,
}

impl Conn {
    /// The handle the service uses to mark its requests.
    pub fn requests(&self) -> Requests {
        Requests(self.shared.clone())
    }

    /// Drives hyper's connection until it ends or a limit closes it. Dropping the
    /// hyper connection closes the socket; that only happens when nothing is in
    /// flight (or the client stopped reading its response).
    pub async fn serve<C: GracefulConnection>(self, conn: C) -> Result<(), C::Error> {
        let mut conn = pin!(conn);
        loop {
            tokio::select! {
                biased;
                result = conn.as_mut() => return result,
                () = self.shared.wake.notified() => {
                    let now = self.tracker.clock.now();
                    let shutting_down = self.tracker.shutting_down.load(Ordering::Relaxed);
                    match self.shared.verdict(now, &self.tracker.limits, shutting_down) {
                        Verdict::Keep => {}
                        Verdict::Drain => {
                            self.shared.draining.store(true, Ordering::Relaxed);
                            conn.as_mut().graceful_shutdown();
                        }
                        Verdict::Close(reason) => {
                            self.shared.counters.closed(reason);
                            tracing::debug!(listener = self.tracker.listener, ?reason, "closing connection");
                            return Ok(());
                        }
                    }
                }
            }
        }
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.tracker.remove(self.id, &self.shared);
    }
}

/// Marks the requests of one connection; cloned into its service.
#[derive(Clone)]
pub struct Requests(Arc<ConnShared>);

impl Requests {
    /// A request reached the service; it is in flight until the guard (moved into the
    /// response body with [`RequestGuard::track`]) is dropped.
    pub fn begin(&self) -> RequestGuard {
        self.0.in_flight.fetch_add(1, Ordering::Relaxed);
        self.0.body_stalled.store(false, Ordering::Relaxed);
        RequestGuard(self.0.clone())
    }
}

pub struct RequestGuard(Arc<ConnShared>);

impl RequestGuard {
    /// The request body, failing with [`BodyReadError::Stalled`] when the client sends
    /// nothing for the body read timeout while it is being waited on.
    pub fn timed<B>(&self, body: B) -> TimedBody<B> {
        TimedBody {
            inner: body,
            shared: self.0.clone(),
            timer: None,
            waiting: false,
            stalled: false,
        }
    }

    /// The request's body stalled (see [`RequestGuard::timed`]): answer 408.
    pub fn body_stalled(&self) -> bool {
        self.0.body_stalled.load(Ordering::Relaxed)
    }

    pub fn body_read_timeout(&self) -> Duration {
        self.0.body_read_timeout
    }

    /// The response body, keeping the request in flight until it has been sent.
    pub fn track<B>(self, body: B) -> TrackedBody<B> {
        TrackedBody {
            inner: body,
            _request: self,
        }
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        let shared = &self.0;
        shared.request_started.store(UNSET, Ordering::Relaxed);
        shared
            .idle_since
            .store(shared.clock.now(), Ordering::Relaxed);
        shared.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The socket, noting when request bytes arrive and when writes block.
pub struct TrackedStream {
    inner: TcpStream,
    shared: Arc<ConnShared>,
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if buf.filled().len() > before {
            this.shared.saw_bytes();
        }
        result
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.shared.write_outcome(&result);
        result
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.shared.write_outcome(&result);
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// A request body read failure.
#[derive(Debug, thiserror::Error)]
pub enum BodyReadError<E> {
    #[error("the request body sent nothing for {0:?}")]
    Stalled(Duration),
    #[error(transparent)]
    Body(E),
}

/// A component reading a stalled body sees a connection read timeout.
impl From<BodyReadError<hyper::Error>> for wasmtime_wasi_http::Error {
    fn from(e: BodyReadError<hyper::Error>) -> Self {
        match e {
            BodyReadError::Stalled(_) => Self::ConnectionReadTimeout,
            BodyReadError::Body(e) => e.into(),
        }
    }
}

/// See [`RequestGuard::timed`]. The timer is only created once the body is waited
/// on; a body that is already there (most are) costs nothing.
pub struct TimedBody<B> {
    inner: B,
    shared: Arc<ConnShared>,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    /// The last poll found no data: the timer runs.
    waiting: bool,
    stalled: bool,
}

impl<B> Body for TimedBody<B>
where
    B: Body + Unpin,
{
    type Data = B::Data;
    type Error = BodyReadError<B::Error>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<B::Data>, Self::Error>>> {
        let this = self.get_mut();
        let timeout = this.shared.body_read_timeout;
        if this.stalled {
            return Poll::Ready(Some(Err(BodyReadError::Stalled(timeout))));
        }
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.waiting = false;
                Poll::Ready(frame.map(|f| f.map_err(BodyReadError::Body)))
            }
            Poll::Pending => {
                if !this.waiting {
                    this.waiting = true;
                    let deadline = tokio::time::Instant::now() + timeout;
                    match &mut this.timer {
                        Some(timer) => timer.as_mut().reset(deadline),
                        None => this.timer = Some(Box::pin(tokio::time::sleep_until(deadline))),
                    }
                }
                if let Some(timer) = &mut this.timer
                    && timer.as_mut().poll(cx).is_ready()
                {
                    this.stalled = true;
                    this.shared.body_stalled.store(true, Ordering::Relaxed);
                    this.shared
                        .counters
                        .body_timeouts
                        .fetch_add(1, Ordering::Relaxed);
                    return Poll::Ready(Some(Err(BodyReadError::Stalled(timeout))));
                }
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// See [`RequestGuard::track`].
pub struct TrackedBody<B> {
    inner: B,
    _request: RequestGuard,
}

impl<B> Body for TrackedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        Pin::new(&mut self.get_mut().inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use http_body_util::BodyExt as _;

    const LIMITS: ConnLimits = ConnLimits {
        header_read_timeout: Duration::from_secs(10),
        body_read_timeout: Duration::from_secs(10),
        idle_timeout: Duration::from_secs(75),
        send_timeout: Duration::from_secs(60),
        max_connections: 100,
    };

    fn conn() -> Arc<ConnShared> {
        Arc::new(ConnShared::new(
            Clock(Instant::now()),
            Arc::default(),
            Duration::from_millis(50),
        ))
    }

    fn at(conn: &ConnShared, seconds: u64) -> Verdict {
        conn.verdict(seconds * 1000, &LIMITS, false)
    }

    #[test]
    fn new_connection_owes_its_headers_within_the_header_timeout() {
        let c = conn();
        assert_eq!(at(&c, 9), Verdict::Keep);
        assert_eq!(at(&c, 10), Verdict::Close(Close::HeaderTimeout));
    }

    #[test]
    fn keep_alive_wait_is_the_idle_timeout_then_headers_have_the_header_timeout() {
        let c = conn();
        drop(Requests(c.clone()).begin());
        let idle_since = c.idle_since.load(Ordering::Relaxed);
        assert_eq!(c.request_started.load(Ordering::Relaxed), UNSET);
        // Idle for longer than the header timeout: still kept.
        assert_eq!(
            c.verdict(idle_since + 60_000, &LIMITS, false),
            Verdict::Keep
        );
        assert_eq!(
            c.verdict(idle_since + 75_000, &LIMITS, false),
            Verdict::Close(Close::IdleTimeout)
        );
        // The next request's first byte starts the header timer.
        c.request_started
            .store(idle_since + 70_000, Ordering::Relaxed);
        assert_eq!(
            c.verdict(idle_since + 79_000, &LIMITS, false),
            Verdict::Keep
        );
        assert_eq!(
            c.verdict(idle_since + 80_000, &LIMITS, false),
            Verdict::Close(Close::HeaderTimeout)
        );
    }

    #[test]
    fn a_request_in_flight_is_never_closed_only_drained_unless_its_client_stops_reading() {
        let c = conn();
        let request = Requests(c.clone()).begin();
        assert_eq!(
            at(&c, 3600),
            Verdict::Keep,
            "slow processing is not a timeout"
        );
        c.shed.store(true, Ordering::Relaxed);
        assert_eq!(at(&c, 3600), Verdict::Drain);
        assert_eq!(c.verdict(3_600_000, &LIMITS, true), Verdict::Drain);
        c.draining.store(true, Ordering::Relaxed);
        assert_eq!(at(&c, 3600), Verdict::Keep, "already draining");
        c.write_outcome::<usize>(&Poll::Pending);
        let blocked = c.write_blocked_since.load(Ordering::Relaxed);
        assert_eq!(
            c.verdict(blocked + 60_000, &LIMITS, false),
            Verdict::Close(Close::SendTimeout)
        );
        c.write_outcome(&Poll::Ready(Ok(1usize)));
        assert_eq!(c.verdict(blocked + 60_000, &LIMITS, false), Verdict::Keep);
        drop(request);
        assert_eq!(at(&c, 1), Verdict::Close(Close::Shed));
    }

    #[test]
    fn response_bytes_still_unwritten_keep_a_connection_busy() {
        let c = conn();
        drop(Requests(c.clone()).begin());
        c.write_outcome::<usize>(&Poll::Pending);
        assert!(!c.is_idle());
        assert_eq!(
            c.verdict(UNSET - 1, &LIMITS, true),
            Verdict::Close(Close::SendTimeout)
        );
        c.write_outcome(&Poll::Ready(Ok(1usize)));
        assert!(c.is_idle());
        assert_eq!(c.verdict(0, &LIMITS, true), Verdict::Close(Close::Shutdown));
    }

    /// A body that never sends anything.
    struct Silent;

    impl Body for Silent {
        type Data = Bytes;
        type Error = std::convert::Infallible;
        fn poll_frame(
            self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
            Poll::Pending
        }
    }

    #[tokio::test]
    async fn a_silent_body_fails_after_the_body_read_timeout_and_marks_the_request() {
        let c = conn();
        let request = Requests(c.clone()).begin();
        let err = request.timed(Silent).collect().await.expect_err("stalls");
        assert!(matches!(err, BodyReadError::Stalled(_)));
        assert!(request.body_stalled());
        assert_eq!(c.counters.body_timeouts.load(Ordering::Relaxed), 1);
        // The next request on the connection starts clean.
        drop(request);
        assert!(!Requests(c.clone()).begin().body_stalled());
    }

    #[tokio::test]
    async fn a_body_that_arrives_passes_through() {
        let request = Requests(conn()).begin();
        let body = request.timed(http_body_util::Full::new(Bytes::from_static(b"hello")));
        let bytes = body.collect().await.expect("arrives").to_bytes();
        assert_eq!(&bytes[..], b"hello");
        assert!(!request.body_stalled());
    }

    #[test]
    fn flags_default_to_the_documented_values() {
        #[derive(Parser)]
        struct Cli {
            #[command(flatten)]
            conn: ConnArgs,
        }
        let cli = Cli::try_parse_from(["up"]).expect("defaults parse");
        assert_eq!(cli.conn.header_read_timeout, Duration::from_secs(10));
        assert_eq!(cli.conn.body_read_timeout, Duration::from_secs(10));
        assert_eq!(cli.conn.idle_timeout, Duration::from_secs(75));
        assert_eq!(cli.conn.send_timeout, Duration::from_secs(60));
        assert_eq!(cli.conn.max_connections, None);
        let limits = cli.conn.resolve(Duration::from_secs(30)).expect("resolves");
        assert!((1..=10_000).contains(&limits.max_connections));
        assert_eq!(
            limits.for_admin().max_connections,
            64.min(limits.max_connections)
        );
    }
}
