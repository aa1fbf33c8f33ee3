//! Accounts and sessions: register, sign in and out, the session, the profile.

pub mod auth;
pub mod passwords;
pub mod sessions;
pub mod throttle;
pub mod users;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portal_domain::accounts::{
    LoginRequest, Profile, ProfileUpdate, RegisterRequest, Role, SessionInfo,
};
use portal_domain::api::ErrorBody;
use portal_i18n::Msg;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use self::auth::{Auth, ClientAddress};
use self::throttle::Limit;
use self::users::{InsertError, NewUser, ProfileChange};
use crate::app::AppState;
use crate::error::{ApiError, ApiJson, FieldProblem};

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(session, login, sign_out))
        .routes(routes!(extend))
        .routes(routes!(sign_out_everywhere))
        .routes(routes!(profile, update_profile))
}

fn user_agent(headers: &HeaderMap) -> &str {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// Starts a session, ending the one the request came with (a new id on every sign-in, so a
/// session id planted before sign-in is worthless).
pub(crate) async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    user: &users::UserRow,
    ip: &str,
    status: StatusCode,
) -> Result<Response, ApiError> {
    if let Some(old) = sessions::token_from(&state.config, headers) {
        sessions::delete_by_token(&state.db, &old).await?;
    }
    let (token, session) =
        sessions::create(&state.db, &state.config, &user.id, ip, user_agent(headers)).await?;
    let info = sessions::info(&state.db, &state.config, &session, user).await?;
    Ok((
        status,
        [(
            header::SET_COOKIE,
            sessions::set_cookie(&state.config, &token),
        )],
        Json(info),
    )
        .into_response())
}

/// Creates a citizen account and signs in.
#[utoipa::path(
    post,
    path = "/api/accounts",
    tag = "accounts",
    request_body = RegisterRequest,
    responses(
        (status = 201, description = "Registered and signed in; sets the session cookie", body = SessionInfo),
        (status = 409, description = "The IIN already has an account", body = ErrorBody),
        (status = 422, description = "Invalid fields", body = ErrorBody),
        (status = 429, description = "Too many registrations from this address", body = ErrorBody),
    )
)]
async fn register(
    State(state): State<AppState>,
    ClientAddress(ip): ClientAddress,
    headers: HeaderMap,
    ApiJson(request): ApiJson<RegisterRequest>,
) -> Result<Response, ApiError> {
    let max = i64::from(state.config.registrations_per_hour);
    throttle::refuse_over(
        &state.db,
        Limit::RegistrationsPerAddress,
        &ip,
        max,
        Msg::ErrorTooManyRequests,
    )
    .await?;
    let registration = request.parse().map_err(ApiError::Invalid)?;
    if passwords::is_common(&registration.password) {
        return Err(ApiError::invalid(FieldProblem::new(
            "password",
            Msg::ErrorPasswordCommon,
        )));
    }
    let password_hash = passwords::hash(registration.password.clone()).await?;
    throttle::record(&state.db, Limit::RegistrationsPerAddress, &ip).await?;
    let new_user = NewUser {
        iin: registration.iin,
        password_hash,
        role: Role::Citizen,
        organisation_id: None,
        last_name: registration.last_name.to_string(),
        first_name: registration.first_name.to_string(),
        middle_name: registration.middle_name.map(|n| n.to_string()),
        email: registration.email.map(|e| e.as_str().to_string()),
        phone: registration.phone.map(|p| p.as_str().to_string()),
        preferred_lang: registration.preferred_lang,
        demo: false,
    };
    match users::insert(&state.db, new_user).await {
        Ok(id) => {
            let user = users::by_id(&state.db, &id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("the new account vanished"))?;
            tracing::info!(user = %user.id, "citizen registered");
            start_session(&state, &headers, &user, &ip, StatusCode::CREATED).await
        }
        Err(InsertError::IinTaken) => Err(ApiError::Conflict(Msg::ErrorRegisterExists)),
        Err(InsertError::Other(e)) => Err(e.into()),
    }
}

/// Signs in with IIN and password.
///
/// The same answer for an unknown IIN and a wrong password. After 10 failures for one IIN in
/// an hour, or 50 from one address, sign-in is refused until the oldest failure is an hour old.
#[utoipa::path(
    post,
    path = "/api/session",
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; sets the session cookie", body = SessionInfo),
        (status = 401, description = "Wrong IIN or password", body = ErrorBody),
        (status = 422, description = "Malformed IIN or empty password", body = ErrorBody),
        (status = 429, description = "Locked for a while after too many failures", body = ErrorBody),
    )
)]
async fn login(
    State(state): State<AppState>,
    ClientAddress(ip): ClientAddress,
    headers: HeaderMap,
    ApiJson(request): ApiJson<LoginRequest>,
) -> Result<Response, ApiError> {
    let iin = request.check().map_err(ApiError::Invalid)?;
    let iin_key = iin.to_string();
    let per_address = Limit::FailedLoginsPerAddress;
    throttle::refuse_over(
        &state.db,
        per_address,
        &ip,
        per_address.default_max(),
        Msg::ErrorTooManyRequests,
    )
    .await?;
    let per_iin = Limit::FailedLoginsPerIin;
    throttle::refuse_over(
        &state.db,
        per_iin,
        &iin_key,
        per_iin.default_max(),
        Msg::ErrorLoginLocked,
    )
    .await?;
    let user = users::by_iin(&state.db, &iin).await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    if !passwords::verify(request.password, stored).await {
        throttle::record(&state.db, Limit::FailedLoginsPerIin, &iin_key).await?;
        throttle::record(&state.db, Limit::FailedLoginsPerAddress, &ip).await?;
        tracing::info!(address = %ip, "failed sign-in");
        return Err(ApiError::Unauthorized(Msg::ErrorLoginInvalid));
    }
    let user = user.expect("verified against a stored hash");
    throttle::clear(&state.db, Limit::FailedLoginsPerIin, &iin_key).await?;
    tracing::info!(user = %user.id, "signed in");
    start_session(&state, &headers, &user, &ip, StatusCode::OK).await
}

/// The current session: who is signed in, the CSRF token, and when the session ends.
#[utoipa::path(
    get,
    path = "/api/session",
    tag = "accounts",
    security(("session" = [])),
    responses(
        (status = 200, body = SessionInfo),
        (status = 401, description = "Not signed in, or the session ended", body = ErrorBody),
    )
)]
async fn session(State(state): State<AppState>, auth: Auth) -> Result<Json<SessionInfo>, ApiError> {
    Ok(Json(
        sessions::info(&state.db, &state.config, &auth.session, &auth.user).await?,
    ))
}

/// Keeps the session alive ("stay signed in").
#[utoipa::path(
    post,
    path = "/api/session/extend",
    tag = "accounts",
    security(("session" = [])),
    responses((status = 200, body = SessionInfo), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
async fn extend(
    State(state): State<AppState>,
    mut auth: Auth,
) -> Result<Json<SessionInfo>, ApiError> {
    sessions::extend(&state.db, &state.config, &mut auth.session).await?;
    Ok(Json(
        sessions::info(&state.db, &state.config, &auth.session, &auth.user).await?,
    ))
}

/// Signs out: ends this session.
#[utoipa::path(
    delete,
    path = "/api/session",
    tag = "accounts",
    security(("session" = [])),
    responses((status = 204, description = "Signed out; clears the cookie"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
async fn sign_out(State(state): State<AppState>, auth: Auth) -> Result<Response, ApiError> {
    sessions::delete(&state.db, &auth.session.token_hash).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, sessions::clear_cookie(&state.config))],
    )
        .into_response())
}

/// Signs out everywhere: ends every session of the account, this one included.
#[utoipa::path(
    delete,
    path = "/api/sessions",
    tag = "accounts",
    security(("session" = [])),
    responses((status = 204, description = "All sessions ended; clears the cookie"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
async fn sign_out_everywhere(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Response, ApiError> {
    let ended = sessions::delete_all_for_user(&state.db, &auth.user.id).await?;
    tracing::info!(user = %auth.user.id, sessions = ended, "signed out everywhere");
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, sessions::clear_cookie(&state.config))],
    )
        .into_response())
}

/// The signed-in user's profile.
#[utoipa::path(
    get,
    path = "/api/profile",
    tag = "accounts",
    security(("session" = [])),
    responses((status = 200, body = Profile), (status = 401, body = ErrorBody))
)]
async fn profile(State(state): State<AppState>, auth: Auth) -> Result<Json<Profile>, ApiError> {
    Ok(Json(users::profile(&state.db, &auth.user).await?))
}

/// Changes contact details, language and notification channels. Names and the IIN come from
/// the registration and are not edited here.
#[utoipa::path(
    put,
    path = "/api/profile",
    tag = "accounts",
    security(("session" = [])),
    request_body = ProfileUpdate,
    responses((status = 200, body = Profile), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody))
)]
async fn update_profile(
    State(state): State<AppState>,
    auth: Auth,
    ApiJson(update): ApiJson<ProfileUpdate>,
) -> Result<Json<Profile>, ApiError> {
    let valid = update.parse().map_err(ApiError::Invalid)?;
    let change = ProfileChange {
        email: valid.email.map(|e| e.as_str().to_string()),
        phone: valid.phone.map(|p| p.as_str().to_string()),
        preferred_lang: valid.preferred_lang,
        notifications: valid.notifications,
    };
    users::update_profile(&state.db, &auth.user.id, change).await?;
    let user = users::by_id(&state.db, &auth.user.id)
        .await?
        .ok_or(ApiError::Unauthorized(Msg::ErrorSessionExpired))?;
    Ok(Json(users::profile(&state.db, &user).await?))
}
