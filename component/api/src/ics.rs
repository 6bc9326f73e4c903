//! Writing iCalendar text (RFC 5545): TEXT values escaped, content lines folded at
//! 75 octets without ever cutting a UTF-8 sequence, CRLF line ends.
//!
//! Written here rather than taken from the `icalendar` crate: the feed needs a
//! dozen properties, and that crate (with its date-time dependencies) made a
//! comparable wasm32-wasip2 build about 43 KB larger. The output is checked
//! against a real parser (Python's `icalendar`) in the API scenario suite.

/// The longest content line, line break excluded (RFC 5545 section 3.1).
pub const MAX_LINE_OCTETS: usize = 75;

/// A TEXT value (RFC 5545 section 3.3.11): backslash, semicolon and comma escaped,
/// any line break (CRLF, LF or CR) written as `\n`. Other control characters may not
/// appear in TEXT at all, so they are dropped; a tab is kept.
pub fn escape_text(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + value.len() / 8);
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                // CRLF is one line break.
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Builds an iCalendar document line by line.
#[derive(Debug, Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    pub fn new() -> Writer {
        Writer::default()
    }

    /// One content line, `name` with its parameters (`DTSTART;VALUE=DATE`) and a
    /// value already in the form its type needs (see [`Writer::text`] for TEXT).
    pub fn line(&mut self, name: &str, value: &str) {
        let mut line = String::with_capacity(name.len() + 1 + value.len());
        line.push_str(name);
        line.push(':');
        line.push_str(value);
        fold_into(&line, &mut self.out);
    }

    /// A property whose value is TEXT, escaped.
    pub fn text(&mut self, name: &str, value: &str) {
        self.line(name, &escape_text(value));
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Appends `line` folded (RFC 5545 section 3.1): no physical line longer than 75
/// octets, each continuation starting with one space (which counts towards its
/// 75), every line ended by CRLF. A cut falls before a character, never inside it.
fn fold_into(line: &str, out: &mut String) {
    let mut rest = line;
    let mut room = MAX_LINE_OCTETS;
    while rest.len() > room {
        let mut cut = room;
        // A UTF-8 sequence is at most 4 octets, so this stops well above 0.
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n ");
        rest = &rest[cut..];
        room = MAX_LINE_OCTETS - 1;
    }
    out.push_str(rest);
    out.push_str("\r\n");
}

/// Undoes the folding: what a parser does first. For tests.
#[cfg(test)]
pub fn unfold(text: &str) -> String {
    text.replace("\r\n ", "").replace("\r\n\t", "")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn physical_lines(text: &str) -> Vec<&str> {
        assert!(text.ends_with("\r\n"), "every line ends with CRLF");
        let body = &text[..text.len() - 2];
        let lines: Vec<&str> = body.split("\r\n").collect();
        for l in &lines {
            assert!(
                !l.contains('\n') && !l.contains('\r'),
                "bare line break in {l:?}"
            );
        }
        lines
    }

    #[test]
    fn text_escapes_the_characters_rfc_5545_names() {
        assert_eq!(escape_text(r"a\b;c,d"), r"a\\b\;c\,d");
        assert_eq!(
            escape_text("one\ntwo\r\nthree\rfour"),
            r"one\ntwo\nthree\nfour"
        );
        assert_eq!(escape_text("tab\there"), "tab\there");
        assert_eq!(escape_text("bell\u{7}nul\u{0}del\u{7f}"), "bellnuldel");
        assert_eq!(escape_text("colon: fine 🎓"), "colon: fine 🎓");
    }

    #[test]
    fn short_lines_are_not_folded() {
        let mut w = Writer::new();
        w.line("SUMMARY", "short");
        assert_eq!(w.finish(), "SUMMARY:short\r\n");
    }

    #[test]
    fn a_line_of_exactly_75_octets_stays_whole_and_76_folds() {
        let mut w = Writer::new();
        w.line("X", &"a".repeat(73));
        assert_eq!(w.finish(), format!("X:{}\r\n", "a".repeat(73)));

        let mut w = Writer::new();
        w.line("X", &"a".repeat(74));
        let out = w.finish();
        assert_eq!(out, format!("X:{}\r\n a\r\n", "a".repeat(73)));
    }

    #[test]
    fn folding_never_splits_a_utf8_sequence_and_unfolds_to_the_original() {
        // Every alignment of 2-, 3- and 4-octet characters against the cut.
        for prefix in 0..8 {
            for ch in ["é", "€", "🎓", "👩‍💻"] {
                let value = format!("{}{}", "x".repeat(prefix), ch.repeat(60));
                let mut w = Writer::new();
                w.text("SUMMARY", &value);
                let out = w.finish();
                for (i, line) in physical_lines(&out).into_iter().enumerate() {
                    assert!(
                        line.len() <= MAX_LINE_OCTETS,
                        "{} octets: {line:?}",
                        line.len()
                    );
                    if i > 0 {
                        assert!(line.starts_with(' '), "continuation {line:?}");
                    }
                    // Each physical line is valid UTF-8 on its own (a &str slice).
                    assert!(std::str::from_utf8(line.as_bytes()).is_ok());
                }
                assert_eq!(unfold(&out), format!("SUMMARY:{value}\r\n"));
            }
        }
    }

    #[test]
    fn folded_lines_use_their_whole_room() {
        let mut w = Writer::new();
        w.line("X", &"b".repeat(300));
        let out = w.finish();
        let lines = physical_lines(&out);
        let (last, full) = lines.split_last().expect("lines");
        assert!(full.iter().all(|l| l.len() == MAX_LINE_OCTETS));
        assert!(last.len() <= MAX_LINE_OCTETS);
    }
}
