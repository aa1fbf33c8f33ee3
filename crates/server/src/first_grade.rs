//! First-grade enrolment on the server: a school-enrolment application for grade 1 is accepted
//! only inside the year's window, for a child of first-grade age (from the IIN), and once per
//! child across all schools (also enforced by a unique index, for two sent at the same moment).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portal_domain::api::ErrorBody;
use portal_domain::application::{ApplicationView, Status, SubmitRequest};
use portal_domain::calendar::local_day_and_minute;
use portal_domain::first_grade::{
    AgeRule, Candidate, EnrolmentOutcome, EnrolmentRequest, Placement, QueuePlace, SchoolCheck,
    Window, WindowEdit, WindowState, WindowView, allocate, no_places_ground,
};
use portal_domain::form::{Answer, Answers, NO_PRIORITY};
use portal_domain::iin::Iin;
use portal_domain::organisation::{Organisation, PriorityCategory};
use portal_domain::workflow::{ActionRequest, OfficerAction};
use portal_i18n::Msg;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::auth::{Admin, Citizen, Officer};
use crate::app::AppState;
use crate::applications::Sending;
use crate::applications::store::ApplicationRow;
use crate::db::now_millis;
use crate::error::{ApiError, ApiJson, FieldProblem};
use crate::lang::RequestLang;
use crate::on_db;
use crate::workflow::officer::perform;

pub const SERVICE: &str = "school-enrollment";

/// The form's fields for the school and the priority category claimed at it.
const SCHOOL_FIELD: &str = "school";
const PRIORITY_FIELD: &str = "priority";

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
        .routes(routes!(schedule, unschedule))
        .routes(routes!(enrol))
}

/// A school year's window and age rule.
#[derive(Clone, Copy)]
pub struct YearRules {
    pub school_year: i32,
    pub window: Window,
    pub age: AgeRule,
    /// Set by an administrator (else the configured days and the portal's age rule).
    pub edited: bool,
}

/// School year `year`'s rules: an administrator's, or the configured days.
async fn rules_of(state: &AppState, year: i32) -> anyhow::Result<YearRules> {
    let read = async {
        let stored: Option<(i64, i64, i64, i64)> = on_db!(&state.db, |pool| {
            sqlx::query_as(
            "SELECT opens_at, closes_at, age_youngest, age_oldest FROM first_grade_windows WHERE school_year = $1"
        )
        .bind(i64::from(year))
        .fetch_optional(pool)
        .await
        })?;
        anyhow::Ok(stored)
    };
    // Every submission checks the window: read at most CACHED_FOR ago.
    let stored = state
        .recent
        .first_grade_rules
        .get_or_load(&year, read)
        .await?;
    Ok(match stored {
        Some((opens_at, closes_at, youngest, oldest)) => YearRules {
            school_year: year,
            window: Window {
                opens_at,
                closes_at,
            },
            age: AgeRule {
                youngest: youngest.clamp(0, 100) as u32,
                oldest: oldest.clamp(0, 100) as u32,
            },
            edited: true,
        },
        None => {
            let (first, last) = state.config.first_grade_window;
            YearRules {
                school_year: year,
                window: Window::for_year(year, first, last)
                    .expect("the configured window exists every year"),
                age: AgeRule::default(),
                edited: false,
            }
        }
    })
}

/// The school year applications are taken for at `now`, and its rules: this year's until its
/// window closes, then next year's.
pub async fn rules(state: &AppState, now: i64) -> anyhow::Result<YearRules> {
    let year = local_day_and_minute(now).0.year();
    let this = rules_of(state, year).await?;
    if now < this.window.closes_at {
        return Ok(this);
    }
    rules_of(state, year + 1).await
}

fn view(rules: YearRules, now: i64) -> WindowView {
    WindowView {
        school_year: rules.school_year,
        opens_at: rules.window.opens_at,
        closes_at: rules.window.closes_at,
        open: rules.window.state(now) == WindowState::Open,
        edited: rules.edited,
        age: rules.age,
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
    Ok(Json(view(rules(&state, now).await?, now)))
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
    let year = crate::calendar::checked_year(year)?;
    Ok(Json(view(rules_of(&state, year).await?, now_millis())))
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
    let year = crate::calendar::checked_year(year)?;
    let (window, age) = edit.check(year).map_err(ApiError::Invalid)?;
    // The drafts scheduled for the opening move with it, earlier or later: parents are shown
    // the new moment, and are sent at it.
    let before = rules_of(&state, year).await?.window.opens_at;
    on_db!(&state.db, |pool| sqlx::query(
        "UPDATE scheduled_submissions SET sends_at = $1 WHERE sends_at = $2"
    )
    .bind(window.opens_at)
    .bind(before)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    on_db!(&state.db, |pool| {
        sqlx::query(
        "INSERT INTO first_grade_windows (school_year, opens_at, closes_at, age_youngest, age_oldest, updated_at, updated_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (school_year) DO UPDATE SET opens_at = excluded.opens_at, closes_at = excluded.closes_at,
             age_youngest = excluded.age_youngest, age_oldest = excluded.age_oldest,
             updated_at = excluded.updated_at, updated_by = excluded.updated_by"
    )
    .bind(i64::from(year))
    .bind(window.opens_at)
    .bind(window.closes_at)
    .bind(i64::from(age.youngest))
    .bind(i64::from(age.oldest))
    .bind(now_millis())
    .bind(&admin.user.id)
    .execute(pool)
    .await.map(|r| r.rows_affected())
    })?;
    tracing::info!(admin = %admin.user.id, year, "first-grade window set");
    state.recent.first_grade_rules.forget(&year);
    let rules = YearRules {
        school_year: year,
        window,
        age,
        edited: true,
    };
    Ok(Json(view(rules, now_millis())))
}

/// Who applies, for which child, with which answers (the file fields holding attachment ids).
pub struct Applying<'a> {
    pub application_id: &'a str,
    pub applicant_iin: &'a str,
    pub answers: &'a Answers,
    pub child: &'a str,
}

/// Refuses a first-grade application outside the window, for a child of the wrong age, for a
/// child the applicant is not registered as a parent of (unless applying as a representative),
/// for a child the register does not know without a birth certificate copy, or for a child who
/// already has one. Returns the school year it applies for.
pub async fn check(
    state: &AppState,
    applying: Applying<'_>,
    now: i64,
    sending: Sending,
) -> Result<i32, ApiError> {
    let Applying {
        application_id,
        applicant_iin,
        answers,
        child,
    } = applying;
    let YearRules {
        school_year,
        window,
        age,
        ..
    } = rules(state, now).await?;
    match (window.state(now), sending) {
        (WindowState::NotYetOpen { opens_at }, Sending::Now | Sending::AtOpening) => {
            return Err(ApiError::invalid(
                FieldProblem::new("grade", Msg::ErrorFirstGradeNotOpen)
                    .arg("date", crate::pdf::local_date_time(opens_at)),
            ));
        }
        (WindowState::Open | WindowState::Closed, Sending::CheckForOpening) => {
            return Err(ApiError::Conflict(Msg::ErrorFirstGradeAlreadyOpen));
        }
        _ => {}
    }
    let iin = Iin::parse(child)
        .map_err(|e| ApiError::invalid(FieldProblem::new("subject_iin", e.message())))?;
    if let Some((msg, args)) = age.verdict(iin.birth_date(), school_year).refusal() {
        let mut problem = FieldProblem::new("subject_iin", msg);
        for (name, value) in args {
            problem = problem.arg(name, value);
        }
        return Err(ApiError::invalid(problem));
    }
    if let Some(register) = &state.population {
        match register.child(child) {
            Some(record) => {
                let as_parent =
                    matches!(answers.get("on_behalf"), Some(Answer::Text(w)) if w == "child");
                if as_parent && !record.parents.iter().any(|p| p == applicant_iin) {
                    return Err(ApiError::invalid(FieldProblem::new(
                        "subject_iin",
                        Msg::ErrorFirstGradeNotParent,
                    )));
                }
            }
            None => {
                let copy = matches!(answers.get("birth_certificate_copy"), Some(Answer::List(ids)) if !ids.is_empty());
                if !copy {
                    return Err(ApiError::invalid(FieldProblem::new(
                        "birth_certificate_copy",
                        Msg::ErrorFirstGradeBirthCertificate,
                    )));
                }
            }
        }
    }
    check_priority(state, answers).await?;
    // Sending is refused for a second child by the unique index (and then named); scheduling
    // stores nothing, so it asks.
    if sending == Sending::CheckForOpening {
        if let Some(number) = existing(state, application_id, child).await? {
            return Err(duplicate(number));
        }
    }
    Ok(school_year)
}

/// A claimed priority category must be one of the chosen school's (the form asks for its proof).
async fn check_priority(state: &AppState, answers: &Answers) -> Result<(), ApiError> {
    let (Some(Answer::Text(claimed)), Some(Answer::Text(school))) =
        (answers.get(PRIORITY_FIELD), answers.get(SCHOOL_FIELD))
    else {
        return Ok(());
    };
    if claimed == NO_PRIORITY {
        return Ok(());
    }
    let known = crate::organisations::get(state, school)
        .await?
        .is_some_and(|o| o.priority_rank(claimed).is_some());
    if known {
        Ok(())
    } else {
        Err(ApiError::invalid(FieldProblem::new(
            PRIORITY_FIELD,
            Msg::ErrorFirstGradePriorityUnknown,
        )))
    }
}

/// Tells the parents whose first-grade applications at `school` claim one of the priority
/// categories it no longer lists (`removed`): one already sent keeps its queue place and is
/// considered without priority; a draft cannot be sent until another category, or none, is
/// chosen, so its parent learns it now rather than when sending (or the opening) fails.
/// Returns how many were told.
pub async fn categories_withdrawn(
    state: &AppState,
    school: &Organisation,
    removed: &[PriorityCategory],
) -> anyhow::Result<usize> {
    if removed.is_empty() {
        return Ok(0);
    }
    let mut told = 0;
    for row in crate::applications::store::undecided_at(&state.db, SERVICE, &school.id).await? {
        let Ok(answers) = row.answers() else { continue };
        let Some(Answer::Text(claimed)) = answers.get(PRIORITY_FIELD) else {
            continue;
        };
        let Some(category) = removed.iter().find(|c| c.id == *claimed) else {
            continue;
        };
        let draft = row.status() == Status::Draft;
        let at_school =
            matches!(answers.get(SCHOOL_FIELD), Some(Answer::Text(s)) if *s == school.id);
        if (draft && !at_school) || row.first_grade_priority_refused {
            continue;
        }
        let (title, body) = if draft {
            (
                Msg::NotificationsDraftPriorityWithdrawnTitle,
                Msg::NotificationsDraftPriorityWithdrawnBody,
            )
        } else {
            (
                Msg::NotificationsPriorityWithdrawnTitle,
                Msg::NotificationsPriorityWithdrawnBody,
            )
        };
        let names = |l| {
            vec![
                ("category", category.name.get(l).to_string()),
                ("school", school.name.get(l).to_string()),
            ]
        };
        crate::applications::notify_with(state, &row, Some(school), title, body, &names).await?;
        told += 1;
    }
    Ok(told)
}

/// Whether `row` is a first-grade application that claims a priority category.
pub fn claims_priority(row: &ApplicationRow) -> bool {
    row.service_id == SERVICE
        && row.answers().is_ok_and(|answers| {
            matches!(answers.get(PRIORITY_FIELD), Some(Answer::Text(c)) if c != NO_PRIORITY)
        })
}

/// The rank of the priority category `answers` claim at `school`, 0 the highest.
fn priority_rank(school: &Organisation, answers: &Answers) -> Option<u32> {
    match answers.get(PRIORITY_FIELD) {
        Some(Answer::Text(claimed)) => school.priority_rank(claimed),
        _ => None,
    }
}

/// Statuses in which an application no longer holds a place or blocks another one.
const INACTIVE: &str =
    "('draft', 'withdrawn', 'refused', 'refused_to_accept', 'signature_rejected')";

/// The statuses of applications that left a queue (drafts never enter one). Written exactly as
/// in the partial index `applications_first_grade_left`, so SQLite can use it.
const LEFT_QUEUE: &str = "b.first_grade_position IS NOT NULL AND b.status IN ('withdrawn', 'refused', 'refused_to_accept', 'signature_rejected')";

/// Where application `id` stands in its school's first-grade queue: the still-active
/// applications sent before it, plus one. `None` for other applications and ended ones.
/// The place of the application at `position` in `school`'s queue for `year`, counted in
/// the transaction that gave the position.
pub async fn place_of(
    tx: &mut crate::db::Tx<'_>,
    school: &str,
    year: i32,
    position: i64,
) -> anyhow::Result<u64> {
    let sql = format!(
        "SELECT COUNT(*) FROM applications b
         WHERE b.organisation_id = $1 AND b.first_grade_year = $2 AND b.first_grade_position < $3 AND {LEFT_QUEUE}"
    );
    let left_before = tx
        .fetch_i64(
            &sql,
            &[
                crate::db::Arg::Text(Some(school)),
                crate::db::Arg::Int(Some(i64::from(year))),
                crate::db::Arg::Int(Some(position)),
            ],
        )
        .await?;
    Ok((position - left_before).max(1) as u64)
}

pub async fn queue_place(state: &AppState, id: &str) -> anyhow::Result<Option<QueuePlace>> {
    // Positions are given without gaps in commit order, so the place is the position less
    // the applications before it that left the queue.
    let sql = format!(
        "SELECT a.first_grade_year,
                a.first_grade_position - (SELECT COUNT(*) FROM applications b
                  WHERE b.organisation_id = a.organisation_id AND b.first_grade_year = a.first_grade_year
                    AND b.first_grade_position < a.first_grade_position AND {LEFT_QUEUE}),
                o.first_grade_places
         FROM applications a JOIN organisations o ON o.id = a.organisation_id
         WHERE a.id = $1 AND a.first_grade_position IS NOT NULL AND a.status NOT IN {INACTIVE}"
    );
    let row: Option<(i64, i64, Option<i64>)> = state
        .db
        .read(&sql, &[crate::db::Arg::Text(Some(id))])
        .await?;
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

/// Schedules a signed first-grade draft to be sent by the portal at the window's opening: it
/// is checked now as if sent (complete, the child's age, no other application, the signature),
/// and sent at the opening in the order of scheduling. Any change to the draft, or signing it
/// again, cancels the schedule.
#[utoipa::path(
    post,
    path = "/api/applications/{id}/scheduled-submission",
    tag = "first grade",
    security(("session" = [])),
    params(("id" = String, Path)),
    request_body = SubmitRequest,
    responses(
        (status = 202, description = "Scheduled; `scheduled_for` says when", body = ApplicationView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Applications are open (send it now), not a first-grade application, or the draft changed", body = ErrorBody),
        (status = 422, description = "Incomplete, the child's age, another application, or the signature", body = ErrorBody),
    )
)]
async fn schedule(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<SubmitRequest>,
) -> Result<(StatusCode, Json<ApplicationView>), ApiError> {
    let row = crate::applications::owned_draft(&state, &id, &auth.user.id).await?;
    let sent = crate::applications::send(
        &state,
        &auth.user,
        lang,
        row.clone(),
        &request,
        Sending::CheckForOpening,
        None,
    )
    .await?;
    let held = match sent {
        crate::applications::Sent::Checked(held) => held,
        _ => return Err(anyhow::anyhow!("checking for the opening stores nothing").into()),
    };
    let (held_document, held_certificate) = match held {
        Some(h) => (Some(h.document), Some(h.certificate)),
        None => (None, None),
    };
    let now = now_millis();
    let window = rules(&state, now).await?.window;
    let request = serde_json::to_string(&request).map_err(anyhow::Error::from)?;
    on_db!(&state.db, |pool| {
        sqlx::query(
        "INSERT INTO scheduled_submissions (application_id, user_id, lang, request, scheduled_at, sends_at,
                                            held_document, held_certificate)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (application_id) DO UPDATE SET lang = excluded.lang, request = excluded.request,
             scheduled_at = excluded.scheduled_at, sends_at = excluded.sends_at,
             held_document = excluded.held_document, held_certificate = excluded.held_certificate"
    )
    .bind(&row.id)
    .bind(&auth.user.id)
    .bind(lang.code())
    .bind(&request)
    .bind(now)
    .bind(window.opens_at)
    .bind(&held_document)
    .bind(&held_certificate)
    .execute(pool)
    .await.map(|r| r.rows_affected())
    })?;
    tracing::info!(application = %row.id, sends_at = window.opens_at, "first-grade application scheduled");
    let row = crate::applications::owned(&state, &id, &auth.user.id).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(crate::applications::view(&state, &row).await?),
    ))
}

/// Cancels a scheduled sending; the draft stays.
#[utoipa::path(
    delete,
    path = "/api/applications/{id}/scheduled-submission",
    tag = "first grade",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = ApplicationView),
        (status = 404, description = "No such draft of the caller", body = ErrorBody),
    )
)]
async fn unschedule(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path(id): Path<String>,
) -> Result<Json<ApplicationView>, ApiError> {
    let row = crate::applications::owned_draft(&state, &id, &auth.user.id).await?;
    crate::applications::store::unschedule(&state.db, &row.id).await?;
    Ok(Json(crate::applications::view(&state, &row).await?))
}

/// For a first-grade draft with a school chosen: the school's places, its active applications
/// for the coming school year, and whether the draft's address is in its territory.
pub async fn school_check(
    state: &AppState,
    row: &ApplicationRow,
) -> anyhow::Result<Option<SchoolCheck>> {
    let answers = row.answers()?;
    let first_grade = matches!(answers.get("grade"), Some(Answer::Text(g)) if g.trim() == "1");
    if row.service_id != SERVICE || !first_grade {
        return Ok(None);
    }
    let Some(Answer::Text(school_id)) = answers.get(SCHOOL_FIELD) else {
        return Ok(None);
    };
    let Some(school) = crate::organisations::get(state, school_id).await? else {
        return Ok(None);
    };
    let year = rules(state, now_millis()).await?.school_year;
    // The last position less those that left: no need to read every application.
    let sql = format!(
        "SELECT COALESCE(MAX(a.first_grade_position), 0) - (SELECT COUNT(*) FROM applications b
                  WHERE b.organisation_id = $1 AND b.first_grade_year = $2 AND {LEFT_QUEUE})
         FROM applications a WHERE a.organisation_id = $1 AND a.first_grade_year = $2
           AND a.first_grade_position IS NOT NULL"
    );
    let applications: i64 = on_db!(&state.db, |pool| sqlx::query_scalar(&sql)
        .bind(&school.id)
        .bind(i64::from(year))
        .fetch_one(pool)
        .await)?;
    let in_territory = match answers.get("residence") {
        Some(Answer::Address(address)) if !school.territory.is_empty() => Some(
            portal_domain::first_grade::in_territory(address, &school.territory),
        ),
        _ => None,
    };
    Ok(Some(SchoolCheck {
        school: school.name,
        places: school.first_grade_places,
        applications: applications.max(0) as u64,
        in_territory,
    }))
}

/// When the portal will send application `id`, if scheduled.
pub async fn scheduled_for(state: &AppState, id: &str) -> anyhow::Result<Option<i64>> {
    let sends_at: Option<(i64,)> = state
        .db
        .read(
            "SELECT sends_at FROM scheduled_submissions WHERE application_id = $1",
            &[crate::db::Arg::Text(Some(id))],
        )
        .await?;
    Ok(sends_at.map(|(at,)| at))
}

#[derive(sqlx::FromRow)]
struct Due {
    application_id: String,
    user_id: String,
    lang: String,
    request: String,
    held_document: Option<Vec<u8>>,
    held_certificate: Option<Vec<u8>>,
}

/// Sends the scheduled applications whose moment has come, in the order they were scheduled.
/// Each is sent as its applicant would send it; one that cannot be sent any more (its child
/// got another application meanwhile, its key was revoked) is dropped and its applicant told.
/// Returns how many were sent.
pub async fn send_due(state: &AppState, now: i64) -> anyhow::Result<usize> {
    let window = rules(state, now).await?.window;
    if let WindowState::NotYetOpen { opens_at } = window.state(now) {
        // The window moved later: the schedules follow it.
        on_db!(&state.db, |pool| sqlx::query(
            "UPDATE scheduled_submissions SET sends_at = $1 WHERE sends_at <= $2"
        )
        .bind(opens_at)
        .bind(now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        return Ok(0);
    }
    // Open: every schedule is due, also one an administrator's change of the opening did
    // not reach in time.
    let due: Vec<Due> = on_db!(&state.db, |pool| {
        sqlx::query_as(
        "SELECT application_id, user_id, lang, request, held_document, held_certificate FROM scheduled_submissions
         ORDER BY scheduled_at, application_id LIMIT 5000"
    )
    .fetch_all(pool)
    .await
    })?;
    // Several are checked at a time (the signature checks and reads wait on the cores and the
    // database, not on each other), but each is written after the one scheduled before it, so
    // the queue keeps the order of scheduling; and many go in each group commit instead of
    // one commit each.
    use futures_util::StreamExt;
    let turns = crate::db::Turn::line(due.len());
    let sending = due.into_iter().zip(turns).map(|(d, turn)| async move {
        let outcome = send_one(state, &d, turn).await;
        (d, outcome)
    });
    let mut outcomes = futures_util::stream::iter(sending).buffer_unordered(SENDING_AT_ONCE);
    let mut sent = 0;
    while let Some((d, outcome)) = outcomes.next().await {
        // Sending removes the schedule in the submission's own transaction.
        match outcome {
            Ok(()) => sent += 1,
            Err(e) => {
                crate::applications::store::unschedule(&state.db, &d.application_id).await?;
                tracing::warn!(application = %d.application_id, error = ?e, "a scheduled application could not be sent");
                if let Some(row) =
                    crate::applications::store::owned(&state.db, &d.application_id, &d.user_id)
                        .await?
                {
                    crate::applications::notify_about(
                        state,
                        &row,
                        Msg::NotificationsScheduleFailedTitle,
                        Msg::NotificationsScheduleFailedBody,
                    )
                    .await?;
                }
            }
        }
    }
    Ok(sent)
}

/// How many scheduled applications are checked at the same time at the opening.
const SENDING_AT_ONCE: usize = 64;

async fn send_one(state: &AppState, d: &Due, turn: crate::db::Turn) -> Result<(), ApiError> {
    let request: SubmitRequest = serde_json::from_str(&d.request).map_err(anyhow::Error::from)?;
    let user = crate::accounts::users::by_id(&state.db, &d.user_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the applicant vanished"))?;
    let row = crate::applications::store::owned(&state.db, &d.application_id, &d.user_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the application vanished"))?;
    let lang = portal_i18n::Lang::parse(&d.lang).unwrap_or(portal_i18n::Lang::Kk);
    let held = match (&d.held_document, &d.held_certificate) {
        (Some(document), Some(certificate)) => Some(crate::signing::Held {
            document: document.clone(),
            certificate: certificate.clone(),
        }),
        _ => None,
    };
    crate::applications::send(
        state,
        &user,
        lang,
        row,
        &request,
        Sending::AtOpening,
        Some(crate::applications::Opening { turn, held }),
    )
    .await?;
    Ok(())
}

/// [`send_due`] on one instance at a time: `None` when another instance is sending.
pub async fn send_due_once(state: &AppState, now: i64) -> anyhow::Result<Option<usize>> {
    state
        .db
        .exclusively("first-grade: send the scheduled", send_due(state, now))
        .await
}

/// The background task: checks every second, so the scheduled go within a second of opening.
pub async fn run(state: AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(1));
    loop {
        every.tick().await;
        match send_due_once(&state, now_millis()).await {
            Ok(None | Some(0)) => {}
            Ok(Some(n)) => {
                tracing::info!(applications = n, "scheduled first-grade applications sent")
            }
            Err(e) => tracing::warn!(error = %e, "cannot send scheduled applications"),
        }
    }
}

#[derive(sqlx::FromRow)]
struct Waiting {
    id: String,
    status: String,
    first_grade_position: i64,
    answers: String,
    first_grade_priority_refused: bool,
}

/// Decides the school's first grade for a school year in one go: the applications still
/// waiting are enrolled in the order of the queue (priority categories first, unless the school
/// did not accept the proof)
/// while places last, each with the signed enrolment notice; the rest are refused, citing that
/// there are no places. Each goes through the regulated moves (register, assign, decide), each
/// recorded and told to the parent.
#[utoipa::path(
    post,
    path = "/api/workspace/first-grade/enrolment",
    tag = "workspace",
    security(("session" = [])),
    request_body = EnrolmentRequest,
    responses(
        (status = 200, body = EnrolmentOutcome),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 409, description = "Not a school, or its first-grade places are not set", body = ErrorBody),
        (status = 422, description = "No decision text", body = ErrorBody),
    )
)]
async fn enrol(
    State(state): State<AppState>,
    officer: Officer,
    ApiJson(request): ApiJson<EnrolmentRequest>,
) -> Result<Json<EnrolmentOutcome>, ApiError> {
    let school = crate::organisations::read(&state.db, &officer.organisation_id)
        .await?
        .ok_or(ApiError::Forbidden(Msg::ErrorForbidden))?;
    let Some(places) = school.first_grade_places else {
        return Err(ApiError::Conflict(Msg::ErrorFirstGradeNoPlacesSet));
    };
    let decision = crate::workflow::required_text(
        "decision",
        &request.decision,
        Msg::ErrorWorkflowDecisionRequired,
        crate::workflow::MAX_REASON_CHARS,
    )
    .map_err(ApiError::invalid)?;
    let refusal = crate::workflow::required_text(
        "refusal",
        &request.refusal,
        Msg::ErrorWorkflowReasonRequired,
        crate::workflow::MAX_REASON_CHARS,
    )
    .map_err(ApiError::invalid)?;
    let year = crate::calendar::checked_year(request.school_year)?;
    let taken: i64 = on_db!(&state.db, |pool| {
        sqlx::query_scalar(
        "SELECT COUNT(*) FROM applications WHERE organisation_id = $1 AND first_grade_year = $2
           AND first_grade_position IS NOT NULL AND status IN ('result_ready', 'issued', 'returned_to_storage')"
    )
    .bind(&school.id)
    .bind(i64::from(year))
    .fetch_one(pool)
    .await
    })?;
    let waiting: Vec<Waiting> = on_db!(&state.db, |pool| {
        sqlx::query_as(
        "SELECT id, status, first_grade_position, answers, first_grade_priority_refused FROM applications WHERE organisation_id = $1 AND first_grade_year = $2
           AND first_grade_position IS NOT NULL AND status IN ('submitted', 'registered', 'in_review')
         ORDER BY first_grade_position"
    )
    .bind(&school.id)
    .bind(i64::from(year))
    .fetch_all(pool)
    .await
    })?;
    let candidates = waiting
        .iter()
        .map(|w| {
            let answers: Answers = serde_json::from_str(&w.answers)?;
            Ok(Candidate {
                id: w.id.clone(),
                position: w.first_grade_position.max(0) as u64,
                priority: priority_rank(&school, &answers)
                    .filter(|_| !w.first_grade_priority_refused),
            })
        })
        .collect::<anyhow::Result<Vec<Candidate>>>()?;
    let left = (i64::from(places) - taken).max(0) as u32;
    let mut outcome = EnrolmentOutcome {
        places,
        enrolled: 0,
        refused: 0,
    };
    for (id, placement) in allocate(&candidates, left) {
        let status = waiting
            .iter()
            .find(|w| w.id == id)
            .and_then(|w| Status::parse(&w.status))
            .unwrap_or(Status::Submitted);
        decide(
            &state, &officer, &id, status, placement, &decision, &refusal,
        )
        .await?;
        match placement {
            Placement::Enrolled => outcome.enrolled += 1,
            Placement::NoPlaces => outcome.refused += 1,
        }
    }
    tracing::info!(school = %school.id, year, enrolled = outcome.enrolled, refused = outcome.refused, "first grade decided");
    Ok(Json(outcome))
}

/// Carries one application from `status` to its decision through the regulated moves.
async fn decide(
    state: &AppState,
    officer: &Officer,
    id: &str,
    mut status: Status,
    placement: Placement,
    decision: &str,
    refusal: &str,
) -> Result<(), ApiError> {
    let act = |expected: Status, action: OfficerAction| ActionRequest {
        expected,
        action,
        files: Vec::new(),
    };
    if status == Status::Submitted {
        let case = perform(state, officer, id, act(status, OfficerAction::Register {})).await?;
        status = case.application.status;
    }
    if status == Status::Registered {
        let assign = OfficerAction::Assign {
            officer_id: officer.auth.user.id.clone(),
        };
        let case = perform(state, officer, id, act(status, assign)).await?;
        status = case.application.status;
    }
    let last = match placement {
        Placement::Enrolled => OfficerAction::Approve {
            decision: decision.to_string(),
        },
        Placement::NoPlaces => OfficerAction::Refuse {
            grounds: vec![no_places_ground().id],
            reason: refusal.to_string(),
        },
    };
    perform(state, officer, id, act(status, last)).await?;
    Ok(())
}
