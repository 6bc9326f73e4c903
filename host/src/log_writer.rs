//! Where log lines go: formatted where they happen, appended to a shared buffer, and
//! written to stderr by a thread of its own a few milliseconds later, many lines per
//! `write`. A request never waits for stderr and, under load, costs no system call of
//! its own for its access-log line; a quiet host still shows each line within
//! [`FLUSH_DELAY`]. Nothing is dropped: past [`MAX_PENDING`] the logging thread
//! writes the buffer out itself.

use std::io::Write;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use tracing::{Level, Metadata};
use tracing_subscriber::fmt::MakeWriter;

/// The events that may wait: info and below from the request path (the access log).
const DEFERRED_TARGET: &str = "tracker_host::server";

/// How long a line may wait for the lines after it.
const FLUSH_DELAY: Duration = Duration::from_millis(10);
/// Pending bytes past which the thread that logs writes them out at once.
const MAX_PENDING: usize = 256 << 10;

#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    closed: bool,
}

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    wake: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The `MakeWriter` for the fmt subscriber.
#[derive(Clone)]
pub struct LogWriter(Arc<Shared>);

/// Writes out what is pending and stops the writer thread when dropped: hold it
/// until the end of `main`.
pub struct FlushGuard {
    shared: Arc<Shared>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// The writer and its guard; spawns the thread that writes to stderr.
pub fn stderr() -> (LogWriter, FlushGuard) {
    let shared = Arc::new(Shared::default());
    let for_thread = shared.clone();
    let thread = std::thread::Builder::new()
        .name("log-writer".into())
        .spawn(move || write_out(&for_thread))
        .ok();
    if thread.is_none() {
        // No thread: lines are written by whoever logs them.
        shared.lock().closed = true;
    }
    (LogWriter(shared.clone()), FlushGuard { shared, thread })
}

fn write_out(shared: &Shared) {
    let mut out = Vec::new();
    loop {
        let closed = {
            let mut pending = shared.lock();
            while pending.bytes.is_empty() && !pending.closed {
                pending = shared.wake.wait(pending).unwrap_or_else(|e| e.into_inner());
            }
            pending.closed
        };
        if !closed {
            // Let the lines of the next few milliseconds join this write.
            std::thread::sleep(FLUSH_DELAY);
        }
        std::mem::swap(&mut out, &mut shared.lock().bytes);
        let _ = std::io::stderr().lock().write_all(&out);
        out.clear();
        if closed {
            return;
        }
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        self.shared.lock().closed = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // Anything logged after the thread's last write.
        let rest = std::mem::take(&mut self.shared.lock().bytes);
        let _ = std::io::stderr().lock().write_all(&rest);
    }
}

/// One event's line (the fmt subscriber writes each event with one `write_all`).
pub struct Line<'a> {
    shared: &'a Shared,
    deferred: bool,
}

impl Write for Line<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let mut pending = self.shared.lock();
        if pending.closed || !self.deferred {
            // Under the lock, after what is pending, so lines keep their order.
            let mut out = std::mem::take(&mut pending.bytes);
            out.extend_from_slice(buf);
            std::io::stderr().lock().write_all(&out)?;
            return Ok(buf.len());
        }
        let was_empty = pending.bytes.is_empty();
        pending.bytes.extend_from_slice(buf);
        if pending.bytes.len() >= MAX_PENDING {
            let full = std::mem::take(&mut pending.bytes);
            // Written under the lock, so lines keep their order.
            let _ = std::io::stderr().lock().write_all(&full);
        } else if was_empty {
            self.shared.wake.notify_one();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for LogWriter {
    type Writer = Line<'a>;

    fn make_writer(&'a self) -> Line<'a> {
        Line {
            shared: &self.0,
            deferred: false,
        }
    }

    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> Line<'a> {
        Line {
            shared: &self.0,
            deferred: *meta.level() >= Level::INFO && meta.target() == DEFERRED_TARGET,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_arrive_in_order_and_all_of_them() {
        let shared = Shared::default();
        let mut line = Line {
            shared: &shared,
            deferred: true,
        };
        for i in 0..1000 {
            line.write_all(format!("line {i}\n").as_bytes())
                .expect("write");
        }
        let text = String::from_utf8(shared.lock().bytes.clone()).expect("utf8");
        let expected: String = (0..1000).map(|i| format!("line {i}\n")).collect();
        assert_eq!(text, expected);
    }
}
