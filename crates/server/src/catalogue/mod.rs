//! The public catalogue of services: `GET /api/services`, `GET /api/services/{id}`.

mod loader;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portal_domain::api::ErrorBody;
use portal_domain::catalogue::{self, MAX_QUERY_CHARS, Query, ServiceSummary};
use portal_domain::service::{Category, ServiceDefinition};
use portal_i18n::Msg;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use loader::{Catalogue, LoadErrors, LoadedService, hex};

use crate::app::AppState;
use crate::db::{Db, now_millis};
use crate::error::{ApiError, ApiQuery, FieldProblem};
use crate::on_db;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_services))
        .routes(routes!(get_service))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Words to look for in the names, summary and provider, in any of the three languages.
    q: Option<String>,
    /// One of `schools`, `family_and_children`, `vocational_education`, `teachers`.
    category: Option<String>,
}

/// Lists the services, optionally filtered by words and a category, in catalogue order.
#[utoipa::path(
    get,
    path = "/api/services",
    tag = "catalogue",
    params(ListParams),
    responses(
        (status = 200, description = "Matching services", body = Vec<ServiceSummary>),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
        (status = 422, description = "Invalid filter", body = ErrorBody),
    )
)]
async fn list_services(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Response, ApiError> {
    let text = params.q.unwrap_or_default();
    let mut problems = Vec::new();
    if text.chars().count() > MAX_QUERY_CHARS {
        problems.push(
            FieldProblem::new("q", Msg::ErrorCatalogueQueryTooLong)
                .arg("max", MAX_QUERY_CHARS.to_string()),
        );
    }
    let category = match params.category.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(code) => match Category::parse(code) {
            Some(c) => Some(c),
            None => {
                problems.push(
                    FieldProblem::new("category", Msg::ErrorCatalogueUnknownCategory)
                        .arg("value", truncate(code)),
                );
                None
            }
        },
    };
    if !problems.is_empty() {
        return Err(ApiError::Invalid(problems));
    }
    let query = Query { text, category };
    let etag = etag(
        state.catalogue.version(),
        &format!("list:{}:{:?}", query.text, query.category),
    );
    if not_modified(&headers, &etag) {
        return Ok(not_modified_response(&etag));
    }
    let found: Vec<&ServiceSummary> = catalogue::search(state.catalogue.summaries(), &query);
    Ok(with_etag(Json(found).into_response(), &etag))
}

/// One service with everything a person needs to know before applying.
#[utoipa::path(
    get,
    path = "/api/services/{id}",
    tag = "catalogue",
    params(("id" = String, Path, description = "The service's stable id, e.g. `school-enrollment`")),
    responses(
        (status = 200, description = "The service definition", body = ServiceDefinition),
        (status = 304, description = "Unchanged since the `If-None-Match` ETag"),
        (status = 404, description = "No such service", body = ErrorBody),
    )
)]
async fn get_service(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let service = state
        .catalogue
        .get(&id)
        .ok_or(ApiError::NotFound(Msg::ErrorServiceNotFound))?;
    let etag = format!("\"{}\"", &service.sha256[..32]);
    if not_modified(&headers, &etag) {
        return Ok(not_modified_response(&etag));
    }
    Ok(with_etag(Json(&service.definition).into_response(), &etag))
}

/// Records each loaded definition's version, so applications can refer to the exact text.
pub async fn record_versions(db: &Db, catalogue: &Catalogue) -> anyhow::Result<()> {
    let now = now_millis();
    for service in catalogue.services() {
        on_db!(db, |pool| {
            sqlx::query(
                "INSERT INTO service_definition_versions (service_id, sha256, first_loaded_at, definition)
                 VALUES ($1, $2, $3, $4)
                 ON CONFLICT (service_id, sha256) DO NOTHING",
            )
            .bind(&service.definition.id)
            .bind(&service.sha256)
            .bind(now)
            .bind(&service.json)
            .execute(pool)
            .await.map(|r| r.rows_affected())
        })?;
    }
    Ok(())
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

fn etag(version: &str, key: &str) -> String {
    let digest = Sha256::digest(format!("{version}\n{key}").as_bytes());
    format!("\"{}\"", &hex(&digest)[..32])
}

fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim().trim_start_matches("W/") == etag)
        })
}

fn not_modified_response(etag: &str) -> Response {
    with_etag(StatusCode::NOT_MODIFIED.into_response(), etag)
}

/// The catalogue changes only with a deployment: clients revalidate, and usually get a 304.
fn with_etag(mut response: Response, etag: &str) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::ETAG,
        HeaderValue::from_str(etag).expect("hex is a header value"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    response
}
