//! The accept loop the HTTP and admin listeners share.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::conn_limits::{Conn, TrackedStream, Tracker, WARN_EVERY};

/// After a failed accept (typically EMFILE or ENOMEM: resources exhausted) the loop
/// pauses, doubling from the first to the last value while failures continue (as Go's
/// `net/http` does), so it neither spins nor waits long once resources are back.
const BACKOFF_FIRST: Duration = Duration::from_millis(5);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// Hands every accepted connection the tracker admits to `on_conn` until `shutdown`
/// resolves.
pub async fn accept_until(
    listener: &TcpListener,
    tracker: &Arc<Tracker>,
    shutdown: impl Future<Output = ()>,
    mut on_conn: impl FnMut(TokioIo<TrackedStream>, Conn, SocketAddr),
) {
    tokio::pin!(shutdown);
    let mut backoff: Option<Duration> = None;
    let mut log = ErrorLog::default();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    backoff = None;
                    if let Some((io, conn)) = tracker.admit(stream) {
                        on_conn(io, conn, peer);
                    }
                    tokio::select! {
                        () = tracker.wait_for_room() => {}
                        () = &mut shutdown => break,
                    }
                }
                Err(e) => {
                    tracker.counters().accept_failed();
                    log.failed(tracker.listener(), &e);
                    let pause = backoff.map_or(BACKOFF_FIRST, |b| (b * 2).min(BACKOFF_MAX));
                    backoff = Some(pause);
                    tokio::select! {
                        () = tokio::time::sleep(pause) => {}
                        () = &mut shutdown => break,
                    }
                }
            },
            () = &mut shutdown => break,
        }
    }
}

/// Logs accept failures at most once per `WARN_EVERY`, with the count of those not
/// logged in between: under fd exhaustion they come by the thousand.
#[derive(Default)]
struct ErrorLog {
    last: Option<Instant>,
    unlogged: u64,
}

impl ErrorLog {
    fn failed(&mut self, listener: &str, error: &std::io::Error) {
        let now = Instant::now();
        if self
            .last
            .is_some_and(|last| now.duration_since(last) < WARN_EVERY)
        {
            self.unlogged += 1;
            return;
        }
        tracing::warn!(
            listener,
            %error,
            not_logged_since_last = self.unlogged,
            "accept failed; backing off"
        );
        self.last = Some(now);
        self.unlogged = 0;
    }
}
