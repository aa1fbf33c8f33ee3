//! Processing: the regulated lifecycle after submission. Every change of status goes through
//! [`apply`], which checks the move against [`portal_domain::workflow::next`], changes the
//! status only if it is still the one the actor saw, records the hash-chained event in the same
//! transaction, and then tells the applicant.

pub mod citizen;
pub mod events;
pub mod files;
pub mod officer;
pub mod pickup;
pub mod results;
pub mod storage;

use portal_domain::application::Status;
use portal_domain::calendar::local_day_and_minute;
use portal_domain::date::Date;
use portal_domain::service::{RefusalGround, ResultForm, StepChannel};
use portal_domain::text::Text;
use portal_domain::workflow::{
    self as flow, Action, Actor, Deadline, EventView, Forbidden, Progress, Rules,
};
use portal_i18n::{Lang, Msg, t, tf};
use utoipa_axum::router::OpenApiRouter;

use self::events::{EventDetails, NewEvent};
use crate::app::AppState;
use crate::applications::store::ApplicationRow;
use crate::db::now_millis;
use crate::error::ApiError;
use crate::on_db;

pub fn routes() -> OpenApiRouter<AppState> {
    officer::routes()
        .merge(citizen::routes())
        .merge(files::routes())
}

pub fn rules(state: &AppState, row: &ApplicationRow) -> Rules {
    Rules {
        home_inspection: state
            .catalogue
            .get(&row.service_id)
            .is_some_and(|s| s.definition.home_inspection),
        priority_claim: !row.first_grade_priority_refused
            && crate::first_grade::claims_priority(row),
    }
}

/// Whether the service's result is collected in person, so a pickup time applies.
pub fn paper_result(state: &AppState, service_id: &str) -> bool {
    state
        .catalogue
        .get(service_id)
        .is_some_and(|s| s.definition.result.forms.contains(&ResultForm::Paper))
}

/// A move to record.
pub struct Change<'a> {
    pub actor: Actor,
    /// The user making it; `None` for the portal itself.
    pub actor_id: Option<&'a str>,
    pub action: Action,
    pub details: EventDetails,
    /// Assigns the application to this officer.
    pub assignee: Option<String>,
    /// The signed document the move issues.
    pub document: Option<results::Document>,
}

/// The status `change` leads to from `expected`, or why it may not be made.
pub fn check(
    state: &AppState,
    row: &ApplicationRow,
    expected: Status,
    change: &Change<'_>,
) -> Result<Status, ApiError> {
    let to =
        flow::next(expected, change.action, change.actor, rules(state, row)).map_err(
            |f| match f {
                Forbidden::NotYours => ApiError::Forbidden(Msg::ErrorForbidden),
                Forbidden::NotNow => ApiError::Conflict(Msg::ErrorWorkflowNotNow),
            },
        )?;
    if row.status() != expected {
        return Err(ApiError::Conflict(Msg::ErrorWorkflowChanged));
    }
    Ok(to)
}

/// Makes the move if the application is still in `expected`; of two officers acting at once,
/// one succeeds and the other is told the application changed. Returns the new status.
pub async fn apply(
    state: &AppState,
    row: &ApplicationRow,
    expected: Status,
    change: Change<'_>,
) -> Result<Status, ApiError> {
    let to = check(state, row, expected, &change)?;
    let now = now_millis();
    let moved = on_db!(&state.db, |pool| {
        async {
        let mut tx = pool.begin().await?;
        let done = sqlx::query(
            // A priority claim is refused once: of two officers refusing it at once, one does.
            "UPDATE applications SET status = $1, updated_at = $2, version = version + 1,
                    assignee_id = COALESCE($3, assignee_id),
                    result_ready_at = CASE WHEN $1 = 'result_ready' THEN $2 ELSE result_ready_at END,
                    first_grade_priority_refused = (first_grade_priority_refused OR $6)
             WHERE id = $4 AND status = $5 AND NOT (first_grade_priority_refused AND $6)",
        )
        .bind(to.code())
        .bind(now)
        .bind(change.assignee.as_deref())
        .bind(&row.id)
        .bind(expected.code())
        .bind(change.action == Action::RefusePriority)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok::<bool, anyhow::Error>(false);
        }
        if let Some(document) = &change.document {
            results::insert(&mut crate::db::Conn::from(&mut *tx), &row.id, document, now).await?;
        }
        let event = NewEvent {
            application_id: &row.id,
            at: now,
            actor_id: change.actor_id,
            actor: change.actor,
            action: change.action,
            from: expected,
            to,
            details: &change.details,
        };
        events::append(&mut crate::db::Conn::from(&mut *tx), &event).await?;
        files::attach(&mut crate::db::Conn::from(&mut *tx), &change.details.files).await?;
        tx.commit().await?;
        Ok(true)
    }
    .await
    })?;
    if !moved {
        return Err(ApiError::Conflict(Msg::ErrorWorkflowChanged));
    }
    tracing::info!(application = %row.id, action = change.action.code(), from = expected.code(), to = to.code(), "status changed");
    Ok(to)
}

/// Tells the applicant that `row` moved to `to`, in all three languages; `details` gives the
/// reason of refusals. Failing to notify never undoes the change: it is logged.
pub async fn announce(
    state: &AppState,
    row: &ApplicationRow,
    action: Action,
    to: Status,
    details: &EventDetails,
) {
    if let Err(e) = try_announce(state, row, action, to, details).await {
        tracing::warn!(application = %row.id, error = %e, "cannot notify the applicant");
    }
}

async fn try_announce(
    state: &AppState,
    row: &ApplicationRow,
    action: Action,
    to: Status,
    details: &EventDetails,
) -> anyhow::Result<()> {
    let pickup = pickup::booking(state, &row.id).await?;
    let (title, body) = match (action, to) {
        (Action::RefusePriority, _) => (
            Msg::NotificationsPriorityRefusedTitle,
            Some(Msg::NotificationsPriorityRefusedBody),
        ),
        (_, to) => (
            Msg::NotificationsStatusTitle,
            status_body(to, pickup.is_some()),
        ),
    };
    let Some(body) = body else {
        return Ok(());
    };
    let reason = reason_text(state, &row.service_id, details);
    let due = row
        .expected_result_date
        .as_deref()
        .and_then(|d| d.parse::<Date>().ok())
        .map(crate::pdf::date)
        .unwrap_or_default();
    let pickup_args = |lang: Lang| match &pickup {
        Some(p) => {
            let (day, minute) = local_day_and_minute(p.starts_at);
            vec![
                ("date", crate::pdf::date(day)),
                ("time", format!("{:02}:{:02}", minute / 60, minute % 60)),
                ("place", p.place.get(lang).to_string()),
                ("address", p.address.get(lang).to_string()),
            ]
        }
        None => vec![],
    };
    let extra = |lang: Lang| {
        let mut args = vec![
            ("status", t(lang, to.msg()).to_string()),
            ("due", due.clone()),
            ("reason", reason.get(lang).to_string()),
        ];
        args.extend(pickup_args(lang));
        args
    };
    crate::applications::notify_with(state, row, None, title, body, &extra).await
}

/// The notice of a move to `to`; `None` for states the applicant is told about otherwise.
fn status_body(to: Status, pickup: bool) -> Option<Msg> {
    Some(match to {
        Status::Registered => Msg::NotificationsRegisteredBody,
        Status::InReview => Msg::NotificationsInReviewBody,
        Status::HomeInspection => Msg::NotificationsHomeInspectionBody,
        Status::ResultReady if pickup => Msg::NotificationsResultReadyBody,
        Status::ResultReady => Msg::NotificationsResultReadyElectronicBody,
        Status::Issued => Msg::NotificationsIssuedBody,
        Status::RefusedToAccept => Msg::NotificationsRefusedToAcceptBody,
        Status::Refused => Msg::NotificationsRefusedBody,
        Status::Withdrawn => Msg::NotificationsWithdrawnBody,
        Status::ReturnedToStorage => Msg::NotificationsReturnedToStorageBody,
        Status::Submitted => Msg::NotificationsSignatureConfirmedBody,
        Status::Draft | Status::SignaturePending | Status::SignatureRejected => return None,
    })
}

/// The grounds a refusal of `service_id` may cite: the service's own, the law's general ones,
/// and for school enrolment that the first grade has no places left.
pub fn refusal_grounds(state: &AppState, service_id: &str) -> Vec<RefusalGround> {
    let mut grounds = state
        .catalogue
        .get(service_id)
        .map(|s| s.definition.refusal_grounds.items.clone())
        .unwrap_or_default();
    grounds.extend(flow::general_refusal_grounds());
    if service_id == crate::first_grade::SERVICE {
        grounds.push(portal_domain::first_grade::no_places_ground());
    }
    grounds
}

/// The refusal's grounds and explanation in each language, for notices and documents.
pub fn reason_text(state: &AppState, service_id: &str, details: &EventDetails) -> Text {
    let grounds = refusal_grounds(state, service_id);
    Text::from_fn(|lang| {
        let mut parts: Vec<String> = details
            .grounds
            .iter()
            .filter_map(|id| {
                grounds
                    .iter()
                    .find(|g| &g.id == id)
                    .map(|g| g.text.get(lang).trim_end_matches('.').to_string())
            })
            .collect();
        let names: Vec<String> = details
            .missing
            .iter()
            .map(|id| document_name(state, service_id, id).get(lang).to_string())
            .collect();
        if !names.is_empty() {
            parts.push(format!(
                "{}: {}",
                t(lang, Msg::ResultMissing),
                names.join(", ")
            ));
        }
        if let Some(reason) = &details.reason {
            parts.push(reason.trim().trim_end_matches('.').to_string());
        }
        parts.join("; ")
    })
}

/// A document of the service's list by id, or the id itself.
pub fn document_name(state: &AppState, service_id: &str, id: &str) -> Text {
    state
        .catalogue
        .get(service_id)
        .and_then(|s| s.definition.documents.items.iter().find(|d| d.id == id))
        .map(|d| d.name.clone())
        .unwrap_or_else(|| Text::same(id))
}

/// The timeline as the applicant and the officer see it.
pub async fn timeline(
    state: &AppState,
    row: &ApplicationRow,
) -> anyhow::Result<(Vec<EventView>, bool)> {
    let rows = events::list(&state.db, &row.id).await?;
    let intact = events::intact(&rows, row.status());
    let mut names: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    let mut views = Vec::with_capacity(rows.len());
    for e in &rows {
        let actor = Actor::parse(&e.actor_role).unwrap_or(Actor::System);
        let actor_name = match (&e.actor_id, actor) {
            (Some(id), Actor::Officer) => {
                if !names.contains_key(id) {
                    let name = crate::accounts::users::by_id(&state.db, id)
                        .await?
                        .map(|u| format!("{} {}", u.last_name, u.first_name))
                        .unwrap_or_default();
                    names.insert(id.clone(), name);
                }
                names.get(id).cloned()
            }
            _ => None,
        };
        let details = e.details();
        views.push(EventView {
            seq: e.seq,
            at: e.at,
            action: Action::parse(&e.action).unwrap_or(Action::Submit),
            actor,
            actor_name,
            from: Status::parse(&e.from_status).unwrap_or(Status::Submitted),
            to: Status::parse(&e.to_status).unwrap_or(Status::Submitted),
            details: detail_lines(state, &row.service_id, &details),
            files: details.files,
        });
    }
    Ok((views, intact))
}

fn detail_lines(state: &AppState, service_id: &str, d: &EventDetails) -> Vec<Text> {
    let mut lines = Vec::new();
    if !d.grounds.is_empty() || !d.missing.is_empty() || d.reason.is_some() {
        lines.push(reason_text(state, service_id, d));
    }
    if let Some(name) = &d.assignee_name {
        lines.push(Text::same(name));
    }
    if let Some(day) = d.visited_on {
        lines.push(Text::same(&crate::pdf::date(day)));
    }
    for s in [&d.findings, &d.decision, &d.recipient]
        .into_iter()
        .flatten()
    {
        lines.push(Text::same(s));
    }
    if let Some(shown) = d.shown {
        lines.push(Text::from_msg(match shown {
            flow::IdentityShown::IdentityDocument => Msg::WorkflowShownIdentityDocument,
            flow::IdentityShown::NotarisedPowerOfAttorney => Msg::WorkflowShownPowerOfAttorney,
        }));
    }
    if let Some(at) = d.pickup_at {
        lines.push(Text::same(&crate::pdf::local_date_time(at)));
    }
    if let Some(number) = &d.document {
        lines.push(Text::same(number));
    }
    lines
}

/// The provider's steps and the day each is due, from the submission.
pub fn deadlines(
    state: &AppState,
    row: &ApplicationRow,
    today: Date,
) -> (Vec<Deadline>, Option<Date>, bool) {
    let Some(service) = state.catalogue.get(&row.service_id) else {
        return (vec![], None, false);
    };
    let Some(submitted_at) = row.submitted_at else {
        return (vec![], None, false);
    };
    let steps: Vec<_> = service
        .definition
        .steps
        .iter()
        .filter(|s| s.channel == StepChannel::Provider)
        .collect();
    let calendar = state.calendar.get();
    let due_days = calendar.step_due_dates(
        submitted_at,
        &steps.iter().map(|s| s.duration).collect::<Vec<_>>(),
    );
    let status = row.status();
    let done_count = flow::steps_done(status, steps.len());
    let open = !status.is_final() && status != Status::ResultReady;
    let deadlines = steps
        .iter()
        .zip(due_days)
        .enumerate()
        .filter_map(|(i, (step, due))| {
            let due = due?;
            let done = i < done_count;
            Some(Deadline {
                step: step.action.clone(),
                due,
                done,
                overdue: !done && open && due < today,
            })
        })
        .collect();
    let due = row
        .expected_result_date
        .as_deref()
        .and_then(|d| d.parse::<Date>().ok());
    let overdue = open && due.is_some_and(|d| d < today);
    (deadlines, due, overdue)
}

pub fn today() -> Date {
    local_day_and_minute(now_millis()).0
}

/// Everything that happened to `row` and what comes next, for `viewer`.
pub async fn progress(
    state: &AppState,
    row: &ApplicationRow,
    viewer: Actor,
) -> Result<(Progress, bool), ApiError> {
    let (timeline, intact) = timeline(state, row).await?;
    let (deadlines, due, overdue) = deadlines(state, row, today());
    let pickup = pickup::booking(state, &row.id).await?;
    let result = results::view(state, &row.id).await?;
    let allowed = flow::allowed(row.status(), viewer, rules(state, row));
    let progress = Progress {
        timeline,
        deadlines,
        due,
        overdue,
        pickup,
        result,
        allowed,
        paper_result: paper_result(state, &row.service_id),
    };
    Ok((progress, intact))
}

/// Limits on the officer's free text: long enough for a decision, not a book.
pub const MAX_REASON_CHARS: usize = 2000;

/// A required free-text field, trimmed, at most `max` characters.
pub fn required_text(
    field: &str,
    value: &str,
    missing: Msg,
    max: usize,
) -> Result<String, crate::error::FieldProblem> {
    let value = value.trim();
    if value.is_empty() {
        return Err(crate::error::FieldProblem::new(field, missing));
    }
    if value.chars().count() > max {
        return Err(
            crate::error::FieldProblem::new(field, Msg::ErrorWorkflowTextTooLong)
                .arg("max", max.to_string()),
        );
    }
    if value
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(crate::error::FieldProblem::new(
            field,
            Msg::ErrorFormControlCharacters,
        ));
    }
    Ok(value.to_string())
}

/// The text `msg` with `args` in `lang`.
pub fn fill(lang: Lang, msg: Msg, args: &[(&str, String)]) -> String {
    tf(
        lang,
        msg,
        &args
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    )
}
