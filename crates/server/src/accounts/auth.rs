//! Who is asking: extractors that authenticate a request and check its role. Every endpoint
//! that needs a signed-in user takes one of them, so none can forget the check.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, FromRequestParts, Request};
use axum::http::HeaderValue;
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::Response;
use portal_domain::accounts::Role;
use portal_i18n::Msg;

use super::sessions::{self, Lookup, SessionRow};
use super::users::UserRow;
use crate::app::AppState;
use crate::error::ApiError;
use crate::security::is_safe;

/// A signed-in user of any role. For state-changing requests it also checks the session's
/// CSRF token in the `X-CSRF-Token` header.
pub struct Auth {
    pub user: UserRow,
    pub session: SessionRow,
}

impl FromRequestParts<AppState> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(token) = sessions::token_from(&state.config, &parts.headers) else {
            return Err(ApiError::Unauthorized(Msg::ErrorUnauthorized));
        };
        let (session, user) = match sessions::lookup(&state.db, &state.config, &token).await? {
            Lookup::Active(session, user) => (session, user),
            Lookup::Ended => return Err(ApiError::Unauthorized(Msg::ErrorSessionExpired)),
        };
        if let Some(slot) = parts.extensions.get::<SessionExpiry>() {
            let left = ((session.idle_expires_at - crate::db::now_millis()).max(0) / 1000) as u32;
            *slot.0.lock().expect("not poisoned") = Some(left);
        }
        if !is_safe(&parts.method) {
            let sent = parts
                .headers
                .get("x-csrf-token")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !constant_time_eq(sent.as_bytes(), session.csrf_token.as_bytes()) {
                return Err(ApiError::Forbidden(Msg::ErrorCsrf));
            }
        }
        Ok(Auth { user, session })
    }
}

/// Where the extractor leaves the session's remaining seconds for [`expose_session_expiry`].
#[derive(Clone, Default)]
pub struct SessionExpiry(Arc<Mutex<Option<u32>>>);

/// Tells the browser, on every response to an authenticated request, how many seconds the
/// session has left (`X-Session-Expires-In`): only such requests extend it, so only they
/// should move the browser's countdown.
pub async fn expose_session_expiry(mut request: Request, next: Next) -> Response {
    let slot = SessionExpiry::default();
    request.extensions_mut().insert(slot.clone());
    let mut response = next.run(request).await;
    if let Some(seconds) = *slot.0.lock().expect("not poisoned") {
        response
            .headers_mut()
            .insert("x-session-expires-in", HeaderValue::from(seconds));
    }
    response
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn require(auth: Auth, role: Role) -> Result<Auth, ApiError> {
    if auth.user.role() == role {
        Ok(auth)
    } else {
        Err(ApiError::Forbidden(Msg::ErrorForbidden))
    }
}

/// A signed-in citizen.
pub struct Citizen(pub Auth);

impl FromRequestParts<AppState> for Citizen {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Citizen(require(
            Auth::from_request_parts(parts, state).await?,
            Role::Citizen,
        )?))
    }
}

/// A signed-in officer, with their organisation.
pub struct Officer {
    pub auth: Auth,
    pub organisation_id: String,
}

impl FromRequestParts<AppState> for Officer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let auth = require(Auth::from_request_parts(parts, state).await?, Role::Officer)?;
        let organisation_id = auth
            .user
            .organisation_id
            .clone()
            .ok_or(ApiError::Forbidden(Msg::ErrorForbidden))?;
        Ok(Officer {
            auth,
            organisation_id,
        })
    }
}

/// A signed-in administrator.
pub struct Admin(pub Auth);

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Admin(require(
            Auth::from_request_parts(parts, state).await?,
            Role::Administrator,
        )?))
    }
}

/// The client's address: the socket peer, or with `PORTAL_TRUST_PROXY` the first address of
/// `X-Forwarded-For` as the reverse proxy wrote it.
pub struct ClientAddress(pub String);

impl FromRequestParts<AppState> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if state.config.trust_proxy {
            if let Some(forwarded) = parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
            {
                if let Some(first) = forwarded.split(',').map(str::trim).find(|s| !s.is_empty()) {
                    return Ok(ClientAddress(first.to_string()));
                }
            }
        }
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip().to_string());
        Ok(ClientAddress(peer.unwrap_or_else(|| "unknown".into())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_in_full() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(!constant_time_eq(b"", b"a"));
    }
}
