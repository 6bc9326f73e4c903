//! The team page: for people who opted in, their goal and progress, never notes.

use super::records::Account;
use crate::backend::Backend;
use crate::dates;
use crate::errors::ApiResult;
use crate::library::Library;
use crate::model::{Course, Status};
use crate::settings;
use crate::store;
use serde_json::{Value as Json, json};

/// One member's card, from their courses and goal. `now` is a timestamp of ours
/// (`YYYY-MM-DDT...`): its first 7 and 4 characters name this month and year.
pub fn card(username: &str, goal: i64, courses: &[Course], now: &str) -> Json {
    let month = now.get(..7).unwrap_or_default();
    let year = now.get(..4).unwrap_or_default();
    let completed_in = |prefix: &str| {
        courses
            .iter()
            .filter(|c| {
                !prefix.is_empty()
                    && c.completed_at
                        .as_deref()
                        .is_some_and(|at| at.starts_with(prefix))
            })
            .count()
    };
    let studying: Vec<Json> = courses
        .iter()
        .filter(|c| c.status == Status::InProgress && !c.is_archived)
        .map(|c| json!({"title": c.title, "completionRatio": c.completion_ratio}))
        .collect();
    json!({
        "username": username,
        "monthlyGoal": goal,
        "completedThisMonth": completed_in(month),
        "completedThisYear": completed_in(year),
        "studying": studying,
    })
}

/// Every sharing, enabled member's card, by username.
pub fn members(b: &impl Backend, accounts: &[Account]) -> ApiResult<Vec<Json>> {
    let now = dates::timestamp(b.now_millis());
    let mut sharing: Vec<&Account> = accounts
        .iter()
        .filter(|a| a.share_progress && !a.disabled)
        .collect();
    sharing.sort_by(|a, b| a.username.cmp(&b.username));
    sharing
        .into_iter()
        .map(|a| {
            let lib = Library::new(b, a.id);
            let goal = settings::get(&lib, settings::MONTHLY_GOAL)?
                .and_then(|v| v.as_i64())
                .unwrap_or(settings::DEFAULT_MONTHLY_GOAL);
            // live_courses leaves deleted courses out.
            let courses = store::live_courses(&lib)?;
            Ok(card(&a.username, goal, &courses, &now))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn course(title: &str, status: Status, ratio: i64, completed_at: Option<&str>) -> Course {
        let mut c = Course::blank("x");
        c.title = title.into();
        c.status = status;
        c.completion_ratio = ratio;
        c.completed_at = completed_at.map(str::to_owned);
        c.notes = "private".into();
        c
    }

    #[test]
    fn a_card_counts_this_month_and_year_and_shows_no_notes() {
        let courses = [
            course(
                "A",
                Status::Completed,
                100,
                Some("2026-12-01T10:00:00.000Z"),
            ),
            course(
                "B",
                Status::Completed,
                100,
                Some("2026-03-01T10:00:00.000Z"),
            ),
            course(
                "C",
                Status::Completed,
                100,
                Some("2025-12-01T10:00:00.000Z"),
            ),
            course("D", Status::InProgress, 40, None),
            course("E", Status::Pending, 0, None),
        ];
        let c = card("ada", 3, &courses, "2026-12-02T00:00:00.000Z");
        assert_eq!(c["completedThisMonth"], 1);
        assert_eq!(c["completedThisYear"], 2);
        assert_eq!(
            c["studying"],
            json!([{"title": "D", "completionRatio": 40}])
        );
        assert!(!c.to_string().contains("private"));
    }
}
