//! The `wasi:http/incoming-handler` export: reads the request into `serve::Request`,
//! writes `serve::Response` back. No decisions are taken here.

use crate::{embedded, serve};

wit_bindgen::generate!({
    path: "../../wit",
    world: "skilltrack:platform/static-site",
    generate_all,
});

use exports::wasi::http::incoming_handler::Guest;
use wasi::http::types::{
    Fields, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

/// `blocking-write-and-flush` accepts at most 4096 bytes per call.
const WRITE_CHUNK: usize = 4096;

struct Component;

impl Guest for Component {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let method = match request.method() {
            Method::Get => "GET".to_string(),
            Method::Head => "HEAD".to_string(),
            Method::Post => "POST".to_string(),
            Method::Put => "PUT".to_string(),
            Method::Delete => "DELETE".to_string(),
            Method::Patch => "PATCH".to_string(),
            Method::Options => "OPTIONS".to_string(),
            Method::Connect => "CONNECT".to_string(),
            Method::Trace => "TRACE".to_string(),
            Method::Other(other) => other,
        };
        let target = request.path_with_query().unwrap_or_default();
        let headers = request.headers();
        let accept = header(&headers, "accept");
        let accept_encoding = header(&headers, "accept-encoding");
        let if_none_match = header(&headers, "if-none-match");
        let response = serve::respond(
            &serve::Request {
                method: &method,
                target: &target,
                accept: accept.as_deref(),
                accept_encoding: accept_encoding.as_deref(),
                if_none_match: if_none_match.as_deref(),
            },
            embedded::ASSETS,
        );
        send(response, response_out);
    }
}

/// All values of a header joined as one list; values that are not UTF-8 are skipped
/// (none of the headers read here may contain such bytes).
fn header(fields: &Fields, name: &str) -> Option<String> {
    let values: Vec<String> = fields
        .get(name)
        .into_iter()
        .filter_map(|v| String::from_utf8(v).ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

fn send(response: serve::Response, out: ResponseOutparam) {
    let entries: Vec<(String, Vec<u8>)> = response
        .headers
        .into_iter()
        .map(|(name, value)| (name.to_string(), value.into_bytes()))
        .collect();
    let Ok(fields) = Fields::from_list(&entries) else {
        return fail(out);
    };
    let outgoing = OutgoingResponse::new(fields);
    if outgoing.set_status_code(response.status).is_err() {
        return fail(out);
    }
    // An empty body (HEAD, 304) is sent by never opening it, so the stated
    // content-length is not checked against zero written bytes.
    if response.body.is_empty() {
        ResponseOutparam::set(out, Ok(outgoing));
        return;
    }
    let Ok(body) = outgoing.body() else {
        return fail(out);
    };
    // The response goes out first so the host streams the body as it is written.
    ResponseOutparam::set(out, Ok(outgoing));
    let Ok(stream) = body.write() else {
        return;
    };
    for chunk in response.body.chunks(WRITE_CHUNK) {
        if stream.blocking_write_and_flush(chunk).is_err() {
            // The client went away; nothing left to tell it.
            return;
        }
    }
    drop(stream);
    let _ = OutgoingBody::finish(body, None);
}

fn fail(out: ResponseOutparam) {
    ResponseOutparam::set(
        out,
        Err(wasi::http::types::ErrorCode::InternalError(Some(
            "static component could not build the response".into(),
        ))),
    );
}

export!(Component);
