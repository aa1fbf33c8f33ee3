//! Signing in with an EDS: the server issues a one-time challenge, the person signs it with
//! their authentication certificate (in the browser or through NCALayer), and the server
//! verifies it like any signature. The certificate names the person; their account opens.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use portal_domain::accounts::{EdsLoginChallenge, EdsLoginRequest, SessionInfo};
use portal_domain::api::ErrorBody;
use portal_domain::eds::{KeyPurpose, LoginChallenge, rfc3339_utc};
use portal_i18n::Msg;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::pki::now_seconds;
use super::verify::{self, Expectation, Outcome};
use crate::AppState;
use crate::accounts::auth::ClientAddress;
use crate::accounts::throttle::{self, Limit};
use crate::accounts::{start_session, users};
use crate::error::{ApiError, ApiJson, FieldProblem};
use crate::on_db;

/// A sign-in challenge is good for this long, once.
pub const LOGIN_CHALLENGE_SECONDS: i64 = 5 * 60;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(challenge))
        .routes(routes!(login))
}

/// Issues a one-time challenge to sign with the authentication key.
#[utoipa::path(
    post,
    path = "/api/session/eds-challenge",
    tag = "accounts",
    responses(
        (status = 200, body = EdsLoginChallenge),
        (status = 429, description = "Too many challenges or failures from this address", body = ErrorBody),
    )
)]
async fn challenge(
    State(state): State<AppState>,
    ClientAddress(ip): ClientAddress,
) -> Result<Json<EdsLoginChallenge>, ApiError> {
    let limit = Limit::LoginChallengesPerAddress;
    throttle::refuse_over(
        &state.db,
        limit,
        &ip,
        limit.default_max(),
        Msg::ErrorTooManyRequests,
    )
    .await?;
    throttle::record(&state.db, limit, &ip).await?;
    let nonce = crate::db::random_hex(32);
    let issued_at = now_seconds();
    on_db!(&state.db, |pool| {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM login_challenges WHERE issued_at < $1")
            .bind(issued_at - LOGIN_CHALLENGE_SECONDS)
            .execute(&mut *tx)
            .await?;
        sqlx::query("INSERT INTO login_challenges (nonce, issued_at) VALUES ($1, $2)")
            .bind(&nonce)
            .bind(issued_at)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    })
    .map_err(anyhow::Error::from)?;
    let document = LoginChallenge::new(&nonce, &rfc3339_utc(issued_at)).canonical_bytes();
    Ok(Json(EdsLoginChallenge {
        document: String::from_utf8(document).map_err(anyhow::Error::from)?,
        nonce,
        expires_at: issued_at + LOGIN_CHALLENGE_SECONDS,
    }))
}

/// Signs in with the challenge signed by the person's authentication key.
///
/// Failures count towards the same per-address limit as password sign-in.
#[utoipa::path(
    post,
    path = "/api/session/eds",
    tag = "accounts",
    request_body = EdsLoginRequest,
    responses(
        (status = 200, description = "Signed in; sets the session cookie", body = SessionInfo),
        (status = 422, description = "The signature is not accepted, or no account has the certificate's IIN", body = ErrorBody),
        (status = 429, body = ErrorBody),
        (status = 503, description = "The certificate's revocation status cannot be learnt now", body = ErrorBody),
    )
)]
async fn login(
    State(state): State<AppState>,
    ClientAddress(ip): ClientAddress,
    headers: HeaderMap,
    ApiJson(request): ApiJson<EdsLoginRequest>,
) -> Result<Response, ApiError> {
    let per_address = Limit::FailedLoginsPerAddress;
    throttle::refuse_over(
        &state.db,
        per_address,
        &ip,
        per_address.default_max(),
        Msg::ErrorTooManyRequests,
    )
    .await?;
    match authenticate(&state, &request).await {
        Ok((user, serial)) => {
            tracing::info!(user = %user.id, %serial, "signed in with an EDS");
            start_session(&state, &headers, &user, &ip, StatusCode::OK).await
        }
        Err(refused @ ApiError::Invalid(_)) => {
            throttle::record(&state.db, per_address, &ip).await?;
            Err(refused)
        }
        Err(other) => Err(other),
    }
}

/// The account whose authentication certificate signed the challenge, and the certificate's serial.
async fn authenticate(
    state: &AppState,
    request: &EdsLoginRequest,
) -> Result<(users::UserRow, String), ApiError> {
    let refuse = |msg: Msg| ApiError::invalid(FieldProblem::new("signature", msg));
    let cms = super::decode_signature(Some(&request.signature)).map_err(refuse)?;
    // Used once: taken out of the table whether or not the signature is good.
    let nonce = request.nonce.chars().take(64).collect::<String>();
    let issued_at: Option<(i64,)> = on_db!(&state.db, |pool| {
        sqlx::query_as("DELETE FROM login_challenges WHERE nonce = $1 RETURNING issued_at")
            .bind(&nonce)
            .fetch_optional(pool)
            .await
    })?;
    let Some((issued_at,)) =
        issued_at.filter(|(at,)| now_seconds() - at <= LOGIN_CHALLENGE_SECONDS)
    else {
        return Err(refuse(Msg::ErrorEdsChallengeExpired));
    };
    let document = LoginChallenge::new(&nonce, &rfc3339_utc(issued_at)).canonical_bytes();
    let expectation = Expectation {
        content: &document,
        iin: None,
        purpose: KeyPurpose::Authentication,
        at: issued_at,
    };
    let evidence = match verify::verify(
        &cms,
        &expectation,
        &state.signing.trust,
        &state.signing.crls,
    )
    .await
    {
        Outcome::Valid(evidence) => evidence,
        Outcome::Invalid(verify::Rejection::WrongKeyUsage) => {
            return Err(refuse(Msg::ErrorEdsNotAuthentication));
        }
        Outcome::Invalid(rejection) => return Err(refuse(super::rejection_msg(&rejection))),
        Outcome::Unknown { .. } => {
            return Err(ApiError::Unavailable(Msg::ErrorEdsRevocationUnknown));
        }
    };
    let iin = evidence.signer.iin.clone().unwrap_or_default();
    let user = match portal_domain::iin::Iin::parse(&iin) {
        Ok(parsed) => users::by_iin(&state.db, &parsed).await?,
        Err(_) => None,
    };
    let user = user.ok_or_else(|| {
        ApiError::invalid(FieldProblem::new("signature", Msg::ErrorEdsNoAccount).arg("iin", iin))
    })?;
    Ok((user, evidence.signer.serial))
}
