//! Per-request limits: wall-clock time (epoch interruption), linear memory
//! (store limits, set in `host_state`) and request body size.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use wasmtime::{Engine, Store, UpdateDeadline};

/// How often the epoch advances: the granularity of the request timeout, and how
/// often a busy guest yields its thread back to the runtime.
pub const EPOCH_PERIOD: Duration = Duration::from_millis(20);

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub request_timeout: Duration,
    pub max_memory: usize,
    pub max_body: u64,
}

/// Advances the engine's epoch on a plain thread until dropped.
pub struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub fn start(engine: Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("epoch-ticker".into())
            .spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::thread::sleep(EPOCH_PERIOD);
                    engine.increment_epoch();
                }
            })
            .ok();
        Self { stop, thread }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Guest code yields at every epoch tick (so a spinning guest cannot hog a runtime
/// thread) and traps with `Trap::Interrupt` once the deadline has passed.
pub fn arm_deadline<T>(store: &mut Store<T>, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    store.epoch_deadline_callback(move |_| {
        if Instant::now() >= deadline {
            Ok(UpdateDeadline::Interrupt)
        } else {
            Ok(UpdateDeadline::Yield(1))
        }
    });
    store.set_epoch_deadline(1);
}

/// A request body that fails once more than `limit` bytes have arrived, for
/// bodies whose size was not declared up front.
pub struct LimitedBody<B> {
    inner: B,
    remaining: u64,
    limit: u64,
}

impl<B> LimitedBody<B> {
    pub fn new(inner: B, limit: u64) -> Self {
        Self {
            inner,
            remaining: limit,
            limit,
        }
    }
}

impl<B> Body for LimitedBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<wasmtime_wasi_http::Error>,
{
    type Data = Bytes;
    type Error = wasmtime_wasi_http::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                let len = frame.data_ref().map_or(0, |d| d.len() as u64);
                if len > self.remaining {
                    self.remaining = 0;
                    return Poll::Ready(Some(Err(wasmtime_wasi_http::Error::HttpRequestBodySize(
                        Some(self.limit),
                    ))));
                }
                self.remaining -= len;
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => Poll::Ready(None),
            Poll::Pending => Poll::Pending,
        }
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
    use http_body_util::{BodyExt as _, Full, StreamBody};

    #[tokio::test]
    async fn body_within_the_limit_passes_through() {
        let body = LimitedBody::new(Full::new(Bytes::from_static(b"hello")), 5);
        let bytes = body.collect().await.expect("within limit").to_bytes();
        assert_eq!(&bytes[..], b"hello");
    }

    #[tokio::test]
    async fn streamed_body_over_the_limit_fails_while_streaming() {
        let chunks = (0..4).map(|_| {
            Ok::<_, std::convert::Infallible>(Frame::data(Bytes::from_static(&[0u8; 10])))
        });
        let body = LimitedBody::new(StreamBody::new(futures_stream(chunks)), 25);
        let err = body.collect().await.expect_err("over the limit");
        assert!(matches!(
            err,
            wasmtime_wasi_http::Error::HttpRequestBodySize(Some(25))
        ));
    }

    fn futures_stream<I: Iterator + Unpin>(
        iter: I,
    ) -> impl futures_core::Stream<Item = I::Item> + Unpin {
        struct It<I>(I);
        impl<I: Iterator + Unpin> futures_core::Stream for It<I> {
            type Item = I::Item;
            fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<I::Item>> {
                Poll::Ready(self.0.next())
            }
        }
        It(iter)
    }
}
