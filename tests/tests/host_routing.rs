//! Requests reach components by Spin's route rules, with the Spin request
//! headers components rely on; unrouted paths get a JSON 404 from the host.

mod host_support;

use host_support::{misbehave_app, start_misbehave};

fn header_lines(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn header<'a>(lines: &'a [(String, String)], name: &str) -> Vec<&'a str> {
    lines
        .iter()
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn a_wildcard_route_passes_spin_headers_and_strips_spoofed_ones() {
    let app = misbehave_app("/mb/...", "");
    let host = start_misbehave(&app, "/mb/ok", &[]);
    let resp = host.request(
        "GET",
        "/mb/headers?x=1",
        &[
            ("spin-client-addr", "6.6.6.6:1"),
            ("spin-path-info", "/forged"),
        ],
        None,
    );
    assert_eq!(resp.status, 200);
    let lines = header_lines(&resp.text());
    assert_eq!(header(&lines, "spin-path-info"), ["/headers"]);
    assert_eq!(header(&lines, "spin-matched-route"), ["/mb/..."]);
    assert_eq!(header(&lines, "spin-raw-component-route"), ["/mb/..."]);
    assert_eq!(header(&lines, "spin-component-route"), ["/mb"]);
    assert_eq!(header(&lines, "spin-base-path"), ["/"]);
    let port = host.port();
    assert_eq!(
        header(&lines, "spin-full-url"),
        [format!("http://127.0.0.1:{port}/mb/headers?x=1").as_str()]
    );
    let client = header(&lines, "spin-client-addr");
    assert_eq!(client.len(), 1);
    assert!(client[0].starts_with("127.0.0.1:"), "{client:?}");
}

#[test]
fn a_path_no_route_matches_gets_a_json_404_from_the_host() {
    let app = misbehave_app("/mb/...", "");
    let host = start_misbehave(&app, "/mb/ok", &[]);
    assert_eq!(
        host.get("/mb").status,
        404,
        "the component's own 404 for its base path"
    );
    for path in ["/mbx", "/", "/other/ok"] {
        let resp = host.get(path);
        assert_eq!(resp.status, 404, "{path}");
        assert_eq!(resp.json()["error"]["code"], "not_found", "{path}");
    }
}

#[test]
fn a_request_without_a_host_header_gets_a_json_400_not_a_500() {
    use std::io::{Read, Write};
    let app = misbehave_app("/mb/...", "");
    let host = start_misbehave(&app, "/mb/ok", &[]);
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", host.port())).expect("connect");
    // HTTP/1.0 allows a request without Host; WASI HTTP cannot take one.
    stream
        .write_all(b"GET /mb/ok HTTP/1.0\r\n\r\n")
        .expect("send request");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("read answer");
    assert!(answer.starts_with("HTTP/1.0 400"), "{answer}");
    assert!(answer.contains(r#""code":"bad_request""#), "{answer}");
    assert_eq!(host.get("/mb/ok").status, 200, "the host keeps serving");
}
