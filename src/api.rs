//! The HTTP client: typed calls to `/api`, and one error type the pages show.

use std::cell::RefCell;

use gloo_net::http::{Request, RequestBuilder};
use portal_domain::accounts::{LoginRequest, Profile, ProfileUpdate, RegisterRequest, SessionInfo};
use portal_domain::api::{ErrorBody, Health};
use portal_domain::application::{
    ApplicationSummary, ApplicationView, AttachmentView, NewApplication, NewAttachment, SaveDraft,
    SubmitRequest, Verification,
};
use portal_domain::catalogue::ServiceSummary;
use portal_domain::notifications::NotificationView;
use portal_domain::organisation::{NewOfficer, NewOrganisation, OfficerView, Organisation};
use portal_domain::service::ServiceDefinition;
use portal_domain::validation::FieldIssue;
use portal_i18n::{Lang, Msg};
use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Clone, Debug, PartialEq)]
pub enum ApiFailure {
    /// The request did not reach the server, or its answer was unreadable.
    Network,
    /// The server answered with an error.
    Server {
        status: u16,
        body: Option<ErrorBody>,
    },
}

impl ApiFailure {
    pub fn status(&self) -> u16 {
        match self {
            ApiFailure::Network => 0,
            ApiFailure::Server { status, .. } => *status,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.status() == 404
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            ApiFailure::Server {
                body: Some(body), ..
            } => Some(&body.code),
            _ => None,
        }
    }

    /// The message in `lang`: from the error's code when the client knows it (so it follows a
    /// language switch), else the server's text.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ApiFailure::Network => portal_i18n::t(lang, Msg::ErrorNetwork).to_string(),
            ApiFailure::Server {
                body: Some(body), ..
            } => match Msg::from_key(&body.code) {
                Some(msg) => portal_i18n::t(lang, msg).to_string(),
                None => body.message.clone(),
            },
            ApiFailure::Server { .. } => portal_i18n::t(lang, Msg::ErrorInternal).to_string(),
        }
    }

    /// Field-by-field problems (422).
    pub fn fields(&self) -> Vec<FieldIssue> {
        match self {
            ApiFailure::Server {
                body: Some(body), ..
            } => body
                .fields
                .iter()
                .filter_map(|f| {
                    Msg::from_key(&f.code).map(|msg| FieldIssue {
                        field: f.field.clone(),
                        msg,
                        args: f.args.clone(),
                        text: f.text.clone(),
                    })
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

thread_local! {
    static CSRF_TOKEN: RefCell<Option<String>> = const { RefCell::new(None) };
    static ON_SESSION_ENDED: RefCell<Option<Box<dyn Fn()>>> = const { RefCell::new(None) };
    static ON_SESSION_SEEN: RefCell<Option<Box<dyn Fn(u32)>>> = const { RefCell::new(None) };
}

/// The token sent with every state-changing request of this session.
pub fn set_csrf_token(token: Option<String>) {
    CSRF_TOKEN.with(|t| *t.borrow_mut() = token);
}

/// Called when a request finds that the session has ended (timed out, or signed out elsewhere).
pub fn on_session_ended(f: impl Fn() + 'static) {
    ON_SESSION_ENDED.with(|h| *h.borrow_mut() = Some(Box::new(f)));
}

/// Called with the seconds left in the session whenever the server reports them (on every
/// request it authenticated, which also extends the session).
pub fn on_session_seen(f: impl Fn(u32) + 'static) {
    ON_SESSION_SEEN.with(|h| *h.borrow_mut() = Some(Box::new(f)));
}

/// Reports the session's remaining seconds seen on a response made outside [`send`] (uploads).
pub fn report_session_seen(seconds: u32) {
    ON_SESSION_SEEN.with(|h| h.borrow().as_ref().map(|f| f(seconds)));
}

/// A request's body: JSON, or a file's bytes as they are.
enum Payload {
    Json(String),
    File(web_sys::File),
}

async fn send<T: DeserializeOwned>(
    builder: RequestBuilder,
    body: Option<Payload>,
) -> Result<Option<T>, ApiFailure> {
    let csrf = CSRF_TOKEN.with(|t| t.borrow().clone());
    let builder = match csrf {
        Some(token) => builder.header("X-CSRF-Token", &token),
        None => builder,
    };
    let request = match body {
        Some(Payload::Json(json)) => builder
            .header("Content-Type", "application/json")
            .body(json)
            .map_err(|_| ApiFailure::Network)?,
        Some(Payload::File(file)) => builder
            .header("Content-Type", "application/octet-stream")
            .body(file)
            .map_err(|_| ApiFailure::Network)?,
        None => builder.build().map_err(|_| ApiFailure::Network)?,
    };
    let response = request.send().await.map_err(|_| ApiFailure::Network)?;
    let status = response.status();
    if let Some(seconds) = response
        .headers()
        .get("x-session-expires-in")
        .and_then(|v| v.parse::<u32>().ok())
    {
        ON_SESSION_SEEN.with(|h| h.borrow().as_ref().map(|f| f(seconds)));
    }
    if response.ok() {
        if status == 204 {
            return Ok(None);
        }
        return response
            .json::<T>()
            .await
            .map(Some)
            .map_err(|_| ApiFailure::Network);
    }
    let body = response.json::<ErrorBody>().await.ok();
    if status == 401
        && body
            .as_ref()
            .is_some_and(|b| b.code == Msg::ErrorSessionExpired.key())
    {
        ON_SESSION_ENDED.with(|h| h.borrow().as_ref().map(|f| f()));
    }
    Err(ApiFailure::Server { status, body })
}

async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    send(Request::get(path), None)
        .await?
        .ok_or(ApiFailure::Network)
}

async fn with_body<B: Serialize, T: DeserializeOwned>(
    builder: RequestBuilder,
    body: &B,
) -> Result<T, ApiFailure> {
    let json = serde_json::to_string(body).map_err(|_| ApiFailure::Network)?;
    send(builder, Some(Payload::Json(json)))
        .await?
        .ok_or(ApiFailure::Network)
}

async fn no_content(builder: RequestBuilder) -> Result<(), ApiFailure> {
    send::<serde_json::Value>(builder, None).await.map(|_| ())
}

pub async fn health() -> Result<Health, ApiFailure> {
    get_json("/api/health").await
}

pub async fn services() -> Result<Vec<ServiceSummary>, ApiFailure> {
    get_json("/api/services").await
}

pub async fn service(id: &str) -> Result<ServiceDefinition, ApiFailure> {
    // Ids are slugs; anything else cannot name a service and must not reach the path unescaped.
    if id.is_empty()
        || !id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(ApiFailure::Server {
            status: 404,
            body: None,
        });
    }
    get_json(&format!("/api/services/{id}")).await
}

pub async fn session() -> Result<SessionInfo, ApiFailure> {
    get_json("/api/session").await
}

pub async fn register(request: &RegisterRequest) -> Result<SessionInfo, ApiFailure> {
    with_body(Request::post("/api/accounts"), request).await
}

pub async fn sign_in(request: &LoginRequest) -> Result<SessionInfo, ApiFailure> {
    with_body(Request::post("/api/session"), request).await
}

pub async fn eds_login_challenge() -> Result<portal_domain::accounts::EdsLoginChallenge, ApiFailure>
{
    send(Request::post("/api/session/eds-challenge"), None)
        .await?
        .ok_or(ApiFailure::Network)
}

pub async fn sign_in_with_eds(
    request: &portal_domain::accounts::EdsLoginRequest,
) -> Result<SessionInfo, ApiFailure> {
    with_body(Request::post("/api/session/eds"), request).await
}

pub async fn extend_session() -> Result<SessionInfo, ApiFailure> {
    send(Request::post("/api/session/extend"), None)
        .await?
        .ok_or(ApiFailure::Network)
}

pub async fn sign_out() -> Result<(), ApiFailure> {
    no_content(Request::delete("/api/session")).await
}

pub async fn sign_out_everywhere() -> Result<(), ApiFailure> {
    no_content(Request::delete("/api/sessions")).await
}

pub async fn profile() -> Result<Profile, ApiFailure> {
    get_json("/api/profile").await
}

pub async fn update_profile(update: &ProfileUpdate) -> Result<Profile, ApiFailure> {
    with_body(Request::put("/api/profile"), update).await
}

pub async fn notifications() -> Result<Vec<NotificationView>, ApiFailure> {
    get_json("/api/notifications").await
}

pub async fn mark_notifications_read() -> Result<(), ApiFailure> {
    no_content(Request::post("/api/notifications/read")).await
}

pub async fn workspace() -> Result<Organisation, ApiFailure> {
    get_json("/api/workspace").await
}

pub async fn organisations() -> Result<Vec<Organisation>, ApiFailure> {
    get_json("/api/admin/organisations").await
}

pub async fn create_organisation(new: &NewOrganisation) -> Result<Organisation, ApiFailure> {
    with_body(Request::post("/api/admin/organisations"), new).await
}

pub async fn officers() -> Result<Vec<OfficerView>, ApiFailure> {
    get_json("/api/admin/officers").await
}

pub async fn create_officer(new: &NewOfficer) -> Result<OfficerView, ApiFailure> {
    with_body(Request::post("/api/admin/officers"), new).await
}

pub async fn providers() -> Result<Vec<Organisation>, ApiFailure> {
    get_json("/api/providers").await
}

/// Application ids are 32 hex digits; anything else never reaches a path.
fn application_path(id: &str, rest: &str) -> Result<String, ApiFailure> {
    if portal_domain::form::is_attachment_id(id) {
        Ok(format!("/api/applications/{id}{rest}"))
    } else {
        Err(ApiFailure::Server {
            status: 404,
            body: None,
        })
    }
}

pub async fn applications() -> Result<Vec<ApplicationSummary>, ApiFailure> {
    get_json("/api/applications").await
}

pub async fn create_application(service_id: &str) -> Result<ApplicationView, ApiFailure> {
    with_body(
        Request::post("/api/applications"),
        &NewApplication {
            service_id: service_id.to_string(),
        },
    )
    .await
}

pub async fn application(id: &str) -> Result<ApplicationView, ApiFailure> {
    get_json(&application_path(id, "")?).await
}

pub async fn save_draft(id: &str, draft: &SaveDraft) -> Result<ApplicationView, ApiFailure> {
    with_body(Request::put(&application_path(id, "")?), draft).await
}

pub async fn delete_draft(id: &str) -> Result<(), ApiFailure> {
    no_content(Request::delete(&application_path(id, "")?)).await
}

pub async fn signing_challenge(
    id: &str,
) -> Result<portal_domain::application::SigningChallenge, ApiFailure> {
    send(Request::post(&application_path(id, "/signing")?), None)
        .await?
        .ok_or(ApiFailure::Network)
}

pub async fn submit_application(
    id: &str,
    request: &SubmitRequest,
) -> Result<ApplicationView, ApiFailure> {
    with_body(
        Request::post(&application_path(id, "/submission")?),
        request,
    )
    .await
}

pub fn receipt_url(id: &str, lang: Lang) -> String {
    format!("/api/applications/{id}/receipt?lang={}", lang.code())
}

pub async fn announce_attachment(
    id: &str,
    new: &NewAttachment,
) -> Result<AttachmentView, ApiFailure> {
    with_body(Request::post(&application_path(id, "/attachments")?), new).await
}

pub async fn attachment(id: &str, attachment_id: &str) -> Result<AttachmentView, ApiFailure> {
    get_json(&application_path(
        id,
        &format!("/attachments/{attachment_id}"),
    )?)
    .await
}

pub async fn delete_attachment(id: &str, attachment_id: &str) -> Result<(), ApiFailure> {
    no_content(Request::delete(&application_path(
        id,
        &format!("/attachments/{attachment_id}"),
    )?))
    .await
}

pub fn attachment_content_url(id: &str, attachment_id: &str) -> String {
    format!("/api/applications/{id}/attachments/{attachment_id}/content")
}

pub fn csrf_token() -> Option<String> {
    CSRF_TOKEN.with(|t| t.borrow().clone())
}

pub async fn verify(code: &str, number: Option<&str>) -> Result<Verification, ApiFailure> {
    if !portal_domain::form::is_attachment_id(code) {
        return Err(ApiFailure::Server {
            status: 404,
            body: None,
        });
    }
    let query = number
        .map(|n| format!("?number={}", String::from(js_sys::encode_uri_component(n))))
        .unwrap_or_default();
    get_json(&format!("/api/verify/{code}{query}")).await
}

// Processing: the applicant's side.

pub async fn progress(id: &str) -> Result<portal_domain::workflow::Progress, ApiFailure> {
    get_json(&format!("/api/applications/{id}/progress")).await
}

pub async fn withdraw(id: &str) -> Result<portal_domain::workflow::Progress, ApiFailure> {
    send(
        Request::post(&format!("/api/applications/{id}/withdrawal")),
        None,
    )
    .await?
    .ok_or(ApiFailure::Network)
}

pub async fn pickup_slots(id: &str) -> Result<Vec<portal_domain::workflow::SlotView>, ApiFailure> {
    get_json(&format!("/api/applications/{id}/pickup/slots")).await
}

pub async fn book_pickup(
    id: &str,
    slot: &str,
) -> Result<portal_domain::workflow::PickupView, ApiFailure> {
    let request = portal_domain::workflow::PickupRequest {
        slot: slot.to_string(),
    };
    with_body(
        Request::put(&format!("/api/applications/{id}/pickup")),
        &request,
    )
    .await
}

pub fn pickup_ics_url(id: &str, lang: Lang) -> String {
    format!("/api/applications/{id}/pickup.ics?lang={}", lang.code())
}

pub fn result_url(id: &str) -> String {
    format!("/api/applications/{id}/result")
}

pub fn result_signature_url(id: &str) -> String {
    format!("/api/applications/{id}/result/signature")
}

// Processing: the provider workspace.

pub async fn queue(query: &str) -> Result<Vec<portal_domain::workflow::QueueItem>, ApiFailure> {
    get_json(&format!("/api/workspace/applications{query}")).await
}

pub async fn case(id: &str) -> Result<portal_domain::workflow::CaseView, ApiFailure> {
    get_json(&format!("/api/workspace/applications/{id}")).await
}

pub async fn act(
    id: &str,
    request: &portal_domain::workflow::ActionRequest,
) -> Result<portal_domain::workflow::CaseView, ApiFailure> {
    with_body(
        Request::post(&format!("/api/workspace/applications/{id}/actions")),
        request,
    )
    .await
}

/// Uploads a document to attach to the officer's next move on application `id`.
pub async fn upload_case_file(
    id: &str,
    file: web_sys::File,
) -> Result<portal_domain::workflow::CaseFile, ApiFailure> {
    let name = String::from(js_sys::encode_uri_component(&file.name()));
    send(
        Request::post(&format!(
            "/api/workspace/applications/{id}/files?name={name}"
        )),
        Some(Payload::File(file)),
    )
    .await?
    .ok_or(ApiFailure::Network)
}

pub async fn set_slot_capacity(
    organisation_id: &str,
    capacity: u32,
) -> Result<Organisation, ApiFailure> {
    with_body(
        Request::put(&format!(
            "/api/admin/organisations/{}/slot-capacity",
            String::from(js_sys::encode_uri_component(organisation_id))
        )),
        &portal_domain::organisation::SlotCapacity { capacity },
    )
    .await
}

pub async fn set_first_grade(
    organisation_id: &str,
    settings: &portal_domain::organisation::FirstGradeSettings,
) -> Result<Organisation, ApiFailure> {
    with_body(
        Request::put(&format!(
            "/api/admin/organisations/{}/first-grade",
            String::from(js_sys::encode_uri_component(organisation_id))
        )),
        settings,
    )
    .await
}

pub async fn calendar_year(
    year: i32,
) -> Result<portal_domain::calendar::CalendarYearView, ApiFailure> {
    get_json(&format!("/api/admin/calendar/{year}")).await
}

pub async fn save_calendar_year(
    year: i32,
    data: &portal_domain::calendar::CalendarYear,
) -> Result<portal_domain::calendar::CalendarYearView, ApiFailure> {
    with_body(Request::put(&format!("/api/admin/calendar/{year}")), data).await
}

pub async fn schedule_submission(
    id: &str,
    request: &SubmitRequest,
) -> Result<ApplicationView, ApiFailure> {
    with_body(
        Request::post(&application_path(id, "/scheduled-submission")?),
        request,
    )
    .await
}

pub async fn unschedule_submission(id: &str) -> Result<ApplicationView, ApiFailure> {
    send(
        Request::delete(&application_path(id, "/scheduled-submission")?),
        None,
    )
    .await?
    .ok_or(ApiFailure::Network)
}

pub async fn population_children()
-> Result<Vec<portal_domain::population::RegisterChild>, ApiFailure> {
    get_json("/api/population/children").await
}

pub async fn first_grade_admin_window(
    year: i32,
) -> Result<portal_domain::first_grade::WindowView, ApiFailure> {
    get_json(&format!("/api/admin/first-grade/{year}")).await
}

pub async fn set_first_grade_window(
    year: i32,
    edit: &portal_domain::first_grade::WindowEdit,
) -> Result<portal_domain::first_grade::WindowView, ApiFailure> {
    with_body(
        Request::put(&format!("/api/admin/first-grade/{year}")),
        edit,
    )
    .await
}

pub async fn first_grade_window() -> Result<portal_domain::first_grade::WindowView, ApiFailure> {
    get_json("/api/first-grade/window").await
}

pub async fn enrol_first_grade(
    request: &portal_domain::first_grade::EnrolmentRequest,
) -> Result<portal_domain::first_grade::EnrolmentOutcome, ApiFailure> {
    with_body(
        Request::post("/api/workspace/first-grade/enrolment"),
        request,
    )
    .await
}

pub async fn officer_slots(id: &str) -> Result<Vec<portal_domain::workflow::SlotView>, ApiFailure> {
    get_json(&format!("/api/workspace/applications/{id}/slots")).await
}

pub fn officer_attachment_url(id: &str, attachment_id: &str) -> String {
    format!("/api/workspace/applications/{id}/attachments/{attachment_id}/content")
}

pub fn officer_case_file_url(id: &str, file_id: &str) -> String {
    format!("/api/workspace/applications/{id}/files/{file_id}")
}

pub fn case_file_url(id: &str, file_id: &str) -> String {
    format!("/api/applications/{id}/files/{file_id}")
}

pub fn officer_result_url(id: &str) -> String {
    format!("/api/workspace/applications/{id}/result")
}
