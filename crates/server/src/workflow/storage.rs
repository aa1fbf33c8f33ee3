//! Results not collected within a month go to the provider's storage (catalogue §5.6): the
//! portal records the move itself and tells the applicant where the result is now.

use portal_domain::application::Status;
use portal_domain::calendar::local_day_and_minute;
use portal_domain::date::Date;
use portal_domain::workflow::{Action, Actor};

use super::events::EventDetails;
use crate::app::AppState;
use crate::applications::store::{self, ApplicationRow};
use crate::error::ApiError;
use crate::on_db;

/// How often the task looks for uncollected results.
const POLL_SECONDS: u64 = 3600;

/// The same day a month later (the month's last day when it has no such day).
pub fn month_after(day: Date) -> Date {
    let (year, month) = if day.month() == 12 {
        (day.year() + 1, 1)
    } else {
        (day.year(), day.month() + 1)
    };
    (0..4)
        .find_map(|back| Date::from_ymd(year, month, day.day() - back).ok())
        .expect("every month has 28 days")
}

/// Moves every result that was ready more than a month before `now` to storage; returns how many.
pub async fn move_uncollected(state: &AppState, now: i64) -> anyhow::Result<usize> {
    // A month is at most 31 days: only results older than 28 days can be due.
    let candidates: Vec<(String, i64)> = on_db!(&state.db, |pool| {
        sqlx::query_as("SELECT id, result_ready_at FROM applications WHERE status = 'result_ready' AND result_ready_at <= $1 ORDER BY result_ready_at LIMIT 500")
            .bind(now - 28 * 86_400_000)
            .fetch_all(pool)
            .await
    })?;
    let today = local_day_and_minute(now).0;
    let mut moved = 0;
    for (id, ready_at) in candidates {
        if today <= month_after(local_day_and_minute(ready_at).0) {
            continue;
        }
        let Some(row) = store::by_id(&state.db, &id).await? else {
            continue;
        };
        if move_one(state, &row).await {
            moved += 1;
        }
    }
    Ok(moved)
}

async fn move_one(state: &AppState, row: &ApplicationRow) -> bool {
    let change = super::Change {
        actor: Actor::System,
        actor_id: None,
        action: Action::ReturnToStorage,
        details: EventDetails::default(),
        assignee: None,
        document: None,
    };
    match super::apply(state, row, Status::ResultReady, change).await {
        Ok(to) => {
            super::announce(
                state,
                row,
                Action::ReturnToStorage,
                to,
                &EventDetails::default(),
            )
            .await;
            true
        }
        // Issued meanwhile: nothing to move.
        Err(ApiError::Conflict(_)) => false,
        Err(e) => {
            tracing::warn!(application = %row.id, ?e, "cannot move an uncollected result");
            false
        }
    }
}

/// The background task.
pub async fn run(state: AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(POLL_SECONDS));
    loop {
        every.tick().await;
        let moving = move_uncollected(&state, crate::db::now_millis());
        match state
            .db
            .exclusively("workflow: move uncollected results", moving)
            .await
        {
            Ok(None | Some(0)) => {}
            Ok(Some(n)) => tracing::info!(
                results = n,
                "uncollected results moved to the providers' storage"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot move uncollected results"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_month_later_is_the_same_day_or_the_months_last() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert_eq!(month_after(d("2026-11-24")), d("2026-12-24"));
        assert_eq!(month_after(d("2026-12-15")), d("2027-01-15"));
        assert_eq!(month_after(d("2027-01-31")), d("2027-02-28"));
        assert_eq!(month_after(d("2028-01-30")), d("2028-02-29"));
    }
}
