//! What the applicant sees and does after submitting: the progress (timeline, deadlines,
//! pickup, result), withdrawing before registration, choosing the pickup time, the `.ics`
//! event, and the signed result. Only the applicant's own applications; others answer 404.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use portal_domain::api::ErrorBody;
use portal_domain::application::Status;
use portal_domain::workflow::{Action, Actor, PickupRequest, PickupView, Progress, SlotView};
use portal_i18n::Msg;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::events::EventDetails;
use super::officer::download;
use super::{Change, pickup, results};
use crate::accounts::auth::Citizen;
use crate::app::AppState;
use crate::applications::owned;
use crate::applications::store::ApplicationRow;
use crate::error::{ApiError, ApiJson};
use crate::lang::RequestLang;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(progress))
        .routes(routes!(withdraw))
        .routes(routes!(pickup_slots))
        .routes(routes!(book_pickup))
        .routes(routes!(pickup_ics))
        .routes(routes!(result_pdf))
        .routes(routes!(result_signature))
}

/// The caller's submitted application, or 404 (drafts have no progress).
async fn submitted(state: &AppState, id: &str, user_id: &str) -> Result<ApplicationRow, ApiError> {
    let row = owned(state, id, user_id).await?;
    if row.status() == Status::Draft {
        return Err(ApiError::NotFound(Msg::ErrorApplicationNotFound));
    }
    Ok(row)
}

/// What happened to the application and what comes next.
#[utoipa::path(
    get,
    path = "/api/applications/{id}/progress",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Progress), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn progress(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path(id): Path<String>,
) -> Result<Json<Progress>, ApiError> {
    let row = submitted(&state, &id, &auth.user.id).await?;
    Ok(Json(
        super::progress(&state, &row, Actor::Applicant).await?.0,
    ))
}

/// Withdraws the application; possible until the provider registers it.
#[utoipa::path(
    post,
    path = "/api/applications/{id}/withdrawal",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, body = Progress),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "Already registered (or otherwise past withdrawing)", body = ErrorBody),
    )
)]
async fn withdraw(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path(id): Path<String>,
) -> Result<Json<Progress>, ApiError> {
    let row = submitted(&state, &id, &auth.user.id).await?;
    let change = Change {
        actor: Actor::Applicant,
        actor_id: Some(&auth.user.id),
        action: Action::Withdraw,
        details: EventDetails::default(),
        assignee: None,
        document: None,
    };
    let to = super::apply(&state, &row, row.status(), change).await?;
    super::announce(&state, &row, Action::Withdraw, to, &EventDetails::default()).await;
    let row = submitted(&state, &id, &auth.user.id).await?;
    Ok(Json(
        super::progress(&state, &row, Actor::Applicant).await?.0,
    ))
}

/// The times the result can be collected, with their free places.
#[utoipa::path(
    get,
    path = "/api/applications/{id}/pickup/slots",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<SlotView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn pickup_slots(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path(id): Path<String>,
) -> Result<Json<Vec<SlotView>>, ApiError> {
    let row = submitted(&state, &id, &auth.user.id).await?;
    let place = pickup::place_of(&state, &row).await?;
    Ok(Json(pickup::free_slots(&state, &place).await?))
}

/// Picks (or moves) the time to collect the result.
#[utoipa::path(
    put,
    path = "/api/applications/{id}/pickup",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path)),
    request_body = PickupRequest,
    responses(
        (status = 200, body = PickupView),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "The slot was just taken, or the result is not waiting", body = ErrorBody),
        (status = 422, description = "Not a time offered", body = ErrorBody),
    )
)]
async fn book_pickup(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<PickupRequest>,
) -> Result<Json<PickupView>, ApiError> {
    let row = submitted(&state, &id, &auth.user.id).await?;
    super::check(
        &state,
        &row,
        row.status(),
        &Change {
            actor: Actor::Applicant,
            actor_id: None,
            action: Action::SetPickup,
            details: EventDetails::default(),
            assignee: None,
            document: None,
        },
    )?;
    Ok(Json(
        pickup::book(&state, &row, &request.slot, Actor::Applicant, &auth.user.id).await?,
    ))
}

/// The pickup as a calendar event (RFC 5545), in the request's language.
#[utoipa::path(
    get,
    path = "/api/applications/{id}/pickup.ics",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path), ("lang" = Option<String>, Query, description = "kk, ru or en")),
    responses(
        (status = 200, description = "The event", content_type = "text/calendar"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, description = "No such application, or no pickup time yet", body = ErrorBody),
    )
)]
async fn pickup_ics(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    RequestLang(lang): RequestLang,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = submitted(&state, &id, &auth.user.id).await?;
    let pickup = pickup::booking(&state, &row.id)
        .await?
        .ok_or(ApiError::NotFound(Msg::ErrorNotFound))?;
    let service = state
        .catalogue
        .get(&row.service_id)
        .map(|s| s.definition.short_name.get(lang).to_string())
        .unwrap_or_default();
    let number = row.number.clone().unwrap_or_default();
    let summary = super::fill(lang, Msg::CalendarIcsSummary, &[("service", service)]);
    let description = super::fill(
        lang,
        Msg::CalendarIcsDescription,
        &[("number", number.clone())],
    );
    let host = state
        .config
        .public_url
        .split("//")
        .nth(1)
        .unwrap_or("portal");
    let uid = format!("{}-pickup@{host}", row.id);
    let body = pickup::ics(
        &uid,
        &pickup,
        &summary,
        &description,
        lang,
        crate::db::now_millis(),
    );
    Ok(download(
        body.into_bytes(),
        "text/calendar; charset=utf-8",
        &format!("pickup-{number}.ics"),
    ))
}

/// The provider's signed document for the application (result or refusal), as a PDF.
#[utoipa::path(
    get,
    path = "/api/applications/{id}/result",
    tag = "applications",
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
    Citizen(auth): Citizen,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = submitted(&state, &id, &auth.user.id).await?;
    let result = results::of(&state.db, &row.id)
        .await?
        .ok_or(ApiError::NotFound(Msg::ErrorWorkflowNoResult))?;
    Ok(download(
        result.pdf,
        "application/pdf",
        &format!("{}.pdf", result.number),
    ))
}

/// The provider's signature of the document (detached CMS, DER), to check it anywhere.
#[utoipa::path(
    get,
    path = "/api/applications/{id}/result/signature",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "The CMS signature", content_type = "application/pkcs7-signature"),
        (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
    )
)]
async fn result_signature(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = submitted(&state, &id, &auth.user.id).await?;
    let result = results::of(&state.db, &row.id)
        .await?
        .ok_or(ApiError::NotFound(Msg::ErrorWorkflowNoResult))?;
    Ok(download(
        result.cms,
        "application/pkcs7-signature",
        &format!("{}.pdf.cms", result.number),
    ))
}
