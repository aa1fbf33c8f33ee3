//! Applying: drafts checked against the service's form, submission with a number, the receipt.
//!
//! Every endpoint takes the signed-in citizen and finds the application among *their* own:
//! another person's application answers 404, exactly like one that does not exist.

pub mod receipt;
pub mod store;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use portal_domain::api::ErrorBody;
use portal_domain::application::{
    ApplicationSummary, ApplicationView, NewApplication, SaveDraft, Status, Submission,
    SubmitRequest, UploadLimits, Verification,
};
use portal_domain::calendar::local_day_and_minute;
use portal_domain::form::{Answer, Answers, Context, FormDefinition, Strictness};
use portal_domain::organisation::Organisation;
use portal_domain::text::Text;
use portal_i18n::{Msg, tf};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::store::{ApplicationRow, AttachmentRow, Submitted};
use crate::accounts::auth::Citizen;
use crate::app::AppState;
use crate::db::now_millis;
use crate::error::{ApiError, ApiJson, FieldProblem};
use crate::lang::RequestLang;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list, create))
        .routes(routes!(read, save, delete))
        .routes(routes!(submit))
        .routes(routes!(receipt_pdf))
        .routes(routes!(verify))
}

/// The caller's application `id`, or 404.
pub async fn owned(state: &AppState, id: &str, user_id: &str) -> Result<ApplicationRow, ApiError> {
    if !portal_domain::form::is_attachment_id(id) {
        return Err(ApiError::NotFound(Msg::ErrorApplicationNotFound));
    }
    store::owned(&state.db, id, user_id)
        .await?
        .ok_or(ApiError::NotFound(Msg::ErrorApplicationNotFound))
}

/// The caller's application `id` while it is a draft; 409 once submitted.
pub async fn owned_draft(
    state: &AppState,
    id: &str,
    user_id: &str,
) -> Result<ApplicationRow, ApiError> {
    let row = owned(state, id, user_id).await?;
    if row.status() != Status::Draft {
        return Err(ApiError::Conflict(Msg::ErrorApplicationNotDraft));
    }
    Ok(row)
}

/// The form of a service that takes applications on the portal.
pub fn form_of<'a>(state: &'a AppState, service_id: &str) -> Result<&'a FormDefinition, ApiError> {
    state
        .catalogue
        .get(service_id)
        .filter(|s| s.definition.has_portal_channel())
        .and_then(|s| s.definition.form.as_ref())
        .ok_or(ApiError::NotFound(Msg::ErrorApplicationNotOnline))
}

pub fn limits(state: &AppState) -> UploadLimits {
    UploadLimits {
        max_file_bytes: state.config.max_file_bytes,
        max_application_bytes: state.config.max_application_bytes,
    }
}

fn today() -> portal_domain::date::Date {
    local_day_and_minute(now_millis()).0
}

fn context() -> Context {
    Context {
        today: today(),
        check_files: true,
    }
}

pub async fn view(state: &AppState, row: &ApplicationRow) -> Result<ApplicationView, ApiError> {
    let attachments = store::attachments(&state.db, &row.id).await?;
    view_with(state, row, attachments, Known::default()).await
}

/// What a caller already read or established about an application, so that its view does not
/// read it again.
#[derive(Default)]
struct Known<'a> {
    organisation: Option<&'a Organisation>,
    signature: Option<portal_domain::application::SignatureInfo>,
    queue_place: Option<portal_domain::first_grade::QueuePlace>,
}

/// [`view`] with the application's attachments already read.
async fn view_with(
    state: &AppState,
    row: &ApplicationRow,
    attachments: Vec<AttachmentRow>,
    known: Known<'_>,
) -> Result<ApplicationView, ApiError> {
    let submission = match (&row.number, row.submitted_at, &row.organisation_id) {
        (Some(number), Some(submitted_at), Some(organisation_id)) => {
            let organisation = match known.organisation.filter(|o| &o.id == organisation_id) {
                Some(o) => o.clone(),
                None => organisation(state, organisation_id).await?,
            };
            Some(Submission {
                number: number.clone(),
                submitted_at,
                organisation_id: organisation_id.clone(),
                result_place: result_place(state, &row.service_id, &organisation),
                organisation_name: organisation.name,
                expected_result_date: row
                    .expected_result_date
                    .as_deref()
                    .and_then(|d| d.parse().ok()),
                verification_url: format!(
                    "{}/verify/{}",
                    state.config.public_url,
                    row.verification_code.as_deref().unwrap_or_default()
                ),
                signature: match known.signature {
                    Some(info) => Some(info),
                    None => crate::signing::documents::info(state, &row.id).await?,
                },
                first_grade: match known.queue_place {
                    Some(place) => Some(place),
                    None => crate::first_grade::queue_place(state, &row.id).await?,
                },
            })
        }
        _ => None,
    };
    Ok(ApplicationView {
        id: row.id.clone(),
        service_id: row.service_id.clone(),
        status: row.status(),
        version: row.version,
        answers: row.answers()?,
        attachments: attachments.iter().map(AttachmentRow::view).collect(),
        limits: limits(state),
        created_at: row.created_at,
        updated_at: row.updated_at,
        submission,
        // Only drafts are scheduled: sending removes the schedule in the same transaction.
        scheduled_for: match row.status() {
            Status::Draft => crate::first_grade::scheduled_for(state, &row.id).await?,
            _ => None,
        },
        first_grade_school: match row.status() {
            Status::Draft => crate::first_grade::school_check(state, row).await?,
            _ => None,
        },
    })
}

async fn organisation(state: &AppState, id: &str) -> Result<Organisation, ApiError> {
    crate::organisations::get(state, id)
        .await?
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("organisation {id} vanished")))
}

/// Where the result is issued: the cabinet for electronic results, the provider's office for paper.
fn result_place(state: &AppState, service_id: &str, provider: &Organisation) -> Text {
    use portal_domain::service::ResultForm;
    let electronic = state
        .catalogue
        .get(service_id)
        .is_some_and(|s| s.definition.result.forms.contains(&ResultForm::Electronic));
    let msg = if electronic {
        Msg::ReceiptResultCabinetAndOffice
    } else {
        Msg::ReceiptResultOffice
    };
    Text::from_fn(|lang| {
        let place = format!(
            "{}, {}",
            provider.name.get(lang),
            provider.address.get(lang)
        );
        tf(lang, msg, &[("place", &place)])
    })
}

/// Checks that the provider the form names exists and provides this kind of service.
async fn check_provider(
    state: &AppState,
    form: &FormDefinition,
    answers: &Answers,
) -> Result<Option<Organisation>, ApiError> {
    let Some((field, kind)) = form.provider_field() else {
        return Ok(None);
    };
    let Some(Answer::Text(id)) = answers.get(field) else {
        return Ok(None);
    };
    match crate::organisations::get(state, id).await? {
        Some(o) if o.kind == kind && o.provider => Ok(Some(o)),
        _ => Err(ApiError::invalid(FieldProblem::new(
            field,
            Msg::ErrorOrganisationUnknown,
        ))),
    }
}

/// The answers of file fields are the application's complete attachments.
fn with_attachments(
    form: &FormDefinition,
    answers: Answers,
    attachments: &[AttachmentRow],
) -> Answers {
    let files: Vec<(&str, &str)> = attachments
        .iter()
        .filter(|a| a.complete)
        .map(|a| (a.slot.as_str(), a.id.as_str()))
        .collect();
    form.with_files(answers, &files)
}

/// The caller's drafts and applications, most recently changed first.
#[utoipa::path(
    get,
    path = "/api/applications",
    tag = "applications",
    security(("session" = [])),
    responses((status = 200, body = Vec<ApplicationSummary>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
async fn list(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
) -> Result<Json<Vec<ApplicationSummary>>, ApiError> {
    let rows = store::list_for(&state.db, &auth.user.id).await?;
    let summaries = rows
        .into_iter()
        .map(|r| ApplicationSummary {
            service_name: state
                .catalogue
                .get(&r.service_id)
                .map(|s| s.definition.short_name.clone())
                .unwrap_or_else(|| Text::same(&r.service_id)),
            status: r.status(),
            id: r.id,
            service_id: r.service_id,
            number: r.number,
            updated_at: r.updated_at,
            submitted_at: r.submitted_at,
        })
        .collect();
    Ok(Json(summaries))
}

/// Starts a draft for a service. Several drafts, even of the same service, may exist.
#[utoipa::path(
    post,
    path = "/api/applications",
    tag = "applications",
    security(("session" = [])),
    request_body = NewApplication,
    responses(
        (status = 201, body = ApplicationView),
        (status = 404, description = "No such service, or not available online", body = ErrorBody),
        (status = 429, description = "Too many drafts", body = ErrorBody),
    )
)]
async fn create(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    ApiJson(new): ApiJson<NewApplication>,
) -> Result<(StatusCode, Json<ApplicationView>), ApiError> {
    form_of(&state, &new.service_id)?;
    let drafts = store::list_for(&state.db, &auth.user.id)
        .await?
        .iter()
        .filter(|r| r.status() == Status::Draft)
        .count();
    if drafts >= MAX_DRAFTS {
        return Err(ApiError::TooManyRequests {
            msg: Msg::ErrorApplicationTooManyDrafts,
            retry_after_seconds: 0,
        });
    }
    let id = store::create(&state.db, &auth.user.id, &new.service_id).await?;
    let row = owned(&state, &id, &auth.user.id).await?;
    Ok((StatusCode::CREATED, Json(view(&state, &row).await?)))
}

/// More drafts than anyone needs; a limit so one account cannot fill the database.
const MAX_DRAFTS: usize = 50;

/// One of the caller's applications, with its answers and attachments.
#[utoipa::path(
    get,
    path = "/api/applications/{id}",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = ApplicationView), (status = 404, body = ErrorBody))
)]
async fn read(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path(id): Path<String>,
) -> Result<Json<ApplicationView>, ApiError> {
    let row = owned(&state, &id, &auth.user.id).await?;
    Ok(Json(view(&state, &row).await?))
}

/// Saves a draft's answers (autosave). What is answered must be valid; what is not answered
/// yet may be missing. Answers of hidden fields are dropped.
#[utoipa::path(
    put,
    path = "/api/applications/{id}",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path)),
    request_body = SaveDraft,
    responses(
        (status = 200, body = ApplicationView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Changed elsewhere since `version`, or already submitted", body = ErrorBody),
        (status = 422, description = "Invalid or unknown answers", body = ErrorBody),
    )
)]
async fn save(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path(id): Path<String>,
    ApiJson(draft): ApiJson<SaveDraft>,
) -> Result<Json<ApplicationView>, ApiError> {
    let row = owned_draft(&state, &id, &auth.user.id).await?;
    let form = form_of(&state, &row.service_id)?;
    let attachments = store::attachments(&state.db, &row.id).await?;
    let answers = with_attachments(form, draft.answers, &attachments);
    let kept = form
        .validate(&answers, Strictness::Draft, context())
        .map_err(ApiError::Invalid)?;
    check_provider(&state, form, &kept).await?;
    if draft.version != row.version {
        return Err(ApiError::Conflict(Msg::ErrorApplicationConflict));
    }
    if store::save_answers(&state.db, &row.id, draft.version, &kept)
        .await?
        .is_none()
    {
        let now = owned(&state, &id, &auth.user.id).await?;
        let msg = if now.status() == Status::Draft {
            Msg::ErrorApplicationConflict
        } else {
            Msg::ErrorApplicationNotDraft
        };
        return Err(ApiError::Conflict(msg));
    }
    let row = owned(&state, &id, &auth.user.id).await?;
    Ok(Json(view(&state, &row).await?))
}

/// Deletes a draft and its attachments. Submitted applications cannot be deleted.
#[utoipa::path(
    delete,
    path = "/api/applications/{id}",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody), (status = 409, description = "Already submitted", body = ErrorBody))
)]
async fn delete(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let row = owned_draft(&state, &id, &auth.user.id).await?;
    let attachments = store::attachments(&state.db, &row.id).await?;
    if !store::delete_draft(&state.db, &row.id).await? {
        return Err(ApiError::Conflict(Msg::ErrorApplicationNotDraft));
    }
    for a in attachments {
        crate::attachments::storage::remove(&state.blobs, &a.id).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Submits the draft: checks it complete, numbers it, and fixes the expected result date.
///
/// Idempotent: submitting an application that is already submitted (a retry, a second device)
/// answers 200 with the same application and number; the first submission answers 201.
#[utoipa::path(
    post,
    path = "/api/applications/{id}/submission",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path)),
    request_body = SubmitRequest,
    responses(
        (status = 201, description = "Submitted now", body = ApplicationView),
        (status = 200, description = "Was already submitted", body = ApplicationView),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The draft changed since `version`", body = ErrorBody),
        (status = 422, description = "Incomplete or invalid; no consent", body = ErrorBody),
    )
)]
async fn submit(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<SubmitRequest>,
) -> Result<(StatusCode, Json<ApplicationView>), ApiError> {
    let row = owned(&state, &id, &auth.user.id).await?;
    match send(&state, &auth.user, lang, row, &request, Sending::Now, None).await? {
        Sent::Answered(status, view) => Ok((status, Json(*view))),
        _ => Err(anyhow::anyhow!("sending now answers with the application").into()),
    }
}

/// How a submission is made.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Sending {
    /// By the applicant, now: the signing challenge must be fresh.
    Now,
    /// Everything checked for sending at the first-grade window's opening; nothing stored.
    CheckForOpening,
    /// By the portal at the opening, as scheduled: the signature was made (and checked) then,
    /// so its challenge may be old; revocation is checked again now.
    AtOpening,
}

/// The portal's own sending of a scheduled draft at the opening.
pub struct Opening {
    /// Its place in the order of scheduling.
    pub turn: crate::db::Turn,
    /// What the check at scheduling established about its signature, when it was valid.
    pub held: Option<crate::signing::Held>,
}

/// What [`send`] did.
pub enum Sent {
    /// Sent now, or already sent: the application as the applicant sees it.
    Answered(StatusCode, Box<ApplicationView>),
    /// [`Sending::CheckForOpening`]: everything checked, nothing stored; the signature's
    /// check, when valid, to keep.
    Checked(Option<crate::signing::Held>),
    /// [`Sending::AtOpening`]: sent (or already sent); nobody waits for a view.
    Stored,
}

/// Checks and submits `row` (a draft of `user`) with `request`. With
/// [`Sending::CheckForOpening`] it stops before storing anything, and with
/// [`Sending::AtOpening`] (`opening` given) it stores it; neither answers a view.
pub async fn send(
    state: &AppState,
    user: &crate::accounts::users::UserRow,
    lang: portal_i18n::Lang,
    row: ApplicationRow,
    request: &SubmitRequest,
    sending: Sending,
    opening: Option<Opening>,
) -> Result<Sent, ApiError> {
    if row.status() != Status::Draft {
        return Ok(match sending {
            Sending::AtOpening => Sent::Stored,
            _ => Sent::Answered(StatusCode::OK, Box::new(view(state, &row).await?)),
        });
    }
    if !request.consent {
        return Err(ApiError::invalid(FieldProblem::new(
            "consent",
            Msg::ErrorApplicationConsent,
        )));
    }
    if request.version != row.version {
        return Err(ApiError::Conflict(Msg::ErrorApplicationConflict));
    }
    let service = state
        .catalogue
        .get(&row.service_id)
        .ok_or(ApiError::NotFound(Msg::ErrorApplicationNotOnline))?;
    let form = form_of(state, &row.service_id)?;
    let attachments = store::attachments(&state.db, &row.id).await?;
    if attachments.iter().any(|a| !a.complete) {
        return Err(ApiError::invalid(FieldProblem::new(
            "attachments",
            Msg::ErrorUploadIncomplete,
        )));
    }
    let answers = with_attachments(form, row.answers()?, &attachments);
    let kept = form
        .validate(&answers, Strictness::Complete, context())
        .map_err(ApiError::Invalid)?;
    let provider = check_provider(state, form, &kept)
        .await?
        .ok_or_else(|| anyhow::anyhow!("a complete form names its provider"))?;
    let first_grade_child =
        crate::first_grade::child_of(&row.service_id, &kept).map(str::to_string);
    let first_grade_year = match &first_grade_child {
        Some(child) => {
            let applying = crate::first_grade::Applying {
                application_id: &row.id,
                applicant_iin: &user.iin,
                answers: &kept,
                child,
            };
            Some(crate::first_grade::check(state, applying, now_millis(), sending).await?)
        }
        None if sending == Sending::CheckForOpening => {
            return Err(ApiError::Conflict(Msg::ErrorFirstGradeScheduleOnly));
        }
        None => None,
    };
    let (turn, held) = match opening {
        Some(Opening { turn, held }) => (Some(turn), held),
        None => (None, None),
    };
    let signature = match &held {
        Some(held) => {
            crate::signing::check_held(
                state,
                &row,
                &attachments,
                &user.iin,
                request.signature.as_deref(),
                held,
            )
            .await?
        }
        None => {
            crate::signing::check_submission(
                state,
                &row,
                &attachments,
                &user.iin,
                request.signature.as_deref(),
                sending != Sending::AtOpening,
            )
            .await?
        }
    };
    if sending == Sending::CheckForOpening {
        return Ok(Sent::Checked(signature.held()));
    }
    let now = now_millis();
    let term = service
        .definition
        .term
        .stated
        .or(service.definition.term.derived);
    let facts = store::SubmissionFacts {
        draft: &row,
        answers: &kept,
        definition_sha256: &service.sha256,
        organisation_id: &provider.id,
        submitted_at: now,
        local_day: local_day_and_minute(now).0,
        expected_result_date: term.map(|t| state.calendar.get().due_date(now, t)),
        lang: lang.code(),
        status: signature.status(),
        signature: signature.record(),
        first_grade: first_grade_child.as_deref().zip(first_grade_year),
        notice: submitted_notice(service, &provider, signature.status()),
        turn,
    };
    let (status, row, notification, place) = match store::submit(&state.db, facts).await? {
        Submitted::Now(row, notification, place) => {
            (StatusCode::CREATED, *row, Some(notification), place)
        }
        Submitted::NotTheDraft => {
            let row = owned(state, &row.id, &user.id).await?;
            if row.status() == Status::Draft {
                return Err(ApiError::Conflict(Msg::ErrorApplicationConflict));
            }
            (StatusCode::OK, row, None, None)
        }
        Submitted::DuplicateChild => {
            let child = first_grade_child.as_deref().unwrap_or_default();
            let number = crate::first_grade::existing(state, &row.id, child)
                .await?
                .unwrap_or_default();
            return Err(crate::first_grade::duplicate(number));
        }
    };
    // Nobody waits for the portal's own sending at the opening: the parent is told, and
    // reads the application later.
    let sent = match sending {
        Sending::AtOpening => Sent::Stored,
        _ => {
            // Only this request's submission is known to carry this signature.
            let known = Known {
                organisation: Some(&provider),
                signature: (status == StatusCode::CREATED).then(|| signature.info()),
                queue_place: first_grade_year.zip(place).map(|(school_year, position)| {
                    portal_domain::first_grade::QueuePlace {
                        school_year,
                        position: position.max(1),
                        places: provider.first_grade_places,
                    }
                }),
            };
            Sent::Answered(
                status,
                Box::new(view_with(state, &row, attachments, known).await?),
            )
        }
    };
    if let Some(notification) = notification {
        tracing::info!(application = %row.id, number = row.number.as_deref().unwrap_or(""), service = %row.service_id, "application submitted");
        notification.announce(state).await?;
    }
    Ok(sent)
}

/// The notification of a submission, worded when its number is given.
fn submitted_notice(
    service: &crate::catalogue::LoadedService,
    provider: &Organisation,
    status: Status,
) -> store::Notice {
    let (title, body) = match status {
        Status::SignaturePending => (
            Msg::NotificationsSignaturePendingTitle,
            Msg::NotificationsSignaturePendingBody,
        ),
        _ => (
            Msg::NotificationsSubmittedTitle,
            Msg::NotificationsSubmittedBody,
        ),
    };
    let service_name = service.definition.short_name.clone();
    let provider_name = provider.name.clone();
    Box::new(move |row: &ApplicationRow| {
        let number = row.number.clone().unwrap_or_default();
        let words = |msg, l| {
            let names = (service_name.get(l), provider_name.get(l));
            notification_text(l, msg, &number, names, &[])
        };
        crate::notifications::Pending::new(
            &row.user_id,
            Text::from_fn(|l| words(title, l)),
            Text::from_fn(|l| words(body, l)),
            Some(format!("/applications/{}", row.id)),
        )
    })
}

/// A notification's text about application `number` of a service at an organisation.
fn notification_text(
    lang: portal_i18n::Lang,
    msg: Msg,
    number: &str,
    (service, organisation): (&str, &str),
    extra: &[(&'static str, String)],
) -> String {
    let mut args = vec![
        ("number", number.to_string()),
        ("service", service.to_string()),
        ("organisation", organisation.to_string()),
    ];
    args.extend(extra.iter().cloned());
    crate::workflow::fill(lang, msg, &args)
}

/// Tells the applicant about `row` (its number, service and provider fill `title` and `body`).
pub async fn notify_about(
    state: &AppState,
    row: &ApplicationRow,
    title: Msg,
    body: Msg,
) -> anyhow::Result<()> {
    notify_with(state, row, None, title, body, &|_| vec![]).await
}

/// Tells the applicant about `row`: `extra` gives more placeholders, per language, besides the
/// number, the service and the provider (`provider` when already read).
pub async fn notify_with(
    state: &AppState,
    row: &ApplicationRow,
    provider_known: Option<&Organisation>,
    title: Msg,
    body: Msg,
    extra: &(dyn Fn(portal_i18n::Lang) -> Vec<(&'static str, String)> + Send + Sync),
) -> anyhow::Result<()> {
    let number = row.number.clone().unwrap_or_default();
    let service = state.catalogue.get(&row.service_id);
    let provider = match (&row.organisation_id, provider_known) {
        (Some(id), Some(known)) if &known.id == id => Some(known.clone()),
        (Some(id), _) => crate::organisations::get(state, id).await?,
        (None, _) => None,
    };
    let fill = |msg, l| {
        let service = service
            .map(|s| s.definition.short_name.get(l))
            .unwrap_or_default();
        let organisation = provider.as_ref().map(|p| p.name.get(l)).unwrap_or_default();
        notification_text(l, msg, &number, (service, organisation), &extra(l))
    };
    let title = Text::from_fn(|l| fill(title, l));
    let body = Text::from_fn(|l| fill(body, l));
    crate::notifications::deliver(
        state,
        &row.user_id,
        &title,
        &body,
        Some(&format!("/applications/{}", row.id)),
    )
    .await
    .map(drop)
}

/// The receipt of a submitted application as a PDF, in the request's language.
#[utoipa::path(
    get,
    path = "/api/applications/{id}/receipt",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path), ("lang" = Option<String>, Query, description = "kk, ru or en")),
    responses(
        (status = 200, description = "The receipt", content_type = "application/pdf"),
        (status = 404, description = "No such submitted application of the caller", body = ErrorBody),
    )
)]
async fn receipt_pdf(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = owned(&state, &id, &auth.user.id).await?;
    let view = view(&state, &row).await?;
    let Some(submission) = &view.submission else {
        return Err(ApiError::NotFound(Msg::ErrorApplicationNotFound));
    };
    let service = state
        .catalogue
        .get(&row.service_id)
        .ok_or(ApiError::NotFound(Msg::ErrorApplicationNotOnline))?;
    let applicant = auth.user.full_name();
    let document = receipt::Receipt {
        lang,
        number: &submission.number,
        submitted_at: submission.submitted_at,
        service_name: service.definition.name.get(lang),
        applicant: &applicant,
        applicant_iin: &auth.user.iin,
        answers: &view.answers,
        attachments: &view.attachments,
        documents: &service.definition.documents.items,
        organisation: submission.organisation_name.get(lang),
        expected_result_date: submission.expected_result_date,
        result_place: submission.result_place.get(lang),
        verification_url: &submission.verification_url,
    };
    // Rendering is CPU work of a few milliseconds; not worth a thread hop for borrowed data.
    let pdf = receipt::render(&document)?;
    let disposition = format!("attachment; filename=\"receipt-{}.pdf\"", submission.number);
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        pdf,
    )
        .into_response())
}

/// `GET /api/verify/{code}` parameters.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct VerifyQuery {
    /// The document number as printed; when given it must match.
    pub number: Option<String>,
}

/// Confirms a receipt or a provider's document: what its QR code points to. Public, and shows
/// nothing more personal than the document itself (no names, no IIN).
#[utoipa::path(
    get,
    path = "/api/verify/{code}",
    tag = "applications",
    params(("code" = String, Path, description = "The code from the document's QR code"), VerifyQuery),
    responses((status = 200, body = Verification), (status = 404, body = ErrorBody))
)]
async fn verify(
    State(state): State<AppState>,
    Path(code): Path<String>,
    crate::error::ApiQuery(query): crate::error::ApiQuery<VerifyQuery>,
) -> Result<Json<Verification>, ApiError> {
    let not_found = || ApiError::NotFound(Msg::ErrorVerifyNotFound);
    if !portal_domain::form::is_attachment_id(&code) {
        return Err(not_found());
    }
    let number_matches = |number: &str| {
        query
            .number
            .as_deref()
            .is_none_or(|n| n.trim().eq_ignore_ascii_case(number))
    };
    if let Some(result) = crate::workflow::results::by_code(&state.db, &code).await? {
        let row = store::by_id(&state.db, &result.application_id)
            .await?
            .ok_or_else(not_found)?;
        if !number_matches(&result.number) {
            return Err(not_found());
        }
        let organisation_id = row.organisation_id.clone().ok_or_else(not_found)?;
        return Ok(Json(Verification {
            kind: result.decision().into(),
            issued_at: result.created_at,
            service_name: service_name(&state, &row.service_id),
            status: row.status(),
            organisation_name: organisation(&state, &organisation_id).await?.name,
            signature_valid: crate::workflow::results::signature_valid(&state, &result).await,
            signed_by: Some(result.signer.clone()),
            number: result.number,
        }));
    }
    let row = store::by_verification_code(&state.db, &code)
        .await?
        .ok_or_else(not_found)?;
    let (Some(number), Some(submitted_at), Some(organisation_id)) = (
        row.number.clone(),
        row.submitted_at,
        row.organisation_id.clone(),
    ) else {
        return Err(not_found());
    };
    if !number_matches(&number) {
        return Err(not_found());
    }
    let signature_valid = crate::signing::documents::reverify(&state, &row.id).await?;
    Ok(Json(Verification {
        kind: portal_domain::application::DocumentKind::Receipt,
        number,
        issued_at: submitted_at,
        service_name: service_name(&state, &row.service_id),
        status: row.status(),
        organisation_name: organisation(&state, &organisation_id).await?.name,
        signature_valid,
        signed_by: None,
    }))
}

fn service_name(state: &AppState, service_id: &str) -> Text {
    state
        .catalogue
        .get(service_id)
        .map(|s| s.definition.name.clone())
        .unwrap_or_else(|| Text::same(service_id))
}
