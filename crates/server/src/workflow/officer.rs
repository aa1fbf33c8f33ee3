//! The provider workspace: the queue of the officer's organisation, an application's case file,
//! and the moves. An application of another organisation answers 404, as if it did not exist.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use portal_domain::api::ErrorBody;
use portal_domain::application::Status;
use portal_domain::workflow::{
    Action, ActionRequest, Actor, ApplicantView, CaseView, Colleague, Decision, OfficerAction,
    QueueFilter, QueueItem, SlotView,
};
use portal_i18n::Msg;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::events::EventDetails;
use super::{Change, MAX_REASON_CHARS, pickup, required_text, results};
use crate::accounts::auth::Officer;
use crate::app::AppState;
use crate::applications::store::{self, ApplicationRow};
use crate::error::{ApiError, ApiJson, ApiQuery, FieldProblem};
use crate::on_db;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(queue))
        .routes(routes!(case))
        .routes(routes!(act))
        .routes(routes!(slots))
        .routes(routes!(result_pdf))
}

/// States an officer never sees: drafts, and applications whose signature is not confirmed
/// (they have not reached the provider).
const HIDDEN: [Status; 3] = [
    Status::Draft,
    Status::SignaturePending,
    Status::SignatureRejected,
];

/// Application `id` of the officer's organisation, or 404.
pub async fn of_organisation(
    state: &AppState,
    id: &str,
    organisation_id: &str,
) -> Result<ApplicationRow, ApiError> {
    if !portal_domain::form::is_attachment_id(id) {
        return Err(ApiError::NotFound(Msg::ErrorApplicationNotFound));
    }
    store::submitted_to(&state.db, id, organisation_id)
        .await?
        .filter(|r| !HIDDEN.contains(&r.status()))
        .ok_or(ApiError::NotFound(Msg::ErrorApplicationNotFound))
}

#[derive(sqlx::FromRow)]
struct QueueRow {
    id: String,
    number: String,
    service_id: String,
    status: String,
    submitted_at: i64,
    expected_result_date: Option<String>,
    last_name: String,
    first_name: String,
    iin: String,
    assignee_last_name: Option<String>,
    assignee_first_name: Option<String>,
}

/// The organisation's applications, oldest first: filters by status, service and due date,
/// search by number or the applicant's IIN.
#[utoipa::path(
    get,
    path = "/api/workspace/applications",
    tag = "workspace",
    security(("session" = [])),
    params(QueueFilter),
    responses((status = 200, body = Vec<QueueItem>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
async fn queue(
    State(state): State<AppState>,
    officer: Officer,
    ApiQuery(filter): ApiQuery<QueueFilter>,
) -> Result<Json<Vec<QueueItem>>, ApiError> {
    let q = filter.q.as_deref().map(str::trim).unwrap_or("");
    if q.chars().count() > 40 || filter.service.as_deref().is_some_and(|s| s.len() > 100) {
        return Err(ApiError::BadRequest(Msg::ErrorBadQuery));
    }
    // Digits and hyphens only: numbers and IINs. Anything else cannot match.
    let pattern = if q.is_empty() {
        None
    } else if q.chars().all(|c| c.is_ascii_digit() || c == '-') {
        Some(format!("{q}%"))
    } else {
        return Ok(Json(Vec::new()));
    };
    let rows: Vec<QueueRow> = on_db!(&state.db, |pool| {
        sqlx::query_as(
            "SELECT a.id, a.number, a.service_id, a.status, a.submitted_at, a.expected_result_date,
                    u.last_name, u.first_name, u.iin, e.last_name AS assignee_last_name, e.first_name AS assignee_first_name
             FROM applications a JOIN users u ON u.id = a.user_id LEFT JOIN users e ON e.id = a.assignee_id
             WHERE a.organisation_id = $1 AND a.status NOT IN ('draft', 'signature_pending', 'signature_rejected')
               AND ($2 IS NULL OR a.status = $2) AND ($3 IS NULL OR a.service_id = $3)
               AND ($4 IS NULL OR a.number LIKE $4 OR u.iin LIKE $4)
             ORDER BY a.submitted_at, a.id LIMIT 1000",
        )
        .bind(&officer.organisation_id)
        .bind(filter.status.map(Status::code))
        .bind(filter.service.as_deref())
        .bind(pattern.as_deref())
        .fetch_all(pool)
        .await
    })?;
    let today = super::today();
    let items = rows
        .into_iter()
        .map(|r| {
            let status = Status::parse(&r.status).unwrap_or(Status::Submitted);
            let due = r
                .expected_result_date
                .as_deref()
                .and_then(|d| d.parse::<portal_domain::date::Date>().ok());
            let open = !status.is_final() && status != Status::ResultReady;
            QueueItem {
                service_name: state
                    .catalogue
                    .get(&r.service_id)
                    .map(|s| s.definition.short_name.clone())
                    .unwrap_or_else(|| portal_domain::text::Text::same(&r.service_id)),
                applicant: format!("{} {}", r.last_name, r.first_name),
                applicant_iin: r.iin,
                assignee: r
                    .assignee_last_name
                    .zip(r.assignee_first_name)
                    .map(|(l, f)| format!("{l} {f}")),
                overdue: open && due.is_some_and(|d| d < today),
                due,
                status,
                submitted_at: r.submitted_at,
                id: r.id,
                number: r.number,
                service_id: r.service_id,
            }
        })
        .filter(|item| {
            let open = !item.status.is_final() && item.status != Status::ResultReady;
            match filter.due.as_deref() {
                Some("overdue") => item.overdue,
                Some("today") => open && item.due.is_some_and(|d| d <= today),
                Some("week") => open && item.due.is_some_and(|d| d <= today.add_days(7)),
                _ => true,
            }
        })
        .collect();
    Ok(Json(items))
}

async fn colleagues(state: &AppState, organisation_id: &str) -> anyhow::Result<Vec<Colleague>> {
    let rows: Vec<(String, String, String)> = on_db!(&state.db, |pool| {
        sqlx::query_as("SELECT id, last_name, first_name FROM users WHERE organisation_id = $1 AND role = 'officer' ORDER BY last_name, first_name")
            .bind(organisation_id)
            .fetch_all(pool)
            .await
    })?;
    Ok(rows
        .into_iter()
        .map(|(id, last, first)| Colleague {
            id,
            name: format!("{last} {first}"),
        })
        .collect())
}

async fn case_view(
    state: &AppState,
    row: &ApplicationRow,
    organisation_id: &str,
) -> Result<CaseView, ApiError> {
    let application = crate::applications::view(state, row).await?;
    let (progress, history_intact) = super::progress(state, row, Actor::Officer).await?;
    let user = crate::accounts::users::by_id(&state.db, &row.user_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the applicant vanished"))?;
    let colleagues = colleagues(state, organisation_id).await?;
    let assignee_id: Option<String> = on_db!(&state.db, |pool| sqlx::query_scalar(
        "SELECT assignee_id FROM applications WHERE id = $1"
    )
    .bind(&row.id)
    .fetch_one(pool)
    .await)?;
    let definition = state.catalogue.get(&row.service_id).map(|s| &s.definition);
    let refusal_grounds = super::refusal_grounds(state, &row.service_id);
    let answers = match definition.and_then(|d| d.form.as_ref()) {
        Some(form) => {
            let organisations = crate::organisations::list(&state.db).await?;
            let files: Vec<(String, String)> = application
                .attachments
                .iter()
                .filter(|a| a.complete)
                .map(|a| (a.slot.clone(), a.file_name.clone()))
                .collect();
            portal_domain::form::summary(form, &application.answers, &files, &|id| {
                organisations.iter().find(|o| o.id == id)
            })
        }
        None => Vec::new(),
    };
    Ok(CaseView {
        answers,
        application,
        progress,
        applicant: ApplicantView {
            name: user.full_name(),
            iin: user.iin,
            phone: user.phone,
            email: user.email,
        },
        assignee: assignee_id.and_then(|id| colleagues.iter().find(|c| c.id == id).cloned()),
        colleagues,
        refusal_grounds,
        documents: definition
            .map(|d| d.documents.items.clone())
            .unwrap_or_default(),
        home_inspection: super::rules(state, row).home_inspection,
        history_intact,
    })
}

/// An application of the officer's organisation: the form, the attachments, the signature, the
/// timeline with deadlines, and what can be done now.
#[utoipa::path(
    get,
    path = "/api/workspace/applications/{id}",
    tag = "workspace",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = CaseView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn case(
    State(state): State<AppState>,
    officer: Officer,
    Path(id): Path<String>,
) -> Result<Json<CaseView>, ApiError> {
    let row = of_organisation(&state, &id, &officer.organisation_id).await?;
    Ok(Json(
        case_view(&state, &row, &officer.organisation_id).await?,
    ))
}

/// Makes a move: register, refuse to accept, assign, record the home inspection, approve,
/// refuse, set the pickup time, mark issued, not accept a first-grade priority category.
/// `expected` is the status the officer saw.
#[utoipa::path(
    post,
    path = "/api/workspace/applications/{id}/actions",
    tag = "workspace",
    security(("session" = [])),
    params(("id" = String, Path)),
    request_body = ActionRequest,
    responses(
        (status = 200, description = "Done; the application as it is now", body = CaseView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Not possible in this status, or changed meanwhile, or the slot is full", body = ErrorBody),
        (status = 422, description = "A required reason, ground or date is missing or wrong", body = ErrorBody),
    )
)]
async fn act(
    State(state): State<AppState>,
    officer: Officer,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<ActionRequest>,
) -> Result<Json<CaseView>, ApiError> {
    Ok(Json(perform(&state, &officer, &id, request).await?))
}

/// Makes `officer`'s move on application `id` of their organisation: the case as it is after.
pub async fn perform(
    state: &AppState,
    officer: &Officer,
    id: &str,
    request: ActionRequest,
) -> Result<CaseView, ApiError> {
    let state = state.clone();
    let id = id.to_string();
    let row = of_organisation(&state, &id, &officer.organisation_id).await?;
    let officer_id = officer.auth.user.id.as_str();
    let action = request.action.action();
    let base = |details: EventDetails| Change {
        actor: Actor::Officer,
        actor_id: Some(officer_id),
        action,
        details,
        assignee: None,
        document: None,
    };
    if action == Action::RefusePriority && !super::rules(&state, &row).priority_claim {
        return Err(ApiError::Conflict(Msg::ErrorWorkflowPriorityNotClaimed));
    }
    // Refused before any work (documents are signed only for moves that can happen).
    super::check(
        &state,
        &row,
        request.expected,
        &base(EventDetails::default()),
    )?;
    let invalid = ApiError::invalid;
    let files = super::files::for_move(&state, &row, &request.files).await?;
    let mut change = match request.action {
        OfficerAction::Register {} => base(EventDetails::default()),
        OfficerAction::RefuseToAccept { missing, reason } => {
            let details = EventDetails {
                missing: known_documents(&state, &row, missing)?,
                reason: Some(reason_field(&reason)?),
                ..Default::default()
            };
            base(details)
        }
        OfficerAction::Assign {
            officer_id: assignee,
        } => {
            let colleagues = colleagues(&state, &officer.organisation_id).await?;
            let Some(colleague) = colleagues.into_iter().find(|c| c.id == assignee) else {
                return Err(invalid(FieldProblem::new(
                    "officer_id",
                    Msg::ErrorWorkflowUnknownOfficer,
                )));
            };
            let details = EventDetails {
                assignee_id: Some(colleague.id.clone()),
                assignee_name: Some(colleague.name),
                ..Default::default()
            };
            Change {
                assignee: Some(colleague.id),
                ..base(details)
            }
        }
        OfficerAction::RecordInspection {
            visited_on,
            findings,
        } => {
            let submitted = row
                .submitted_at
                .map(|at| portal_domain::calendar::local_day_and_minute(at).0);
            if submitted.is_some_and(|s| visited_on < s) || visited_on > super::today() {
                return Err(invalid(FieldProblem::new(
                    "visited_on",
                    Msg::ErrorWorkflowVisitDate,
                )));
            }
            let findings = required_text(
                "findings",
                &findings,
                Msg::ErrorWorkflowFindingsRequired,
                MAX_REASON_CHARS,
            )
            .map_err(invalid)?;
            base(EventDetails {
                visited_on: Some(visited_on),
                findings: Some(findings),
                ..Default::default()
            })
        }
        OfficerAction::Approve { decision } => {
            let decision = required_text(
                "decision",
                &decision,
                Msg::ErrorWorkflowDecisionRequired,
                MAX_REASON_CHARS,
            )
            .map_err(invalid)?;
            base(EventDetails {
                decision: Some(decision),
                ..Default::default()
            })
        }
        OfficerAction::Refuse { grounds, reason } => {
            let details = EventDetails {
                grounds: known_grounds(&state, &row, grounds)?,
                reason: Some(reason_field(&reason)?),
                ..Default::default()
            };
            base(details)
        }
        OfficerAction::SetPickup { slot } => {
            if !files.is_empty() {
                return Err(invalid(FieldProblem::new(
                    "files",
                    Msg::ErrorWorkflowUnknownFile,
                )));
            }
            let pickup = pickup::book(&state, &row, &slot, Actor::Officer, officer_id).await?;
            pickup::announce(&state, &row, &pickup).await;
            let row = of_organisation(&state, &id, &officer.organisation_id).await?;
            return case_view(&state, &row, &officer.organisation_id).await;
        }
        OfficerAction::RefusePriority { priority_reason } => {
            let reason = required_text(
                "priority_reason",
                &priority_reason,
                Msg::ErrorWorkflowReasonRequired,
                MAX_REASON_CHARS,
            )
            .map_err(invalid)?;
            base(EventDetails {
                reason: Some(reason),
                ..Default::default()
            })
        }
        OfficerAction::MarkIssued { shown, recipient } => {
            let recipient = required_text(
                "recipient",
                &recipient,
                Msg::ErrorWorkflowRecipientRequired,
                200,
            )
            .map_err(invalid)?;
            base(EventDetails {
                shown: Some(shown),
                recipient: Some(recipient),
                ..Default::default()
            })
        }
    };
    change.details.files = files;
    let decision = match action {
        Action::Approve => Some(Decision::Approved),
        Action::Refuse => Some(Decision::Refused),
        Action::RefuseToAccept => Some(Decision::RefusedToAccept),
        _ => None,
    };
    if let Some(decision) = decision {
        let provider = pickup::place_of(&state, &row).await?;
        let text = match decision {
            Decision::Approved => portal_domain::text::Text::same(
                change.details.decision.as_deref().unwrap_or_default(),
            ),
            _ => super::reason_text(&state, &row.service_id, &change.details),
        };
        let document = results::issue(
            &state,
            &row,
            &provider,
            results::Content {
                decision,
                text: &text,
            },
        )
        .await?;
        change.details.document = Some(document.number.clone());
        change.document = Some(document);
    }
    let details = change.details.clone();
    let to = super::apply(&state, &row, request.expected, change).await?;
    let row = of_organisation(&state, &id, &officer.organisation_id).await?;
    // A paper result gets the first free time at once; the applicant can move it.
    if to == Status::ResultReady && super::paper_result(&state, &row.service_id) {
        let place = pickup::place_of(&state, &row).await?;
        if let Some(slot) = pickup::free_slots(&state, &place)
            .await?
            .into_iter()
            .find(|s| s.free > 0)
        {
            if let Err(e) = pickup::book(&state, &row, &slot.id, Actor::Officer, officer_id).await {
                tracing::warn!(application = %row.id, ?e, "cannot propose a pickup time");
            }
        }
    }
    super::announce(&state, &row, action, to, &details).await;
    let row = of_organisation(&state, &id, &officer.organisation_id).await?;
    case_view(&state, &row, &officer.organisation_id).await
}

fn reason_field(reason: &str) -> Result<String, ApiError> {
    required_text(
        "reason",
        reason,
        Msg::ErrorWorkflowReasonRequired,
        MAX_REASON_CHARS,
    )
    .map_err(ApiError::invalid)
}

/// The missing documents named, each one of the service's list; at least one when it has a list.
fn known_documents(
    state: &AppState,
    row: &ApplicationRow,
    missing: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    let items = state
        .catalogue
        .get(&row.service_id)
        .map(|s| s.definition.documents.items.clone())
        .unwrap_or_default();
    if missing.len() > items.len() || missing.iter().any(|m| !items.iter().any(|d| &d.id == m)) {
        return Err(ApiError::invalid(FieldProblem::new(
            "missing",
            Msg::ErrorWorkflowUnknownDocument,
        )));
    }
    if missing.is_empty() && !items.is_empty() {
        return Err(ApiError::invalid(FieldProblem::new(
            "missing",
            Msg::ErrorWorkflowMissingRequired,
        )));
    }
    Ok(missing)
}

/// The grounds named, each one of the service's or the law's; at least one.
fn known_grounds(
    state: &AppState,
    row: &ApplicationRow,
    grounds: Vec<String>,
) -> Result<Vec<String>, ApiError> {
    let known = super::refusal_grounds(state, &row.service_id);
    if grounds.is_empty() {
        return Err(ApiError::invalid(FieldProblem::new(
            "grounds",
            Msg::ErrorWorkflowGroundsRequired,
        )));
    }
    if grounds.len() > known.len() || grounds.iter().any(|g| !known.iter().any(|k| &k.id == g)) {
        return Err(ApiError::invalid(FieldProblem::new(
            "grounds",
            Msg::ErrorWorkflowUnknownGround,
        )));
    }
    Ok(grounds)
}

/// The pickup times offered for an application's result, with their free places.
#[utoipa::path(
    get,
    path = "/api/workspace/applications/{id}/slots",
    tag = "workspace",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<SlotView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn slots(
    State(state): State<AppState>,
    officer: Officer,
    Path(id): Path<String>,
) -> Result<Json<Vec<SlotView>>, ApiError> {
    let row = of_organisation(&state, &id, &officer.organisation_id).await?;
    let place = pickup::place_of(&state, &row).await?;
    Ok(Json(pickup::free_slots(&state, &place).await?))
}

/// The signed result (or refusal) of an application, as a PDF.
#[utoipa::path(
    get,
    path = "/api/workspace/applications/{id}/result",
    tag = "workspace",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The signed PDF", content_type = "application/pdf"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
async fn result_pdf(
    State(state): State<AppState>,
    officer: Officer,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = of_organisation(&state, &id, &officer.organisation_id).await?;
    let result = results::of(&state.db, &row.id)
        .await?
        .ok_or(ApiError::NotFound(Msg::ErrorWorkflowNoResult))?;
    Ok(download(
        result.pdf,
        "application/pdf",
        &format!("{}.pdf", result.number),
    ))
}

/// A private download with a safe file name.
pub fn download(bytes: Vec<u8>, content_type: &'static str, file_name: &str) -> Response {
    let name: String = file_name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
        .collect();
    (
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}
