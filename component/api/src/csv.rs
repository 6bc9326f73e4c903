//! A small RFC 4180 reader and writer.
//!
//! Hand-written rather than the `csv` crate, because the import needs two things
//! csv 1.4 does not give (checked with `ReaderBuilder::new().has_headers(false)
//! .flexible(true)` and `StringRecord::position()`):
//! - the physical line on which every record starts, for row-level errors:
//!   `Position::line()` skips blank lines (in `records_know_the_line_they_start_on`'s
//!   text it puts `z,2` on line 4; it starts on line 5) and lone-CR line ends
//!   (every record of `"a\r\"x\",1"` is on line 1);
//! - a strict error on a broken quote: csv reads an unclosed quote to the end of
//!   the input as one field (`"open,b\n` → `open,b\n`) and joins text after a
//!   closing quote to the field (`"x"y` → `xy`), both without an error.
//!
//! It also takes a BOM, CRLF / LF / CR and a missing final newline.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 1-based line on which the record starts.
    pub line: usize,
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct CsvError {
    pub line: usize,
    pub message: String,
}

/// Parse CSV text into records, skipping blank lines. A leading UTF-8 BOM is
/// ignored.
pub fn parse(text: &str) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut chars = text.chars().peekable();
    let mut line = 1;
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut record_line = 1;
    let mut in_record = false;

    loop {
        let Some(c) = chars.next() else {
            if in_record {
                fields.push(std::mem::take(&mut field));
                records.push(Record {
                    line: record_line,
                    fields: std::mem::take(&mut fields),
                });
            }
            return Ok(records);
        };
        if !in_record {
            if c == '\n' || c == '\r' {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                line += 1;
                continue;
            }
            in_record = true;
            record_line = line;
        }
        match c {
            '"' if field.is_empty() => {
                let quote_line = line;
                // Quoted field: read to the closing quote.
                loop {
                    match chars.next() {
                        None => {
                            return Err(CsvError {
                                line: quote_line,
                                message: "a quoted field is never closed".into(),
                            });
                        }
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(ch) => {
                            if ch == '\n' || (ch == '\r' && chars.peek() != Some(&'\n')) {
                                line += 1;
                            }
                            field.push(ch);
                        }
                    }
                }
                match chars.peek() {
                    None | Some(',') | Some('\n') | Some('\r') => {}
                    Some(other) => {
                        return Err(CsvError {
                            line,
                            message: format!(
                                "unexpected {other:?} after a closing quote (quotes inside a quoted field are written \"\")"
                            ),
                        });
                    }
                }
            }
            ',' => fields.push(std::mem::take(&mut field)),
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                line += 1;
                fields.push(std::mem::take(&mut field));
                records.push(Record {
                    line: record_line,
                    fields: std::mem::take(&mut fields),
                });
                in_record = false;
            }
            other => field.push(other),
        }
    }
}

fn needs_quotes(field: &str) -> bool {
    field.contains([',', '"', '\r', '\n']) || field.starts_with(' ') || field.ends_with(' ')
}

/// Append one record, quoting fields only where needed, ending with CRLF
/// (as spreadsheet exports do).
pub fn write_record(out: &mut String, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if needs_quotes(f) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(text: &str) -> Vec<Vec<String>> {
        parse(text).unwrap().into_iter().map(|r| r.fields).collect()
    }

    #[test]
    fn quoted_fields_hold_commas_quotes_and_newlines() {
        let text = "a,\"b, c\",\"say \"\"hi\"\"\"\r\n1,\"two\nlines\",3\n";
        assert_eq!(
            fields(text),
            vec![
                vec!["a", "b, c", "say \"hi\""],
                vec!["1", "two\nlines", "3"]
            ]
        );
    }

    #[test]
    fn records_know_the_line_they_start_on() {
        let text = "h1,h2\n\"x\ny\",1\n\nz,2";
        let recs = parse(text).unwrap();
        assert_eq!(
            recs.iter().map(|r| r.line).collect::<Vec<_>>(),
            vec![1, 2, 5]
        );
    }

    #[test]
    fn bom_crlf_and_missing_final_newline_are_fine() {
        assert_eq!(
            fields("\u{feff}a,b\r\nc,"),
            vec![vec!["a", "b"], vec!["c", ""]]
        );
        assert_eq!(fields("a,\"\"\r\n"), vec![vec!["a", ""]]);
    }

    #[test]
    fn broken_quotes_are_errors_with_a_line() {
        assert_eq!(parse("a\n\"open,b\n").unwrap_err().line, 2);
        assert_eq!(parse("a\n\"x\"y,b\n").unwrap_err().line, 2);
    }

    #[test]
    fn writer_quotes_only_what_needs_it_and_round_trips() {
        let mut out = String::new();
        write_record(
            &mut out,
            &["1", "a, b", "say \"x\"", "line\nbreak", "plain", ""],
        );
        assert_eq!(
            out,
            "1,\"a, b\",\"say \"\"x\"\"\",\"line\nbreak\",plain,\r\n"
        );
        assert_eq!(
            fields(&out),
            vec![vec!["1", "a, b", "say \"x\"", "line\nbreak", "plain", ""]]
        );
    }
}
