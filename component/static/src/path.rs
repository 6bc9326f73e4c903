//! Turns a request target into the key of the embedded table, or refuses it.
//!
//! Nothing is resolved against a file system, so "escaping" can only mean reaching a
//! key through an unusual spelling. To keep that impossible the normaliser refuses
//! every spelling that a file server might interpret (dot segments, empty segments,
//! encoded or back slashes, control bytes) instead of rewriting it.

use std::fmt;

/// Why a request path was refused; every case is a 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathError {
    NotAbsolute,
    BadPercentEncoding,
    NotUtf8,
    /// A decoded `/` or `\`, a NUL or another control character.
    ForbiddenCharacter,
    /// A `.` or `..` segment, raw or percent-encoded.
    DotSegment,
    /// `//` anywhere but a trailing slash.
    EmptySegment,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathError::NotAbsolute => "the request path must start with '/'",
            PathError::BadPercentEncoding => "the request path has a malformed percent-encoding",
            PathError::NotUtf8 => "the request path is not UTF-8",
            PathError::ForbiddenCharacter => {
                "the request path holds an encoded slash, a backslash or a control character"
            }
            PathError::DotSegment => "the request path holds a '.' or '..' segment",
            PathError::EmptySegment => "the request path holds an empty segment",
        })
    }
}

/// The decoded path of a request target (`/a/b?q` -> `/a/b`), query dropped.
pub fn normalise(target: &str) -> Result<String, PathError> {
    let raw = target.split(['?', '#']).next().unwrap_or_default();
    let rest = raw.strip_prefix('/').ok_or(PathError::NotAbsolute)?;
    let segments: Vec<&str> = rest.split('/').collect();
    let last = segments.len() - 1;
    let mut out = String::with_capacity(raw.len());
    for (i, raw_segment) in segments.into_iter().enumerate() {
        let segment = decode_segment(raw_segment)?;
        if segment.is_empty() && i != last {
            return Err(PathError::EmptySegment);
        }
        if segment == "." || segment == ".." {
            return Err(PathError::DotSegment);
        }
        out.push('/');
        out.push_str(&segment);
    }
    Ok(out)
}

fn decode_segment(raw: &str) -> Result<String, PathError> {
    let bytes = raw.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .ok_or(PathError::BadPercentEncoding)?;
            let b = (hex_value(hex[0])? << 4) | hex_value(hex[1])?;
            i += 3;
            b
        } else {
            i += 1;
            bytes[i - 1]
        };
        if b == b'/' || b == b'\\' || b < 0x20 || b == 0x7f {
            return Err(PathError::ForbiddenCharacter);
        }
        decoded.push(b);
    }
    String::from_utf8(decoded).map_err(|_| PathError::NotUtf8)
}

fn hex_value(b: u8) -> Result<u8, PathError> {
    match b {
        b'0'..=b'9' => Ok(b - b'0'),
        b'a'..=b'f' => Ok(b - b'a' + 10),
        b'A'..=b'F' => Ok(b - b'A' + 10),
        _ => Err(PathError::BadPercentEncoding),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_pass_through_without_query() {
        assert_eq!(normalise("/").as_deref(), Ok("/"));
        assert_eq!(normalise("/index.html").as_deref(), Ok("/index.html"));
        assert_eq!(
            normalise("/assets/index-B2x9.js?v=1#frag").as_deref(),
            Ok("/assets/index-B2x9.js")
        );
        assert_eq!(normalise("/?x=/../").as_deref(), Ok("/"));
    }

    #[test]
    fn percent_encoding_is_decoded_including_utf8() {
        assert_eq!(normalise("/a%20b").as_deref(), Ok("/a b"));
        assert_eq!(normalise("/caf%C3%A9").as_deref(), Ok("/café"));
        assert_eq!(normalise("/%69ndex.html").as_deref(), Ok("/index.html"));
    }

    #[test]
    fn trailing_slash_is_kept_as_an_empty_last_segment() {
        assert_eq!(normalise("/courses/").as_deref(), Ok("/courses/"));
    }

    #[test]
    fn dot_segments_are_refused_raw_or_encoded() {
        for p in [
            "/../Cargo.toml",
            "/assets/../index.html",
            "/./index.html",
            "/%2e%2e/",
            "/%2E%2E/Cargo.toml",
            "/.%2e/x",
            "/assets/..",
            "/..",
        ] {
            assert_eq!(normalise(p), Err(PathError::DotSegment), "{p}");
        }
    }

    #[test]
    fn encoded_slashes_backslashes_and_control_bytes_are_refused() {
        for p in [
            "/assets/..%2f..%2fspin.toml",
            "/assets%2Findex.html",
            "/a%5cb",
            "/a\\b",
            "/..\\Cargo.toml",
            "/index.html%00.js",
            "/a%0Ab",
            "/a%7Fb",
        ] {
            assert_eq!(normalise(p), Err(PathError::ForbiddenCharacter), "{p}");
        }
    }

    #[test]
    fn empty_segments_are_refused() {
        assert_eq!(normalise("//etc/passwd"), Err(PathError::EmptySegment));
        assert_eq!(normalise("/assets//x.js"), Err(PathError::EmptySegment));
    }

    #[test]
    fn malformed_targets_are_refused() {
        assert_eq!(normalise(""), Err(PathError::NotAbsolute));
        assert_eq!(normalise("index.html"), Err(PathError::NotAbsolute));
        assert_eq!(normalise("*"), Err(PathError::NotAbsolute));
        assert_eq!(normalise("/a%"), Err(PathError::BadPercentEncoding));
        assert_eq!(normalise("/a%2"), Err(PathError::BadPercentEncoding));
        assert_eq!(normalise("/a%zz"), Err(PathError::BadPercentEncoding));
        assert_eq!(normalise("/%C3%28"), Err(PathError::NotUtf8));
        assert_eq!(normalise("/%FF"), Err(PathError::NotUtf8));
    }
}
