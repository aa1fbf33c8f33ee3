//! First-grade enrolment on the server: a school-enrolment application for grade 1 is accepted
//! only inside the year's window, for a child of first-grade age (from the IIN), and once per
//! child across all schools (also enforced by a unique index, for two sent at the same moment).

use axum::Json;
use axum::extract::{Path, State};
use portal_domain::api::ErrorBody;
use portal_domain::calendar::local_day_and_minute;
use portal_domain::first_grade::{
    AgeRule, QueuePlace, Window, WindowEdit, WindowState, WindowView,
};
use portal_domain::form::{Answer, Answers};
use portal_domain::iin::Iin;
use portal_i18n::Msg;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::auth::Admin;
use crate::app::AppState;
use crate::db::now_millis;
use crate::error::{ApiError, ApiJson, FieldProblem};
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

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(current_window))
        .routes(routes!(get_window, put_window))
}

/// School year `year`'s window: an administrator's, or the configured days.
async fn window_of(state: &AppState, year: i32) -> anyhow::Result<(Window, bool)> {
    let stored: Option<(i64, i64)> = on_db!(&state.db, |pool| sqlx::query_as(
        "SELECT opens_at, closes_at FROM first_grade_windows WHERE school_year = $1"
    )
    .bind(i64::from(year))
    .fetch_optional(pool)
    .await)?;
    Ok(match stored {
        Some((opens_at, closes_at)) => (
            Window {
                opens_at,
                closes_at,
            },
            true,
        ),
        None => {
            let (first, last) = state.config.first_grade_window;
            let window = Window::for_year(year, first, last)
                .expect("the configured window exists every year");
            (window, false)
        }
    })
}

/// The school year applications are taken for at `now`, and its window: this year's until it
/// closes, then next year's.
pub async fn window(state: &AppState, now: i64) -> anyhow::Result<(i32, Window, bool)> {
    let year = local_day_and_minute(now).0.year();
    let (this, edited) = window_of(state, year).await?;
    if now < this.closes_at {
        return Ok((year, this, edited));
    }
    let (next, edited) = window_of(state, year + 1).await?;
    Ok((year + 1, next, edited))
}

fn view(school_year: i32, window: Window, edited: bool, now: i64) -> WindowView {
    WindowView {
        school_year,
        opens_at: window.opens_at,
        closes_at: window.closes_at,
        open: window.state(now) == WindowState::Open,
        edited,
    }
}

/// When first-grade applications are sent: the coming school year's window, and whether it
/// is open now. Public.
#[utoipa::path(
    get,
    path = "/api/first-grade/window",
    tag = "first grade",
    responses((status = 200, body = WindowView))
)]
async fn current_window(State(state): State<AppState>) -> Result<Json<WindowView>, ApiError> {
    let now = now_millis();
    let (year, window, edited) = window(&state, now).await?;
    Ok(Json(view(year, window, edited, now)))
}

fn school_year(year: i32) -> Result<i32, ApiError> {
    if (2000..=2100).contains(&year) {
        Ok(year)
    } else {
        Err(ApiError::NotFound(Msg::ErrorCalendarYear))
    }
}

/// A school year's window, as set or by default.
#[utoipa::path(
    get,
    path = "/api/admin/first-grade/{year}",
    tag = "administration",
    security(("session" = [])),
    params(("year" = i32, Path, description = "The school year, by the year it starts in")),
    responses((status = 200, body = WindowView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn get_window(
    State(state): State<AppState>,
    _admin: Admin,
    Path(year): Path<i32>,
) -> Result<Json<WindowView>, ApiError> {
    let year = school_year(year)?;
    let (window, edited) = window_of(&state, year).await?;
    Ok(Json(view(year, window, edited, now_millis())))
}

/// Sets a school year's window to the minute, as the government announces it.
#[utoipa::path(
    put,
    path = "/api/admin/first-grade/{year}",
    tag = "administration",
    security(("session" = [])),
    params(("year" = i32, Path, description = "The school year, by the year it starts in")),
    request_body = WindowEdit,
    responses(
        (status = 200, body = WindowView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "Closes before it opens, or outside the school year", body = ErrorBody),
    )
)]
async fn put_window(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(year): Path<i32>,
    ApiJson(edit): ApiJson<WindowEdit>,
) -> Result<Json<WindowView>, ApiError> {
    let year = school_year(year)?;
    let window = edit.check(year).map_err(ApiError::Invalid)?;
    on_db!(&state.db, |pool| {
        sqlx::query(
        "INSERT INTO first_grade_windows (school_year, opens_at, closes_at, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (school_year) DO UPDATE SET opens_at = excluded.opens_at, closes_at = excluded.closes_at,
             updated_at = excluded.updated_at, updated_by = excluded.updated_by"
    )
    .bind(i64::from(year))
    .bind(window.opens_at)
    .bind(window.closes_at)
    .bind(now_millis())
    .bind(&admin.user.id)
    .execute(pool)
    .await
    })?;
    tracing::info!(admin = %admin.user.id, year, "first-grade window set");
    Ok(Json(view(year, window, true, now_millis())))
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
    let (school_year, window, _) = window(state, now).await?;
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
