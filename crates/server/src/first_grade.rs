//! First-grade enrolment on the server: a school-enrolment application for grade 1 is accepted
//! only inside the year's window, for a child of first-grade age (from the IIN), and once per
//! child across all schools (also enforced by a unique index, for two sent at the same moment).

use portal_domain::calendar::local_day_and_minute;
use portal_domain::first_grade::{AgeRule, QueuePlace, Window, WindowState};
use portal_domain::form::{Answer, Answers};
use portal_domain::iin::Iin;
use portal_i18n::Msg;

use crate::app::AppState;
use crate::error::{ApiError, FieldProblem};
use crate::on_db;

pub const SERVICE: &str = "school-enrollment";

/// The child's IIN when `answers` apply for first grade.
pub fn child_of<'a>(service_id: &str, answers: &'a Answers) -> Option<&'a str> {
    if service_id != SERVICE {
        return None;
    }
    match (answers.get("grade"), answers.get("subject_iin")) {
        (Some(Answer::Text(grade)), Some(Answer::Text(iin))) if grade.trim() == "1" => {
            Some(iin.as_str())
        }
        _ => None,
    }
}

/// The school year applications are taken for at `now`, and its window: this year's until it
/// closes, then next year's.
pub fn window(state: &AppState, now: i64) -> (i32, Window) {
    let year = local_day_and_minute(now).0.year();
    let (first, last) = state.config.first_grade_window;
    let of =
        |y: i32| Window::for_year(y, first, last).expect("the configured window exists every year");
    let this = of(year);
    if now >= this.closes_at {
        (year + 1, of(year + 1))
    } else {
        (year, this)
    }
}

/// Refuses a first-grade application outside the window, for a child of the wrong age, or for
/// a child who already has one; `application_id` is the one being sent. Returns the school
/// year it applies for.
pub async fn check(
    state: &AppState,
    application_id: &str,
    child: &str,
    now: i64,
) -> Result<i32, ApiError> {
    let (school_year, window) = window(state, now);
    if let WindowState::NotYetOpen { opens_at } = window.state(now) {
        return Err(ApiError::invalid(
            FieldProblem::new("grade", Msg::ErrorFirstGradeNotOpen)
                .arg("date", crate::pdf::local_date_time(opens_at)),
        ));
    }
    let iin = Iin::parse(child)
        .map_err(|e| ApiError::invalid(FieldProblem::new("subject_iin", e.message())))?;
    if let Some((msg, args)) = AgeRule::default()
        .verdict(iin.birth_date(), school_year)
        .refusal()
    {
        let mut problem = FieldProblem::new("subject_iin", msg);
        for (name, value) in args {
            problem = problem.arg(name, value);
        }
        return Err(ApiError::invalid(problem));
    }
    if let Some(number) = existing(state, application_id, child).await? {
        return Err(duplicate(number));
    }
    Ok(school_year)
}

/// Statuses in which an application no longer holds a place or blocks another one.
const INACTIVE: &str =
    "('draft', 'withdrawn', 'refused', 'refused_to_accept', 'signature_rejected')";

/// Where application `id` stands in its school's first-grade queue: the still-active
/// applications sent before it, plus one. `None` for other applications and ended ones.
pub async fn queue_place(state: &AppState, id: &str) -> anyhow::Result<Option<QueuePlace>> {
    let sql = format!(
        "SELECT a.first_grade_year,
                (SELECT COUNT(*) FROM applications b
                  WHERE b.organisation_id = a.organisation_id AND b.first_grade_year = a.first_grade_year
                    AND b.first_grade_position <= a.first_grade_position AND b.status NOT IN {INACTIVE}),
                o.first_grade_places
         FROM applications a JOIN organisations o ON o.id = a.organisation_id
         WHERE a.id = $1 AND a.first_grade_position IS NOT NULL AND a.status NOT IN {INACTIVE}"
    );
    let row: Option<(i64, i64, Option<i64>)> = on_db!(&state.db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(row.map(|(year, position, places)| QueuePlace {
        school_year: year as i32,
        position: position.max(1) as u64,
        places: places.map(|p| p.clamp(0, i64::from(u32::MAX)) as u32),
    }))
}

/// The number of the child's active first-grade application other than `application_id`.
pub async fn existing(
    state: &AppState,
    application_id: &str,
    child: &str,
) -> anyhow::Result<Option<String>> {
    let sql = format!(
        "SELECT number FROM applications WHERE first_grade_child = $1 AND id <> $2 AND status NOT IN {INACTIVE}"
    );
    Ok(on_db!(&state.db, |pool| {
        sqlx::query_scalar(&sql)
            .bind(child)
            .bind(application_id)
            .fetch_optional(pool)
            .await
    })?)
}

pub fn duplicate(number: String) -> ApiError {
    ApiError::invalid(
        FieldProblem::new("subject_iin", Msg::ErrorFirstGradeDuplicate).arg("number", number),
    )
}
