//! Content negotiation: which encoding to send (Accept-Encoding) and whether the
//! client wants an HTML page (Accept), both with RFC 9110 quality values.

/// A content coding this component can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Identity,
    Gzip,
    Br,
}

impl Coding {
    /// The `Content-Encoding` value, `None` for identity.
    pub fn header_value(self) -> Option<&'static str> {
        match self {
            Coding::Identity => None,
            Coding::Gzip => Some("gzip"),
            Coding::Br => Some("br"),
        }
    }
}

/// The coding to send given the request's Accept-Encoding and what the file has.
/// The highest quality wins, a tie goes to brotli (smaller), q=0 means "never", and
/// identity is the answer when nothing better is acceptable (or the header is absent).
pub fn choose_coding(accept_encoding: Option<&str>, has_gzip: bool, has_br: bool) -> Coding {
    let Some(header) = accept_encoding else {
        return Coding::Identity;
    };
    let mut br = None;
    let mut gzip = None;
    let mut star = None;
    for (name, q) in items(header) {
        let slot = match name.to_ascii_lowercase().as_str() {
            "br" => &mut br,
            "gzip" | "x-gzip" => &mut gzip,
            "*" => &mut star,
            _ => continue,
        };
        *slot = Some(slot.map_or(q, |old: u16| old.max(q)));
    }
    let br_q = if has_br { br.or(star).unwrap_or(0) } else { 0 };
    let gzip_q = if has_gzip {
        gzip.or(star).unwrap_or(0)
    } else {
        0
    };
    match (br_q, gzip_q) {
        (0, 0) => Coding::Identity,
        (b, g) if b >= g => Coding::Br,
        _ => Coding::Gzip,
    }
}

/// Whether a client with this Accept header takes an HTML page; the most specific
/// matching range decides (`text/html;q=0, */*` refuses HTML). No header means yes.
pub fn accepts_html(accept: Option<&str>) -> bool {
    let Some(header) = accept else {
        return true;
    };
    let mut best: Option<(u8, u16)> = None; // (specificity, q)
    for (range, q) in items(header) {
        let specificity = match range.to_ascii_lowercase().as_str() {
            "text/html" | "application/xhtml+xml" => 3,
            "text/*" => 2,
            "*/*" => 1,
            _ => continue,
        };
        if best.is_none_or(|(s, _)| specificity > s) {
            best = Some((specificity, q));
        }
    }
    best.is_some_and(|(_, q)| q > 0)
}

/// The `name;q=..` items of a comma-separated header, with q in thousandths (1000 when
/// absent). Items with an unreadable q are dropped: better ignored than misread.
fn items(header: &str) -> impl Iterator<Item = (&str, u16)> {
    header.split(',').filter_map(|item| {
        let mut parts = item.split(';');
        let name = parts.next()?.trim();
        if name.is_empty() {
            return None;
        }
        let mut q = 1000;
        for param in parts {
            let (key, value) = param.split_once('=')?;
            if key.trim().eq_ignore_ascii_case("q") {
                q = qvalue(value.trim())?;
            }
        }
        Some((name, q))
    })
}

/// RFC 9110 `qvalue` (`0`, `0.5`, `1.000`, ...) in thousandths.
fn qvalue(s: &str) -> Option<u16> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_value = frac
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |acc, b| acc * 10 + u16::from(b - b'0'));
    match int {
        "0" => Some(frac_value),
        "1" if frac_value == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qvalues_parse_in_thousandths() {
        assert_eq!(qvalue("1"), Some(1000));
        assert_eq!(qvalue("1.000"), Some(1000));
        assert_eq!(qvalue("0"), Some(0));
        assert_eq!(qvalue("0.5"), Some(500));
        assert_eq!(qvalue("0.123"), Some(123));
        assert_eq!(qvalue("0."), Some(0));
        assert_eq!(qvalue("1.5"), None);
        assert_eq!(qvalue("2"), None);
        assert_eq!(qvalue("0.1234"), None);
        assert_eq!(qvalue("-1"), None);
        assert_eq!(qvalue(""), None);
    }

    #[test]
    fn brotli_is_preferred_when_both_are_equally_acceptable() {
        assert_eq!(
            choose_coding(Some("gzip, deflate, br, zstd"), true, true),
            Coding::Br
        );
        assert_eq!(choose_coding(Some("*"), true, true), Coding::Br);
    }

    #[test]
    fn higher_quality_wins_over_the_brotli_preference() {
        assert_eq!(
            choose_coding(Some("br;q=0.5, gzip"), true, true),
            Coding::Gzip
        );
        assert_eq!(
            choose_coding(Some("br;q=0.9, gzip;q=0.8"), true, true),
            Coding::Br
        );
    }

    #[test]
    fn q_zero_forbids_a_coding_even_under_a_wildcard() {
        assert_eq!(
            choose_coding(Some("br;q=0, gzip"), true, true),
            Coding::Gzip
        );
        assert_eq!(choose_coding(Some("*, br;Q=0"), true, true), Coding::Gzip);
        assert_eq!(choose_coding(Some("*;q=0"), true, true), Coding::Identity);
        assert_eq!(
            choose_coding(Some("br;q=0, gzip;q=0"), true, true),
            Coding::Identity
        );
    }

    #[test]
    fn only_encodings_the_file_has_are_chosen() {
        assert_eq!(choose_coding(Some("br, gzip"), true, false), Coding::Gzip);
        assert_eq!(choose_coding(Some("br"), true, false), Coding::Identity);
        assert_eq!(
            choose_coding(Some("br, gzip"), false, false),
            Coding::Identity
        );
    }

    #[test]
    fn absent_empty_or_unknown_accept_encoding_gets_identity() {
        assert_eq!(choose_coding(None, true, true), Coding::Identity);
        assert_eq!(choose_coding(Some(""), true, true), Coding::Identity);
        assert_eq!(
            choose_coding(Some("identity"), true, true),
            Coding::Identity
        );
        assert_eq!(
            choose_coding(Some("deflate, zstd"), true, true),
            Coding::Identity
        );
    }

    #[test]
    fn coding_names_are_case_insensitive_and_x_gzip_is_gzip() {
        assert_eq!(choose_coding(Some("GZIP"), true, true), Coding::Gzip);
        assert_eq!(choose_coding(Some("x-gzip"), true, true), Coding::Gzip);
        assert_eq!(choose_coding(Some(" Br ; q=1 "), true, true), Coding::Br);
    }

    #[test]
    fn unreadable_quality_drops_the_item() {
        assert_eq!(
            choose_coding(Some("br;q=high, gzip"), true, true),
            Coding::Gzip
        );
        assert_eq!(choose_coding(Some("br;q"), true, true), Coding::Identity);
    }

    #[test]
    fn browsers_and_bare_clients_accept_html() {
        assert!(accepts_html(None));
        assert!(accepts_html(Some(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(accepts_html(Some("*/*")));
        assert!(accepts_html(Some("text/*")));
    }

    #[test]
    fn clients_asking_for_other_types_do_not_get_html() {
        assert!(!accepts_html(Some("application/json")));
        assert!(!accepts_html(Some("image/avif,image/webp")));
        assert!(!accepts_html(Some("")));
    }

    #[test]
    fn the_most_specific_range_decides() {
        assert!(!accepts_html(Some("text/html;q=0, */*")));
        assert!(accepts_html(Some("*/*;q=0, text/html")));
        assert!(!accepts_html(Some("*/*;q=0")));
    }
}
