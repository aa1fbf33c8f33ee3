//! The working-day calendar in use: the shipped file (`PORTAL_CALENDAR_FILE`) with the years
//! administrators edited on top (the government announces transfers of days off each year).
//! Due dates are computed from it; an edit applies to due dates computed from then on.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use axum::Json;
use axum::extract::{Path, State};
use portal_domain::api::ErrorBody;
use portal_domain::calendar::{Calendar, CalendarFile, CalendarYear, CalendarYearView};
use portal_i18n::Msg;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::auth::Admin;
use crate::app::AppState;
use crate::db::{Db, now_millis};
use crate::error::{ApiError, ApiJson, FieldProblem};
use crate::on_db;

pub struct CalendarStore {
    shipped: CalendarFile,
    edited: RwLock<BTreeMap<String, CalendarYear>>,
    current: RwLock<Arc<Calendar>>,
}

impl CalendarStore {
    pub fn new(shipped: CalendarFile) -> Result<CalendarStore, String> {
        let current = Calendar::from_file(&shipped)?;
        Ok(CalendarStore {
            shipped,
            edited: RwLock::default(),
            current: RwLock::new(Arc::new(current)),
        })
    }

    /// The calendar as it is now.
    pub fn get(&self) -> Arc<Calendar> {
        self.current.read().expect("not poisoned").clone()
    }

    /// Applies the administrators' edits stored in the database.
    pub async fn load_edits(&self, db: &Db) -> anyhow::Result<()> {
        let rows: Vec<(i64, String)> = on_db!(db, |pool| sqlx::query_as(
            "SELECT year, data FROM calendar_years ORDER BY year"
        )
        .fetch_all(pool)
        .await)?;
        let mut edits = BTreeMap::new();
        for (year, data) in rows {
            edits.insert(year.to_string(), serde_json::from_str(&data)?);
        }
        let calendar = Calendar::from_file(&self.merged(&edits))
            .map_err(|e| anyhow::anyhow!("the edited calendar: {e}"))?;
        *self.edited.write().expect("not poisoned") = edits;
        *self.current.write().expect("not poisoned") = Arc::new(calendar);
        Ok(())
    }

    fn merged(&self, edits: &BTreeMap<String, CalendarYear>) -> CalendarFile {
        let mut file = self.shipped.clone();
        for (year, data) in edits {
            file.years.insert(year.clone(), data.clone());
        }
        file
    }

    pub fn year(&self, year: i32) -> CalendarYearView {
        let key = year.to_string();
        let edited = self.edited.read().expect("not poisoned").get(&key).cloned();
        let data = edited
            .clone()
            .or_else(|| self.shipped.years.get(&key).cloned())
            .unwrap_or(CalendarYear {
                holidays: vec![],
                extra_days_off: vec![],
                working_weekend_days: vec![],
                verified: false,
            });
        CalendarYearView {
            year,
            data,
            edited: edited.is_some(),
            working_days: self.get().working_days_in(year),
        }
    }

    /// Checks and stores an administrator's version of `year`; the calendar changes at once.
    async fn set_year(
        &self,
        db: &Db,
        year: i32,
        data: CalendarYear,
        user_id: &str,
    ) -> Result<(), ApiError> {
        if data.holidays.len() + data.extra_days_off.len() + data.working_weekend_days.len() > 366 {
            let problem = FieldProblem::new("data", Msg::ErrorCalendarInvalid)
                .arg("problem", "more days than a year has");
            return Err(ApiError::invalid(problem));
        }
        data.check(year).map_err(ApiError::Invalid)?;
        let mut edits = self.edited.read().expect("not poisoned").clone();
        edits.insert(year.to_string(), data.clone());
        let calendar = Calendar::from_file(&self.merged(&edits)).map_err(|problem| {
            ApiError::invalid(
                FieldProblem::new("data", Msg::ErrorCalendarInvalid).arg("problem", problem),
            )
        })?;
        let json = serde_json::to_string(&data)?;
        on_db!(db, |pool| {
            sqlx::query(
                "INSERT INTO calendar_years (year, data, updated_at, updated_by) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (year) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(i64::from(year))
            .bind(&json)
            .bind(now_millis())
            .bind(user_id)
            .execute(pool)
            .await.map(|r| r.rows_affected())
        })?;
        *self.edited.write().expect("not poisoned") = edits;
        *self.current.write().expect("not poisoned") = Arc::new(calendar);
        Ok(())
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_year, put_year))
}

/// A year the portal keeps data for (calendars, first-grade windows), or 404.
pub fn checked_year(year: i32) -> Result<i32, ApiError> {
    if (2000..=2100).contains(&year) {
        Ok(year)
    } else {
        Err(ApiError::NotFound(Msg::ErrorCalendarYear))
    }
}

/// A year of the working-day calendar: holidays, extra days off, working weekend days.
#[utoipa::path(
    get,
    path = "/api/admin/calendar/{year}",
    tag = "administration",
    security(("session" = [])),
    params(("year" = i32, Path)),
    responses((status = 200, body = CalendarYearView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn get_year(
    State(state): State<AppState>,
    _admin: Admin,
    Path(year): Path<i32>,
) -> Result<Json<CalendarYearView>, ApiError> {
    Ok(Json(state.calendar.year(checked_year(year)?)))
}

/// Replaces a year of the calendar (for example when the government moves days off).
#[utoipa::path(
    put,
    path = "/api/admin/calendar/{year}",
    tag = "administration",
    security(("session" = [])),
    params(("year" = i32, Path)),
    request_body = CalendarYear,
    responses(
        (status = 200, body = CalendarYearView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 422, description = "A date outside the year, a working weekend day that is not a weekend…", body = ErrorBody),
    )
)]
async fn put_year(
    State(state): State<AppState>,
    Admin(auth): Admin,
    Path(year): Path<i32>,
    ApiJson(data): ApiJson<CalendarYear>,
) -> Result<Json<CalendarYearView>, ApiError> {
    let year = checked_year(year)?;
    state
        .calendar
        .set_year(&state.db, year, data, &auth.user.id)
        .await?;
    tracing::info!(year, "calendar year edited");
    Ok(Json(state.calendar.year(year)))
}
