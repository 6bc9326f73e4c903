//! `If-None-Match` evaluation (RFC 9110 13.1.2): weak comparison over a list of
//! entity tags, or `*`.

/// Whether `if_none_match` matches `etag` (a quoted strong tag), i.e. whether the
/// client's copy is current and a 304 is the answer. A malformed list matches
/// nothing from the first bad item on, so the client gets the full response.
pub fn none_match(if_none_match: &str, etag: &str) -> bool {
    let value = if_none_match.trim();
    if value == "*" {
        return true;
    }
    let ours = opaque(etag);
    let mut rest = value;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            return false;
        }
        let tag = rest.strip_prefix("W/").unwrap_or(rest);
        let Some(tag) = tag.strip_prefix('"') else {
            return false;
        };
        let Some(end) = tag.find('"') else {
            return false;
        };
        if Some(&tag[..end]) == ours {
            return true;
        }
        rest = &tag[end + 1..];
        if !rest.is_empty() && !rest.starts_with([' ', '\t', ',']) {
            return false;
        }
    }
}

/// The opaque part of a tag: `W/"x"` and `"x"` both give `x`.
fn opaque(tag: &str) -> Option<&str> {
    let tag = tag.strip_prefix("W/").unwrap_or(tag);
    tag.strip_prefix('"')?.strip_suffix('"')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: &str = "\"abc123\"";

    #[test]
    fn identical_tag_matches() {
        assert!(none_match("\"abc123\"", TAG));
    }

    #[test]
    fn star_matches_any_current_representation() {
        assert!(none_match("*", TAG));
        assert!(none_match(" * ", TAG));
    }

    #[test]
    fn weak_comparison_ignores_the_weak_prefix() {
        assert!(none_match("W/\"abc123\"", TAG));
    }

    #[test]
    fn any_tag_of_a_list_matches() {
        assert!(none_match("\"old\", \"abc123\"", TAG));
        assert!(none_match("\"old\",W/\"abc123\"", TAG));
        assert!(none_match("\"a,b\" , \"abc123\"", TAG));
    }

    #[test]
    fn different_or_unquoted_tags_do_not_match() {
        assert!(!none_match("\"abc1234\"", TAG));
        assert!(!none_match("\"abc123-gz\"", TAG));
        assert!(!none_match("abc123", TAG));
        assert!(!none_match("w/\"abc123\"", TAG));
        assert!(!none_match("", TAG));
        assert!(!none_match("\"abc123", TAG));
    }

    #[test]
    fn garbage_before_a_tag_stops_the_match() {
        assert!(!none_match("\"old\"x \"abc123\"", TAG));
        assert!(!none_match("junk, \"abc123\"", TAG));
    }
}
