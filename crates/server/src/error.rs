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
use portal_i18n::{Lang, Msg};
use serde::de::DeserializeOwned;

use crate::lang::request_lang;

#[derive(Debug)]
pub enum ApiError {
    /// 401: not signed in, or the session has ended.
    Unauthorized(Msg),
    /// 403: signed in, but not allowed; or a request that failed the cross-site checks.
    Forbidden(Msg),
    /// 404: no such resource, or one the caller may not know exists.
    NotFound(Msg),
    /// 409: conflicts with what exists (an account for this IIN, say).
    Conflict(Msg),
    /// 413: more data than allowed.
    PayloadTooLarge(Msg),
    /// 429: too many attempts; try again after the given number of seconds.
    TooManyRequests { msg: Msg, retry_after_seconds: u32 },
    /// 400: the request itself is malformed (unparseable query, wrong content type).
    BadRequest(Msg),
    /// 422: well-formed, but some fields are invalid.
    Invalid(Vec<FieldProblem>),
    /// 503: a dependency is down.
    Unavailable(Msg),
    /// 500: a bug or an unexpected failure; logged, never shown in detail.
    Internal(anyhow::Error),
}

pub use portal_domain::validation::FieldIssue as FieldProblem;

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
    retry_after_seconds: Option<u32>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let simple = |msg| PendingError {
            msg,
            fields: vec![],
            retry_after_seconds: None,
        };
        let (status, pending) = match self {
            ApiError::Unauthorized(msg) => (StatusCode::UNAUTHORIZED, simple(msg)),
            ApiError::Forbidden(msg) => (StatusCode::FORBIDDEN, simple(msg)),
            ApiError::NotFound(msg) => (StatusCode::NOT_FOUND, simple(msg)),
            ApiError::Conflict(msg) => (StatusCode::CONFLICT, simple(msg)),
            ApiError::PayloadTooLarge(msg) => (StatusCode::PAYLOAD_TOO_LARGE, simple(msg)),
            ApiError::TooManyRequests {
                msg,
                retry_after_seconds,
            } => (
                StatusCode::TOO_MANY_REQUESTS,
                PendingError {
                    msg,
                    fields: vec![],
                    retry_after_seconds: Some(retry_after_seconds),
                },
            ),
            ApiError::BadRequest(msg) => (StatusCode::BAD_REQUEST, simple(msg)),
            ApiError::Invalid(fields) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                PendingError {
                    msg: Msg::ErrorInvalid,
                    fields,
                    retry_after_seconds: None,
                },
            ),
            ApiError::Unavailable(msg) => (StatusCode::SERVICE_UNAVAILABLE, simple(msg)),
            ApiError::Internal(error) => {
                tracing::error!(error = format!("{error:#}"), "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    simple(Msg::ErrorInternal),
                )
            }
        };
        let mut response = status.into_response();
        if let Some(seconds) = pending.retry_after_seconds {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, seconds.into());
        }
        if status == StatusCode::UNAUTHORIZED {
            // RFC 9110: a 401 names its scheme. Ours is the session cookie.
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Cookie realm=\"portal\""),
            );
        }
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
        fields: pending
            .fields
            .iter()
            .map(|f| field_error(lang, f))
            .collect(),
        retry_after_seconds: pending.retry_after_seconds,
    };
    let status = response.status();
    let mut rendered = (status, axum::Json(body)).into_response();
    rendered.headers_mut().insert(
        header::CONTENT_LANGUAGE,
        lang.code()
            .parse()
            .expect("a language code is a header value"),
    );
    for (name, value) in response.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rendered.headers_mut().insert(name, value.clone());
        }
    }
    rendered
}

fn field_error(lang: Lang, problem: &FieldProblem) -> FieldError {
    FieldError {
        field: problem.field.clone(),
        code: problem.msg.key().to_string(),
        message: problem.message(lang),
        args: problem.args.clone(),
        text: problem.text.clone(),
    }
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

/// `axum::Json` whose rejection (malformed JSON, unknown or missing fields, wrong content type)
/// is an [`ApiError`] in the user's language rather than axum's plain-text answer.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(request, state).await {
            Ok(json) => Ok(ApiJson(json.0)),
            Err(JsonRejection::JsonDataError(e)) => {
                tracing::debug!(error = %e.body_text(), "rejected JSON body");
                Err(ApiError::BadRequest(Msg::ErrorBadJson))
            }
            Err(_) => Err(ApiError::BadRequest(Msg::ErrorBadJson)),
        }
    }
}

/// The JSON 404 for an `/api` path no route matches.
pub async fn api_not_found() -> ApiError {
    ApiError::NotFound(Msg::ErrorNotFound)
}
