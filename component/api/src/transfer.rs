//! Import (JSON backup or spreadsheet CSV) and export (JSON backup, CSV).

use crate::backend::Backend;
use crate::csv;
use crate::dates::{self, Date};
use crate::errors::{ApiError, ApiResult};
use crate::model::{self, Course, CourseFields};
use crate::settings;
use crate::store;
use crate::sync::{self, Stamps};
use serde::Serialize;
use serde_json::{Map, Value as Json, json};
use std::collections::{HashMap, HashSet};

pub const BACKUP_FORMAT: &str = "skilltrack-backup";
pub const BACKUP_FORMAT_VERSION: i64 = 1;
pub const MAX_IMPORT_ROWS: usize = 20_000;
pub const CSV_HEADER: [&str; 6] = [
    "Id",
    "Date",
    "Category",
    "Title",
    "Notes",
    "Completion ratio",
];

/// A problem with one row of an import; the row is not imported.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct RowError {
    /// CSV: the line the record starts on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// JSON: the position in `courses`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// Spreadsheet rows: only the columns present change an existing course.
    Csv,
    /// Backup courses: each replaces the stored course whole.
    Backup,
}

#[derive(Debug, Clone)]
struct ImportRow {
    line: Option<usize>,
    index: Option<usize>,
    id: String,
    fields: CourseFields,
}

#[derive(Debug)]
pub struct Parsed {
    source: Source,
    rows: Vec<ImportRow>,
    settings: Vec<(String, Vec<u8>)>,
    pub errors: Vec<RowError>,
}

#[derive(Debug, Default, Clone, Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Rows not imported because of an error (see `errors`).
    pub skipped: usize,
    pub settings: usize,
    pub rev: i64,
    pub errors: Vec<RowError>,
}

fn row_error(
    line: Option<usize>,
    index: Option<usize>,
    id: Option<&str>,
    e: &ApiError,
) -> RowError {
    RowError {
        line,
        index,
        id: id.map(str::to_owned),
        field: e.field.clone(),
        message: e.message.clone(),
    }
}

fn text_of(body: &[u8]) -> ApiResult<&str> {
    let text = std::str::from_utf8(body).map_err(|e| {
        ApiError::bad_request(
            "invalid_encoding",
            format!(
                "the file is not UTF-8 text (invalid byte at offset {})",
                e.valid_up_to()
            ),
        )
    })?;
    if text.contains('\0') {
        return Err(ApiError::bad_request(
            "invalid_encoding",
            "the file contains NUL bytes: it is binary, not text",
        ));
    }
    if text.trim_start_matches('\u{feff}').trim().is_empty() {
        return Err(ApiError::bad_request("empty_file", "the file is empty"));
    }
    Ok(text)
}

/// Parse a spreadsheet export: `Id,Date,Category,Title,Notes,Completion ratio`.
pub fn parse_csv(body: &[u8]) -> ApiResult<Parsed> {
    let text = text_of(body)?;
    let records = csv::parse(text).map_err(|e| {
        ApiError::bad_request("invalid_csv", e.to_string()).with_detail("line", json!(e.line))
    })?;
    let Some((header, data)) = records.split_first() else {
        return Err(ApiError::bad_request("empty_file", "the file is empty"));
    };
    if data.len() > MAX_IMPORT_ROWS {
        return Err(ApiError::bad_request(
            "too_many_rows",
            format!("at most {MAX_IMPORT_ROWS} rows per import"),
        ));
    }
    let mut columns: HashMap<&str, usize> = HashMap::new();
    for (i, name) in header.fields.iter().enumerate() {
        let name = name.trim();
        if let Some(known) = CSV_HEADER.iter().find(|h| h.eq_ignore_ascii_case(name))
            && columns.insert(known, i).is_some()
        {
            return Err(ApiError::bad_request(
                "invalid_csv",
                format!("column {known:?} appears twice in the header"),
            )
            .with_detail("line", json!(header.line)));
        }
    }
    let missing: Vec<&str> = ["Id", "Title"]
        .into_iter()
        .filter(|c| !columns.contains_key(c))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::bad_request(
            "missing_columns",
            format!(
                "the header lacks {}; expected {}",
                missing.join(", "),
                CSV_HEADER.join(",")
            ),
        )
        .with_detail("line", json!(header.line))
        .with_detail("missing", json!(missing)));
    }

    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut first_seen: HashMap<String, usize> = HashMap::new();
    for rec in data {
        let line = Some(rec.line);
        if rec.fields.len() != header.fields.len() {
            errors.push(RowError {
                line,
                index: None,
                id: rec.fields.first().cloned(),
                field: None,
                message: format!(
                    "expected {} fields, found {}",
                    header.fields.len(),
                    rec.fields.len()
                ),
            });
            continue;
        }
        let col = |name: &str| {
            columns
                .get(name)
                .and_then(|&i| rec.fields.get(i))
                .map(String::as_str)
        };
        let mut row_errors = Vec::new();
        let mut push = |field: &str, message: String| {
            row_errors.push((field.to_owned(), message));
        };
        let id = col("Id").unwrap_or("").trim().to_owned();
        if !model::valid_id(&id) {
            push(
                "Id",
                "Id must be 1..64 characters of A-Z a-z 0-9 _ -".into(),
            );
        } else if let Some(first) = first_seen.get(&id) {
            push("Id", format!("duplicate Id {id:?}, first on line {first}"));
        } else {
            first_seen.insert(id.clone(), rec.line);
        }
        let mut fields = CourseFields {
            id: Some(id.clone()),
            ..CourseFields::default()
        };
        if let Some(title) = col("Title") {
            match model::check_title("Title", title) {
                Ok(()) => fields.title = Some(title.to_owned()),
                Err(e) => push("Title", e.message.clone()),
            }
        }
        if let Some(cat) = col("Category") {
            match model::check_category("Category", cat) {
                Ok(()) => fields.category = Some(cat.to_owned()),
                Err(e) => push("Category", e.message.clone()),
            }
        }
        if let Some(notes) = col("Notes") {
            match model::check_notes("Notes", notes) {
                Ok(()) => fields.notes = Some(notes.to_owned()),
                Err(e) => push("Notes", e.message.clone()),
            }
        }
        if let Some(date) = col("Date") {
            let date = date.trim();
            if date.is_empty() {
                fields.date = Some(None);
            } else {
                match Date::parse_us(date).or_else(|| Date::parse_iso(date)) {
                    Some(d) => fields.date = Some(Some(d.iso())),
                    None => push(
                        "Date",
                        format!("{date:?} is not a date (expected M/D/YYYY)"),
                    ),
                }
            }
        }
        if let Some(ratio) = col("Completion ratio") {
            match parse_ratio(ratio) {
                Some(r) => fields.completion_ratio = Some(r),
                None => push(
                    "Completion ratio",
                    format!("{ratio:?} is not a whole number from 0 to 100"),
                ),
            }
        }
        if row_errors.is_empty() {
            rows.push(ImportRow {
                line,
                index: None,
                id,
                fields,
            });
        } else {
            for (field, message) in row_errors {
                errors.push(RowError {
                    line,
                    index: None,
                    id: Some(id.clone()).filter(|i| !i.is_empty()),
                    field: Some(field),
                    message,
                });
            }
        }
    }
    Ok(Parsed {
        source: Source::Csv,
        rows,
        settings: Vec::new(),
        errors,
    })
}

/// `41`, ` 41 `, `41%`, or empty (0).
fn parse_ratio(s: &str) -> Option<i64> {
    let s = s.trim();
    let s = s.strip_suffix('%').unwrap_or(s).trim();
    if s.is_empty() {
        return Some(0);
    }
    if !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 3 {
        return None;
    }
    s.parse::<i64>().ok().filter(|r| (0..=100).contains(r))
}

/// Parse a backup (`{"format":"skilltrack-backup","courses":[...],"settings":{...}}`)
/// or a bare JSON array of courses.
pub fn parse_backup(body: &[u8]) -> ApiResult<Parsed> {
    text_of(body)?;
    let doc: Json = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request("invalid_json", format!("the body is not valid JSON: {e}"))
    })?;
    let (courses, settings_obj) = match &doc {
        Json::Array(list) => (list.as_slice(), None),
        Json::Object(obj) => {
            if let Some(format) = obj.get("format")
                && format != BACKUP_FORMAT
            {
                return Err(ApiError::invalid_field(
                    "format",
                    format!("format must be {BACKUP_FORMAT:?}"),
                ));
            }
            let courses = obj
                .get("courses")
                .and_then(Json::as_array)
                .ok_or_else(|| ApiError::invalid_field("courses", "courses must be an array"))?;
            let settings = match obj.get("settings") {
                None | Some(Json::Null) => None,
                Some(Json::Object(s)) => Some(s),
                Some(_) => {
                    return Err(ApiError::invalid_field(
                        "settings",
                        "settings must be an object",
                    ));
                }
            };
            (courses.as_slice(), settings)
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_body",
                "expected a backup object or an array of courses",
            ));
        }
    };
    if courses.len() > MAX_IMPORT_ROWS {
        return Err(ApiError::bad_request(
            "too_many_rows",
            format!("at most {MAX_IMPORT_ROWS} courses per import"),
        ));
    }
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (i, item) in courses.iter().enumerate() {
        let index = Some(i);
        let parsed = model::parse_fields(item, true).and_then(|f| {
            let id =
                f.id.clone()
                    .ok_or_else(|| ApiError::invalid_field("id", "id is required"))?;
            model::replace(&id, &f, 0, None)?;
            if !seen.insert(id.clone()) {
                return Err(ApiError::invalid_field(
                    "id",
                    format!("id {id:?} appears twice"),
                ));
            }
            Ok((id, f))
        });
        match parsed {
            Ok((id, fields)) => rows.push(ImportRow {
                line: None,
                index,
                id,
                fields,
            }),
            Err(e) => {
                let id = item.get("id").and_then(Json::as_str);
                errors.push(row_error(None, index, id, &e));
            }
        }
    }
    let mut settings_out = Vec::new();
    for (key, value) in settings_obj.into_iter().flatten() {
        let checked = settings::check_key(key).and_then(|()| settings::check_value(key, value));
        match checked {
            Ok(bytes) => settings_out.push((key.clone(), bytes)),
            Err(e) => errors.push(RowError {
                line: None,
                index: None,
                id: None,
                field: Some(format!("settings.{key}")),
                message: e.message.clone(),
            }),
        }
    }
    Ok(Parsed {
        source: Source::Backup,
        rows,
        settings: settings_out,
        errors,
    })
}

/// Apply a parsed import in one transaction. With errors and no `partial`,
/// nothing is written and the answer is 400.
pub fn apply(b: &impl Backend, parsed: Parsed, partial: bool) -> ApiResult<ImportReport> {
    let Parsed {
        source,
        rows,
        settings,
        errors,
    } = parsed;
    if !errors.is_empty() && !partial {
        let rows_with_errors: HashSet<(Option<usize>, Option<usize>)> =
            errors.iter().map(|e| (e.line, e.index)).collect();
        return Err(ApiError::bad_request(
            "import_rejected",
            format!(
                "{} row(s) have errors; nothing was imported (send ?partial=true to import the valid rows)",
                rows_with_errors.len()
            ),
        )
        .with_extra("errors", json!(errors)));
    }
    let mut report = ImportReport {
        skipped: errors
            .iter()
            .map(|e| (e.line, e.index))
            .collect::<HashSet<_>>()
            .len(),
        errors,
        ..ImportReport::default()
    };
    let counts = store::write_tx(b, |tx| {
        let mut counts = ImportReport::default();
        let mut live: HashMap<String, Course> = store::all_rows(b)?
            .into_iter()
            .filter(|s| !s.deleted)
            .map(|s| (s.course.id.clone(), s.course))
            .collect();
        let mut next_sort = store::max_sort_order(b)?.map_or(0, |m| m.saturating_add(1));
        for row in &rows {
            let old = live.get(&row.id);
            let built = match (source, old) {
                (Source::Csv, Some(o)) => model::patch(o, &row.fields),
                (Source::Backup, Some(o)) => {
                    model::replace(&row.id, &row.fields, o.sort_order, Some(o))
                }
                (_, None) => {
                    let s = next_sort;
                    next_sort = next_sort.saturating_add(1);
                    model::replace(&row.id, &row.fields, s, None)
                }
            };
            let new = built.map_err(|e| {
                ApiError::bad_request("import_rejected", "a row has errors; nothing was imported")
                    .with_extra(
                        "errors",
                        json!([row_error(row.line, row.index, Some(&row.id), &e)]),
                    )
            })?;
            let stamps = match source {
                Source::Backup => Stamps::from_fields(&row.fields),
                Source::Csv => Stamps::default(),
            };
            match old {
                Some(o) if o.same_content(&new) => counts.unchanged += 1,
                Some(o) => {
                    let o = o.clone();
                    let c = sync::commit_course(tx, new, Some(&o), &Stamps::default())?;
                    live.insert(c.id.clone(), c);
                    counts.updated += 1;
                }
                None => {
                    let c = sync::commit_course(tx, new, None, &stamps)?;
                    live.insert(c.id.clone(), c);
                    counts.created += 1;
                }
            }
        }
        crate::activity::prune(tx)?;
        counts.rev = tx.current_rev()?;
        Ok(counts)
    })?;
    for (key, bytes) in &settings {
        settings::set(b, key, bytes)?;
    }
    report.created = counts.created;
    report.updated = counts.updated;
    report.unchanged = counts.unchanged;
    report.rev = counts.rev;
    report.settings = settings.len();
    Ok(report)
}

/// The full backup: every live course with its server stamps, and settings.
pub fn export_json(b: &impl Backend) -> ApiResult<Json> {
    let (rev, courses) = store::read_tx(b, |tx| Ok((tx.current_rev()?, store::live_courses(b)?)))?;
    let (schema, _) = store::schema_info(b)?;
    let mut doc = Map::new();
    doc.insert("format".into(), json!(BACKUP_FORMAT));
    doc.insert("formatVersion".into(), json!(BACKUP_FORMAT_VERSION));
    doc.insert("schemaVersion".into(), json!(schema));
    doc.insert("exportedAt".into(), json!(dates::timestamp(b.now_millis())));
    doc.insert("rev".into(), json!(rev));
    doc.insert("courses".into(), json!(courses));
    doc.insert("settings".into(), Json::Object(settings::all(b)?));
    Ok(Json::Object(doc))
}

/// The courses in the spreadsheet format the import reads.
pub fn export_csv(b: &impl Backend) -> ApiResult<String> {
    let courses = store::live_courses(b)?;
    let mut out = String::with_capacity(64 + courses.len() * 96);
    csv::write_record(&mut out, &CSV_HEADER);
    for c in &courses {
        let date = c
            .date
            .as_deref()
            .and_then(Date::parse_iso)
            .map(|d| d.us())
            .unwrap_or_default();
        let ratio = c.completion_ratio.to_string();
        csv::write_record(
            &mut out,
            &[&c.id, &date, &c.category, &c.title, &c.notes, &ratio],
        );
    }
    Ok(out)
}
