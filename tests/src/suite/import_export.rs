//! Import and export: the real 272-course spreadsheet, hostile files, and a backup
//! restored into an empty server.

use super::{Target, error_of, fixture, start};
use serde_json::{Value as Json, json};
use std::collections::{BTreeMap, BTreeSet};

/// RFC 4180 records of a CSV text, header excluded (independent of the
/// component's own parser: Python-csv-like rules written out here).
fn rows(text: &str) -> BTreeSet<Vec<String>> {
    let text = text.trim_start_matches('\u{feff}');
    let mut out = Vec::new();
    let (mut rec, mut field, mut quoted, mut chars) =
        (Vec::new(), String::new(), false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => rec.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                rec.push(std::mem::take(&mut field));
                out.push(std::mem::take(&mut rec));
            }
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !rec.is_empty() {
        rec.push(field);
        out.push(rec);
    }
    out.into_iter().skip(1).collect()
}

pub fn the_real_spreadsheet_imports_whole_and_exports_back_equal(t: &dyn Target) {
    let api = start(t);
    let text = fixture();
    let r = api.import_csv(text.as_bytes(), "");
    assert_eq!(r.status, 200, "{}", r.text());
    let report = r.json();
    assert_eq!(
        (report["created"].as_i64(), report["errors"].clone()),
        (Some(272), json!([]))
    );
    let courses = api.courses();
    assert_eq!(courses.len(), 272);
    let loci = &courses["6716873"];
    assert_eq!(
        loci["title"],
        "Method of Loci: Master This Ancient Memory Skills in 7 Days"
    );
    assert_eq!(
        (loci["date"].as_str(), loci["status"].as_str()),
        (Some("2025-12-26"), Some("Pending"))
    );
    assert_eq!(
        courses["6716865"]["title"],
        "Brain Exercises: Boost Focus, Memory & Your Thinking Mind"
    );
    let by_status = |s: &str| courses.values().filter(|c| c["status"] == s).count();
    assert_eq!(by_status("Completed"), 2);
    assert_eq!(by_status("Pending"), 204);
    assert!(
        courses
            .values()
            .filter(|c| c["status"] == "Completed")
            .all(|c| c["completedAt"].is_string())
    );

    let exported = api.get("/api/export.csv");
    assert!(
        exported
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/csv"))
    );
    let exported = exported.text();
    assert_eq!(rows(&exported), rows(&text));
    assert_eq!(rows(&text).len(), 272);
    // Same order and bytes as the file, too.
    assert_eq!(exported.trim_end(), text.trim_end());

    let again = api.import_csv(exported.as_bytes(), "").json();
    assert_eq!(
        (
            again["created"].as_i64(),
            again["updated"].as_i64(),
            again["unchanged"].as_i64()
        ),
        (Some(0), Some(0), Some(272))
    );
}

pub fn csv_variants_people_have_are_read(t: &dyn Target) {
    let api = start(t);
    let text = "\u{feff}Id,Date,Category,Title,Notes,Completion ratio\n\
                a1,1/2/2024,AppSec,\"Commas, \"\"quotes\"\" and more\",\"note, with comma\nand a newline\",41\n\
                a2,2024-03-04,,Plain,,100%\n\
                a3,,Cloud,Undated,,\n";
    let r = api.import_csv(text.as_bytes(), "");
    assert_eq!(r.status, 200, "{}", r.text());
    let c = api.courses();
    assert_eq!(c["a1"]["title"], "Commas, \"quotes\" and more");
    assert_eq!(c["a1"]["notes"], "note, with comma\nand a newline");
    assert_eq!(
        (c["a1"]["date"].as_str(), c["a1"]["status"].as_str()),
        (Some("2024-01-02"), Some("In Progress"))
    );
    assert_eq!(c["a2"]["status"], "Completed");
    assert_eq!(
        (c["a3"]["date"].clone(), c["a3"]["completionRatio"].as_i64()),
        (Json::Null, Some(0))
    );
}

/// A file, the error code it must get, and (line, field) of its first row error.
type HostileCase = (Vec<u8>, &'static str, Option<(i64, &'static str)>);

pub fn hostile_files_each_get_a_clear_400_and_change_nothing(t: &dyn Target) {
    let api = start(t);
    api.import_csv(
        b"Id,Date,Category,Title,Notes,Completion ratio\r\nk,1/1/2024,C,Kept,,5\r\n",
        "",
    );
    let before = api.get("/api/export").json()["courses"].clone();
    let h = "Id,Date,Category,Title,Notes,Completion ratio\r\n";
    let cases: Vec<HostileCase> = vec![
        (
            format!("{h}x1,2/30/2024,C,T,,0\r\n").into_bytes(),
            "import_rejected",
            Some((2, "Date")),
        ),
        (
            format!("{h}x1,13/45/2024,C,T,,0\r\n").into_bytes(),
            "import_rejected",
            Some((2, "Date")),
        ),
        (
            format!("{h}x1,1/1/2024,C,T,,0\r\nx2,31/12/2024,C,T,,0\r\n").into_bytes(),
            "import_rejected",
            Some((3, "Date")),
        ),
        (
            format!("{h}x1,1/1/2024,C,T,,101\r\n").into_bytes(),
            "import_rejected",
            Some((2, "Completion ratio")),
        ),
        (
            format!("{h}x1,1/1/2024,C,T,,-5\r\n").into_bytes(),
            "import_rejected",
            Some((2, "Completion ratio")),
        ),
        (
            format!("{h}x1,1/1/2024,C,T,,4.5\r\n").into_bytes(),
            "import_rejected",
            Some((2, "Completion ratio")),
        ),
        (
            format!("{h}x1,1/1/2024,C,T,,half\r\n").into_bytes(),
            "import_rejected",
            Some((2, "Completion ratio")),
        ),
        (
            format!("{h}x1,1/1/2024,C,T\r\n").into_bytes(),
            "import_rejected",
            Some((2, "")),
        ),
        (
            format!("{h}x1,1/1/2024,C,,,1\r\n").into_bytes(),
            "import_rejected",
            Some((2, "Title")),
        ),
        (
            format!("{h}not/an/id,1/1/2024,C,T,,1\r\n").into_bytes(),
            "import_rejected",
            Some((2, "Id")),
        ),
        (
            format!("{h}bad id,1/1/2024,C,T,,1\r\n").into_bytes(),
            "import_rejected",
            Some((2, "Id")),
        ),
        (
            format!("{h}x1,1/1/2024,C,T,,1\r\nx1,1/1/2024,C,T,,1\r\n").into_bytes(),
            "import_rejected",
            Some((3, "Id")),
        ),
        (
            format!("{h}x1,1/1/2024,C,\"never closed,,1\r\n").into_bytes(),
            "invalid_csv",
            None,
        ),
        (
            b"Id,Date,Category,Notes,Completion ratio\r\nx1,1/1/2024,C,,1\r\n".to_vec(),
            "missing_columns",
            None,
        ),
        (
            b"just some text\nwithout a header\n".to_vec(),
            "missing_columns",
            None,
        ),
        (b"".to_vec(), "empty_file", None),
        (b"\xef\xbb\xbf\r\n".to_vec(), "empty_file", None),
        (b"\xef\xbb\xbf\r\n\r\n".to_vec(), "empty_file", None),
        (
            (0u8..=255).cycle().take(4096).collect(),
            "invalid_encoding",
            None,
        ),
        (
            vec![0x00, 0x9f, 0x92, 0x96, 0xff, 0x00, 0x13],
            "invalid_encoding",
            None,
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR".to_vec(),
            "invalid_encoding",
            None,
        ),
        (
            b"PK\x03\x04\x00\x00binary\x00".to_vec(),
            "invalid_encoding",
            None,
        ),
    ];
    for (body, code, row) in cases {
        let r = api.import_csv(&body, "");
        assert_eq!(
            (r.status, error_of(&r).1.as_str()),
            (400, code),
            "{:?}: {}",
            String::from_utf8_lossy(&body),
            r.text()
        );
        if let Some((line, field)) = row {
            let first = &r.json()["errors"][0];
            assert_eq!(first["line"].as_i64(), Some(line), "{}", r.text());
            assert_eq!(first["field"].as_str().unwrap_or(""), field, "{}", r.text());
        }
    }
    let ten_mb = vec![b'a'; 10 * 1000 * 1000];
    assert_eq!(
        error_of(&api.import_csv(&ten_mb, "")),
        (413, "body_too_large".into(), None)
    );
    for media in ["application/vnd.ms-excel", "application/pdf"] {
        let r = api.request(
            "POST",
            "/api/import",
            &[("content-type", media)],
            Some(b"x"),
        );
        assert_eq!(r.status, 415, "{media}");
    }
    assert_eq!(api.get("/api/export").json()["courses"], before);
}

pub fn row_errors_name_their_line_and_partial_imports_the_rest(t: &dyn Target) {
    let api = start(t);
    let text = "Id,Date,Category,Title,Notes,Completion ratio\n1,1/2/2024,C,\"multi\nline title? no: notes\",,10\n2,2/30/2024,C,T,,0\n3,1/2/2024,C,T3,\"a \"\"quoted\"\", note\",100\n";
    let r = api.import_csv(text.as_bytes(), "");
    assert_eq!(r.status, 400);
    let errors = r.json()["errors"].clone();
    assert_eq!(errors.as_array().map(Vec::len), Some(2), "{errors}");
    assert_eq!(errors[0]["line"], 2);
    assert_eq!(errors[0]["field"], "Title");
    assert_eq!(errors[1]["line"], 4);
    assert_eq!(errors[1]["field"], "Date");
    assert!(api.courses().is_empty());
    let r = api.import_csv(text.as_bytes(), "?partial=true");
    assert_eq!(r.status, 200);
    let body = r.json();
    assert_eq!(
        (body["created"].as_i64(), body["skipped"].as_i64()),
        (Some(1), Some(2))
    );
    let c = api.get("/api/courses/3").json();
    assert_eq!(c["notes"], "a \"quoted\", note");
    assert_eq!(c["status"], "Completed");
}

pub fn partial_import_takes_the_valid_rows_and_reports_the_rest(t: &dyn Target) {
    let api = start(t);
    let text = "Id,Date,Category,Title,Notes,Completion ratio\nok1,1/1/2024,C,Fine,,10\nbad,1/1/2024,C,Broken,,300\nok2,1/2/2024,C,Also fine,,0\n";
    assert_eq!(api.import_csv(text.as_bytes(), "").status, 400);
    assert!(api.courses().is_empty());
    let r = api.import_csv(text.as_bytes(), "?partial=true");
    assert_eq!(r.status, 200);
    let report = r.json();
    assert_eq!(
        (report["created"].as_i64(), report["skipped"].as_i64()),
        (Some(2), Some(1))
    );
    assert_eq!(report["errors"][0]["line"], 3);
    assert_eq!(
        api.courses().keys().cloned().collect::<Vec<_>>(),
        ["ok1", "ok2"]
    );
}

pub fn export_then_import_into_an_empty_server_gives_the_same_state(t: &dyn Target) {
    let a = start(t);
    a.import_csv(fixture().as_bytes(), "");
    a.patch("/api/courses/6716873", &json!({"isFavorite": true, "totalLessons": 30, "completedLessons": 12, "deadline": "2026-01-31", "notes": "multi\nline, \"quoted\"", "pinnedToDashboard": true}));
    a.patch("/api/courses/6716871", &json!({"completionRatio": 100}));
    a.delete("/api/courses/6716877");
    a.post("/api/settings/monthly_goal", &json!({"value": 6}));
    a.post("/api/settings/theme", &json!({"value": "dark"}));
    a.post("/api/settings/ui", &json!({"value": {"mode": "dark"}}));
    let backup = a.get("/api/export");
    assert!(
        backup
            .header("content-disposition")
            .is_some_and(|d| d.contains("attachment"))
    );
    let backup = backup.json();
    assert_eq!(backup["format"], "skilltrack-backup");
    assert_eq!(backup["courses"].as_array().map(Vec::len), Some(271));

    let b = start(t);
    let r = b.post("/api/import", &backup);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        (r.json()["created"].as_i64(), r.json()["settings"].as_i64()),
        (Some(271), Some(3))
    );
    let without_rev = |m: BTreeMap<String, Json>| -> Vec<Json> {
        m.into_values()
            .map(|mut c| {
                if let Some(o) = c.as_object_mut() {
                    o.remove("rev");
                }
                c
            })
            .collect()
    };
    assert_eq!(without_rev(b.courses()), without_rev(a.courses()));
    let in_order = |list: Vec<Json>| -> Vec<Json> {
        without_rev(
            list.into_iter()
                .enumerate()
                .map(|(i, c)| (format!("{i:05}"), c))
                .collect(),
        )
    };
    assert_eq!(
        in_order(b.course_list()),
        in_order(a.course_list()),
        "in the same display order"
    );
    assert_eq!(b.get("/api/settings").json(), a.get("/api/settings").json());
    assert_eq!(b.get("/api/export.csv").body, a.get("/api/export.csv").body);

    let bad = b.post("/api/import", &json!({"format": "skilltrack-backup", "courses": [{"id": "z", "title": "Z", "completionRatio": 101}]}));
    assert_eq!(error_of(&bad).1, "import_rejected");
    assert_eq!(bad.json()["errors"][0]["index"], 0);
    assert_eq!(bad.json()["errors"][0]["field"], "completionRatio");
    assert_eq!(
        error_of(&b.post("/api/import", &json!({"format": "other", "courses": []})))
            .2
            .as_deref(),
        Some("format")
    );
    assert_eq!(
        error_of(&b.post("/api/import", &json!({"courses": "no"})))
            .2
            .as_deref(),
        Some("courses")
    );
    assert_eq!(b.courses().len(), 271);
}
