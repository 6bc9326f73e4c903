//! Failed sign-ins: after 5 failures for one username, or 20 from one client
//! address, within 15 minutes of each other, further attempts are refused for a
//! while (30 s, doubling with each failure past the limit, at most 15 minutes)
//! without the password being checked. Kept in the database, so every replica
//! counts the same failures.

use crate::backend::{Backend, Value};
use crate::errors::{ApiError, ApiResult};
use crate::http::Request;
use crate::store;

pub const USER_LIMIT: i64 = 5;
pub const ADDRESS_LIMIT: i64 = 20;
pub const WINDOW_MS: i64 = 15 * 60 * 1000;
pub const FIRST_LOCK_MS: i64 = 30 * 1000;
pub const MAX_LOCK_MS: i64 = 15 * 60 * 1000;

/// One subject's record: failures counted since the window opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub failures: i64,
    pub last_ms: i64,
    pub locked_until_ms: i64,
}

/// The record after one more failure at `now`. The window slides: it only
/// closes after 15 quiet minutes, so slow guessing at the lock's pace still counts.
pub fn after_failure(state: Option<State>, limit: i64, now: i64) -> State {
    let failures = match state {
        Some(s) if now - s.last_ms <= WINDOW_MS => s.failures + 1,
        _ => 1,
    };
    let locked_until_ms = if failures >= limit {
        now + lock_ms(failures - limit)
    } else {
        state.map_or(0, |s| s.locked_until_ms)
    };
    State {
        failures,
        last_ms: now,
        locked_until_ms,
    }
}

/// 30 s for the failure that reaches the limit, doubling for each one past it.
pub fn lock_ms(past_limit: i64) -> i64 {
    let doublings = u32::try_from(past_limit.clamp(0, 16)).unwrap_or(16);
    (FIRST_LOCK_MS << doublings).min(MAX_LOCK_MS)
}

/// Whole seconds until `state` lets a sign-in through; `None` when it does now.
pub fn retry_after_secs(state: Option<State>, now: i64) -> Option<i64> {
    let s = state?;
    (s.locked_until_ms > now).then(|| (s.locked_until_ms - now + 999) / 1000)
}

/// The variable naming how many proxies in front of the app append to
/// `X-Forwarded-For` (0, the default: none is trusted).
pub const PROXY_HOPS_VARIABLE: &str = "trusted_proxy_hops";
const MAX_PROXY_HOPS: usize = 8;

/// How many `X-Forwarded-For` entries, counted from the right, the operator's own
/// proxies wrote. Unreadable or nonsense values trust none: the limit then falls
/// on the proxy's address, which only makes it stricter.
pub fn proxy_hops(b: &impl Backend) -> usize {
    b.variable(PROXY_HOPS_VARIABLE)
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .map_or(0, |n| n.min(MAX_PROXY_HOPS))
}

/// An address without its port and brackets, lower-case.
fn bare_address(raw: &str) -> Option<String> {
    let raw = raw.trim();
    let host = if let Some(rest) = raw.strip_prefix('[') {
        rest.split(']').next()?
    } else if raw.matches(':').count() == 1 {
        raw.split(':').next()?
    } else {
        raw
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The client's address. Without trusted proxies it is `spin-client-addr` (set by
/// Spin and tracker-host, which drop any client-sent `spin-*` header). Behind
/// `hops` proxies, each appends the address it saw to `X-Forwarded-For`, so the
/// client is the `hops`-th entry from the right; entries further left were
/// written by the client and could be anything.
pub fn client_address(req: &Request, hops: usize) -> Option<String> {
    if hops > 0
        && let Some(list) = req.header("x-forwarded-for")
    {
        let entries: Vec<&str> = list.split(',').map(str::trim).collect();
        if let Some(entry) = entries.len().checked_sub(hops).and_then(|i| entries.get(i)) {
            return bare_address(entry);
        }
    }
    bare_address(req.header("spin-client-addr")?)
}

/// The subjects an attempt counts against, with their limits.
pub fn subjects(b: &impl Backend, username: &str, req: &Request) -> Vec<(String, i64)> {
    let mut out = vec![(format!("user:{username}"), USER_LIMIT)];
    if let Some(addr) = client_address(req, proxy_hops(b)) {
        out.push((format!("addr:{addr}"), ADDRESS_LIMIT));
    }
    out
}

fn read(b: &impl Backend, subject: &str) -> ApiResult<Option<State>> {
    let rows = b.execute(
        "SELECT failures, last_ms, locked_until_ms FROM sign_in_failures WHERE subject = ?",
        &[subject.into()],
    )?;
    Ok(rows.first().map(|r| {
        let int = |i: usize| r.get(i).and_then(Value::as_i64).unwrap_or(0);
        State {
            failures: int(0),
            last_ms: int(1),
            locked_until_ms: int(2),
        }
    }))
}

pub fn too_many(secs: i64) -> ApiError {
    ApiError::new(
        429,
        "too_many_attempts",
        format!("too many failed sign-ins; try again in {secs} s"),
    )
    .with_header("retry-after", &secs.to_string())
}

/// 429 when any subject is locked now.
pub fn check(b: &impl Backend, subjects: &[(String, i64)]) -> ApiResult<()> {
    let now = b.now_millis();
    let mut wait = None;
    for (subject, _) in subjects {
        if let Some(secs) = retry_after_secs(read(b, subject)?, now) {
            wait = Some(wait.map_or(secs, |w: i64| w.max(secs)));
        }
    }
    match wait {
        Some(secs) => Err(too_many(secs)),
        None => Ok(()),
    }
}

/// Counts one failure against every subject, in one write transaction so two
/// replicas counting at once both count.
pub fn record_failure(b: &impl Backend, subjects: &[(String, i64)]) -> ApiResult<()> {
    let now = b.now_millis();
    store::write_tx(b, |tx| {
        for (subject, limit) in subjects {
            let next = after_failure(read(tx.backend(), subject)?, *limit, now);
            tx.exec(
                "INSERT INTO sign_in_failures (subject, failures, last_ms, locked_until_ms) VALUES (?, ?, ?, ?)
                 ON CONFLICT(subject) DO UPDATE SET failures = excluded.failures,
                 last_ms = excluded.last_ms, locked_until_ms = excluded.locked_until_ms",
                &[
                    subject.as_str().into(),
                    next.failures.into(),
                    next.last_ms.into(),
                    next.locked_until_ms.into(),
                ],
            )?;
        }
        // Old records are worth nothing once their window closed.
        tx.exec(
            "DELETE FROM sign_in_failures WHERE last_ms < ? AND locked_until_ms < ?",
            &[(now - WINDOW_MS).into(), now.into()],
        )?;
        Ok(())
    })
}

/// A successful sign-in clears its username's count (not the address's: one
/// good password does not excuse guesses at other accounts).
pub fn clear_user(b: &impl Backend, username: &str) -> ApiResult<()> {
    b.execute(
        "DELETE FROM sign_in_failures WHERE subject = ?",
        &[format!("user:{username}").into()],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_locks_for_30_s_then_doubles_up_to_15_minutes() {
        let mut s = None;
        let mut now = 1_000_000;
        for _ in 0..4 {
            s = Some(after_failure(s, USER_LIMIT, now));
            assert_eq!(retry_after_secs(s, now), None);
            now += 1000;
        }
        s = Some(after_failure(s, USER_LIMIT, now));
        assert_eq!(retry_after_secs(s, now), Some(30));
        assert_eq!(retry_after_secs(s, now + 29_001), Some(1));
        assert_eq!(retry_after_secs(s, now + 30_000), None);
        now += 30_000;
        s = Some(after_failure(s, USER_LIMIT, now));
        assert_eq!(retry_after_secs(s, now), Some(60));
        assert_eq!(lock_ms(2), 120_000);
        assert_eq!(lock_ms(5), 15 * 60 * 1000);
        assert_eq!(lock_ms(60), MAX_LOCK_MS);
    }

    #[test]
    fn the_window_closes_after_15_quiet_minutes() {
        let s = after_failure(None, USER_LIMIT, 0);
        let s = after_failure(Some(s), USER_LIMIT, WINDOW_MS);
        assert_eq!(s.failures, 2);
        let s = after_failure(Some(s), USER_LIMIT, 2 * WINDOW_MS + 1);
        assert_eq!(s.failures, 1);
    }

    #[test]
    fn client_addresses_lose_their_port() {
        let with = |v: &str| Request::new("POST", "/").with_header("spin-client-addr", v);
        assert_eq!(
            client_address(&with("127.0.0.1:5000"), 0).as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(
            client_address(&with("[::1]:5000"), 0).as_deref(),
            Some("::1")
        );
        assert_eq!(client_address(&with("::1"), 0).as_deref(), Some("::1"));
        assert_eq!(client_address(&Request::new("GET", "/"), 0), None);
    }

    #[test]
    fn behind_trusted_proxies_the_client_is_counted_from_the_right() {
        let req = Request::new("POST", "/")
            .with_header("spin-client-addr", "10.0.0.9:4000")
            .with_header("x-forwarded-for", "6.6.6.6, 203.0.113.7, 10.0.0.5");
        // Untrusted, the header is the client's own word: the peer counts.
        assert_eq!(client_address(&req, 0).as_deref(), Some("10.0.0.9"));
        assert_eq!(client_address(&req, 1).as_deref(), Some("10.0.0.5"));
        assert_eq!(client_address(&req, 2).as_deref(), Some("203.0.113.7"));
        // More hops than entries: the request did not come the configured way.
        assert_eq!(client_address(&req, 4).as_deref(), Some("10.0.0.9"));
    }
}
