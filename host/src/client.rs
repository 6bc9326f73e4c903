//! A one-shot HTTP/1 client: one request on a fresh connection, the whole answer
//! read. Used by hot swap's smoke request and the admin CLI subcommands.

use bytes::Bytes;
use http::{Request, StatusCode};
use http_body_util::{BodyExt as _, Full};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpStream, ToSocketAddrs};

/// Sends `request` to `addr` and returns the status and the body.
pub async fn send(
    addr: impl ToSocketAddrs,
    request: Request<Full<Bytes>>,
) -> anyhow::Result<(StatusCode, Bytes)> {
    let stream = TcpStream::connect(addr).await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    let conn = tokio::spawn(conn);
    let response = sender.send_request(request).await?;
    let status = response.status();
    let body = response.into_body().collect().await?.to_bytes();
    drop(sender);
    let _ = conn.await;
    Ok((status, body))
}
