//! hyper in front of `skilltrack_api::handle`: the request is read whole, handled
//! on tokio's blocking pool (SQLite calls block), and answered whole.

use std::convert::Infallible;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::pool::BackendPool;

/// Bodies above this are refused before they reach the handlers.
const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

pub async fn serve(listener: TcpListener, pool: BackendPool) -> anyhow::Result<()> {
    let mut sigterm = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = sigterm.recv() => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let pool = pool.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| answer(pool.clone(), req));
            // A client that goes away mid-request is not an error of the server.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn answer(
    pool: BackendPool,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return Ok(error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                "request body is over the limit",
            ));
        }
    };
    let mut api_req = skilltrack_api::Request::new(
        parts.method.as_str(),
        parts.uri.path_and_query().map_or("/", |pq| pq.as_str()),
    );
    for (name, value) in &parts.headers {
        if let Ok(value) = value.to_str() {
            api_req = api_req.with_header(name.as_str(), value);
        }
    }
    let api_req = api_req.with_body(body.to_vec());
    let reads_only = matches!(api_req.method.as_str(), "GET" | "HEAD");
    let handled = tokio::task::spawn_blocking(move || {
        let backend = pool.take()?;
        let _writer = (!reads_only).then(|| pool.writer());
        let response = skilltrack_api::handle(&backend, api_req);
        pool.put_back(backend);
        anyhow::Ok(response)
    })
    .await;
    Ok(match handled {
        Ok(Ok(resp)) => to_hyper(resp),
        Ok(Err(e)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            &format!("database unavailable: {e}"),
        ),
        Err(_) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the handler panicked",
        ),
    })
}

fn to_hyper(resp: skilltrack_api::Response) -> Response<Full<Bytes>> {
    let mut out = Response::new(Full::new(Bytes::from(resp.body)));
    *out.status_mut() =
        StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in resp.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(&value),
        ) {
            out.headers_mut().append(name, value);
        }
    }
    out
}

fn error(status: StatusCode, code: &str, message: &str) -> Response<Full<Bytes>> {
    let body = format!(
        "{{\"error\":{{\"code\":\"{code}\",\"message\":{}}}}}",
        json_string(message)
    );
    let mut out = Response::new(Full::new(Bytes::from(body)));
    *out.status_mut() = status;
    out.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    out
}

/// A JSON string literal (the messages here are our own, but quote them properly).
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
