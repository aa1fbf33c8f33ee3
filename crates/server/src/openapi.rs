//! `GET /api/openapi.json`: the OpenAPI document, generated from the same handlers and types
//! that serve the API, so it cannot drift from them.

use std::sync::Arc;

use axum::{Extension, Json};
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::app::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Public services portal API",
        description = "Catalogue of public services, applications, signatures and their processing. \
                       Errors carry a `code` (a message key) and a `message` in the request's language \
                       (`?lang=kk|ru|en`, else `Accept-Language`, else Kazakh)."
    ),
    tags(
        (name = "catalogue", description = "The public catalogue of services"),
        (name = "accounts", description = "Registration, sign-in, sessions and profiles"),
        (name = "applications", description = "Drafts, attachments, submission and receipts"),
        (name = "notifications", description = "The notification centre"),
        (name = "workspace", description = "The provider workspace"),
        (name = "first grade", description = "First-grade enrolment: the window"),
        (name = "administration", description = "Organisations and officers"),
        (name = "operations", description = "Health and API description"),
    ),
    modifiers(&SessionCookie)
)]
pub struct ApiDoc;

/// Signed-in requests carry the session cookie; state-changing ones also the `X-CSRF-Token`
/// header with the token from `GET /api/session`.
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("portal_session"))),
        );
    }
}

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
async fn openapi_json(Extension(document): Extension<Arc<Document>>) -> Json<Document> {
    Json(document.as_ref().clone())
}
