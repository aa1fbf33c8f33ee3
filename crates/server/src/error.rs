//! The API's one error type, mapped once to HTTP.
//!
//! Handlers return [`ApiError`] holding message *keys*; the [`render_errors`] middleware, which
//! knows the request's language, turns them into an [`ErrorBody`] whose `code` is the key and
//! whose `message` is in that language. A handler never formats user-facing text itself.

use axum::extract::{FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portal_domain::api::{ErrorBody, FieldError};
use portal_i18n::{Lang, Msg, tf};
use serde::de::DeserializeOwned;

use crate::lang::request_lang;

#[derive(Debug)]
pub enum ApiError {
    /// 404: no such resource, or one the caller may not know exists.
    NotFound(Msg),
    /// 400: the request itself is malformed (unparseable query, wrong content type).
    BadRequest(Msg),
    /// 422: well-formed, but some fields are invalid.
    Invalid(Vec<FieldProblem>),
    /// 503: a dependency is down.
    Unavailable(Msg),
    /// 500: a bug or an unexpected failure; logged, never shown in detail.
    Internal(anyhow::Error),
}

#[derive(Clone, Debug)]
pub struct FieldProblem {
    pub field: String,
    pub msg: Msg,
    pub args: Vec<(&'static str, String)>,
}

impl FieldProblem {
    pub fn new(field: impl Into<String>, msg: Msg) -> FieldProblem {
        FieldProblem { field: field.into(), msg, args: Vec::new() }
    }

    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> FieldProblem {
        self.args.push((name, value.into()));
        self
    }
}

impl ApiError {
    pub fn invalid(problem: FieldProblem) -> ApiError {
        ApiError::Invalid(vec![problem])
    }
}

impl<E: Into<anyhow::Error>> From<E> for ApiError {
    fn from(e: E) -> ApiError {
        ApiError::Internal(e.into())
    }
}

/// What the middleware renders: kept in the response's extensions until then.
#[derive(Clone, Debug)]
struct PendingError {
    msg: Msg,
    fields: Vec<FieldProblem>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, pending) = match self {
            ApiError::NotFound(msg) => (StatusCode::NOT_FOUND, PendingError { msg, fields: vec![] }),
            ApiError::BadRequest(msg) => (StatusCode::BAD_REQUEST, PendingError { msg, fields: vec![] }),
            ApiError::Invalid(fields) => {
                (StatusCode::UNPROCESSABLE_ENTITY, PendingError { msg: Msg::ErrorInvalid, fields })
            }
            ApiError::Unavailable(msg) => (StatusCode::SERVICE_UNAVAILABLE, PendingError { msg, fields: vec![] }),
            ApiError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, PendingError { msg: Msg::ErrorInternal, fields: vec![] })
            }
        };
        let mut response = status.into_response();
        response.extensions_mut().insert(pending);
        response
    }
}

/// Renders pending errors in the request's language. Layered over every `/api` route.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let lang = request_lang(request.uri(), request.headers());
    let mut response = next.run(request).await;
    let Some(pending) = response.extensions_mut().remove::<PendingError>() else {
        return response;
    };
    let body = ErrorBody {
        code: pending.msg.key().to_string(),
        message: portal_i18n::t(lang, pending.msg).to_string(),
        fields: pending.fields.iter().map(|f| field_error(lang, f)).collect(),
    };
    let status = response.status();
    let mut rendered = (status, axum::Json(body)).into_response();
    rendered.headers_mut().insert(header::CONTENT_LANGUAGE, lang.code().parse().expect("a language code is a header value"));
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rendered.headers_mut().insert(name, value.clone());
        }
    }
    rendered
}

fn field_error(lang: Lang, problem: &FieldProblem) -> FieldError {
    let args: Vec<(&str, &str)> = problem.args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    FieldError { field: problem.field.clone(), code: problem.msg.key().to_string(), message: tf(lang, problem.msg, &args) }
}

/// `axum::extract::Query` whose rejection is an [`ApiError`] in the user's language.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|_| ApiError::BadRequest(Msg::ErrorBadQuery))
    }
}

/// The JSON 404 for an `/api` path no route matches.
pub async fn api_not_found() -> ApiError {
    ApiError::NotFound(Msg::ErrorNotFound)
}
