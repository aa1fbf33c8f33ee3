//! The signed document of an application: the detached `.cms` and the exact bytes signed, for
//! the applicant and the provider's officers to download, and anyone to verify again.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use portal_domain::application::{
    SignatureCheck, SignatureCheckRequest, SignatureInfo, SignatureOutcome,
};
use portal_domain::eds::{KeyPurpose, SignedKind, summarize};
use portal_domain::text::Text;
use portal_i18n::{Msg, t};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::verify::{self, Expectation, Outcome, Rejection};
use crate::AppState;
use crate::accounts::auth::{Citizen, Officer};
use crate::applications::store::{self, ApplicationRow};
use crate::error::{ApiError, ApiJson};
use crate::lang::RequestLang;
use crate::on_db;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(applicant_signature))
        .routes(routes!(applicant_document))
        .routes(routes!(officer_signature))
        .routes(routes!(officer_document))
        .routes(routes!(check))
}

struct Stored {
    cms: Vec<u8>,
    document: Vec<u8>,
    certificate: Vec<u8>,
    signed_at: i64,
    outcome: String,
    rejection: Option<String>,
}

async fn stored(state: &AppState, application_id: &str) -> anyhow::Result<Option<Stored>> {
    let row: Option<(Vec<u8>, Vec<u8>, Vec<u8>, i64, String, Option<String>)> = on_db!(
        &state.db,
        |pool| {
            sqlx::query_as("SELECT cms, document, certificate, signed_at, outcome, rejection FROM application_signatures WHERE application_id = $1")
            .bind(application_id)
            .fetch_optional(pool)
            .await
        }
    )?;
    Ok(row.map(
        |(cms, document, certificate, signed_at, outcome, rejection)| Stored {
            cms,
            document,
            certificate,
            signed_at,
            outcome,
            rejection,
        },
    ))
}

/// Whether a submitted application's signature verifies today (a receipt's verification).
pub async fn reverify(state: &AppState, application_id: &str) -> anyhow::Result<bool> {
    let Some(s) = stored(state, application_id).await? else {
        return Ok(false);
    };
    Ok(verify_document(&state.signing, &s.document, &s.cms)
        .await
        .is_some_and(|r| matches!(r.outcome, Outcome::Valid(_))))
}

/// Who signed a submitted application and what the check established, for its page.
pub async fn info(state: &AppState, application_id: &str) -> anyhow::Result<Option<SignatureInfo>> {
    let Some(s) = stored(state, application_id).await? else {
        return Ok(None);
    };
    let signer = summarize(&s.certificate)?;
    let outcome = match s.outcome.as_str() {
        "valid" => SignatureOutcome::Valid,
        "pending" => SignatureOutcome::Pending,
        _ => SignatureOutcome::Invalid,
    };
    let reason = s
        .rejection
        .as_deref()
        .and_then(|r| serde_json::from_str::<Rejection>(r).ok())
        .map(|r| {
            let msg = super::rejection_msg(&r);
            Text::from_fn(|l| t(l, msg).to_string())
        });
    Ok(Some(SignatureInfo {
        holder: signer.holder,
        iin: signer.iin.unwrap_or_default(),
        serial: signer.serial,
        signed_at: s.signed_at,
        outcome,
        reason,
    }))
}

enum Part {
    Signature,
    Document,
}

async fn download(
    state: &AppState,
    row: Option<ApplicationRow>,
    part: Part,
) -> Result<Response, ApiError> {
    let row = row
        .filter(|r| r.number.is_some())
        .ok_or(ApiError::NotFound(Msg::ErrorApplicationNotFound))?;
    let s = stored(state, &row.id)
        .await?
        .ok_or(ApiError::NotFound(Msg::ErrorNotFound))?;
    let number = row.number.unwrap_or_default();
    let (bytes, content_type, name) = match part {
        Part::Signature => (
            s.cms,
            "application/pkcs7-signature",
            format!("{number}.cms"),
        ),
        Part::Document => (s.document, "application/json", format!("{number}.json")),
    };
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .map_err(anyhow::Error::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (header::CONTENT_DISPOSITION, disposition),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            ),
        ],
        bytes,
    )
        .into_response())
}

async fn applicant_row(
    state: &AppState,
    id: &str,
    user_id: &str,
) -> Result<Option<ApplicationRow>, ApiError> {
    Ok(store::owned(&state.db, id, user_id).await?)
}

/// The applicant downloads the detached signature (`.cms`) of their submitted application.
#[utoipa::path(
    get,
    path = "/api/applications/{id}/signature",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "Detached CMS SignedData, DER", content_type = "application/pkcs7-signature"), (status = 404, body = portal_domain::api::ErrorBody))
)]
async fn applicant_signature(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    download(
        &state,
        applicant_row(&state, &id, &auth.user.id).await?,
        Part::Signature,
    )
    .await
}

/// The applicant downloads the exact document they signed (canonical JSON).
#[utoipa::path(
    get,
    path = "/api/applications/{id}/signed-document",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "The signed bytes", content_type = "application/json"), (status = 404, body = portal_domain::api::ErrorBody))
)]
async fn applicant_document(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    download(
        &state,
        applicant_row(&state, &id, &auth.user.id).await?,
        Part::Document,
    )
    .await
}

/// An officer downloads the signature of an application submitted to their organisation.
#[utoipa::path(
    get,
    path = "/api/workspace/applications/{id}/signature",
    tag = "workspace",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses((status = 200, content_type = "application/pkcs7-signature"), (status = 404, body = portal_domain::api::ErrorBody))
)]
async fn officer_signature(
    State(state): State<AppState>,
    officer: Officer,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = store::submitted_to(&state.db, &id, &officer.organisation_id).await?;
    download(&state, row, Part::Signature).await
}

/// An officer downloads the signed document of an application submitted to their organisation.
#[utoipa::path(
    get,
    path = "/api/workspace/applications/{id}/signed-document",
    tag = "workspace",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses((status = 200, content_type = "application/json"), (status = 404, body = portal_domain::api::ErrorBody))
)]
async fn officer_document(
    State(state): State<AppState>,
    officer: Officer,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let row = store::submitted_to(&state.db, &id, &officer.organisation_id).await?;
    download(&state, row, Part::Document).await
}

/// Verifies a signed document and its detached signature again, now: for anyone holding the
/// two files. The signer must be the person the document names, with a signing certificate
/// for an application and an authentication certificate for a sign-in challenge.
#[utoipa::path(
    post,
    path = "/api/signatures/verification",
    tag = "signatures",
    request_body = SignatureCheckRequest,
    params(("lang" = Option<String>, Query, description = "kk, ru or en")),
    responses((status = 200, body = SignatureCheck), (status = 422, description = "Not a document signed on the portal", body = portal_domain::api::ErrorBody))
)]
async fn check(
    State(state): State<AppState>,
    RequestLang(lang): RequestLang,
    ApiJson(request): ApiJson<SignatureCheckRequest>,
) -> Result<Json<SignatureCheck>, ApiError> {
    let problem = |field: &str, msg| ApiError::invalid(crate::error::FieldProblem::new(field, msg));
    let document = BASE64
        .decode(request.document.trim())
        .map_err(|_| problem("document", Msg::ErrorSignedDocumentUnknown))?;
    let cms = super::decode_signature(Some(&request.signature))
        .map_err(|msg| problem("signature", msg))?;
    let outcome = verify_document(&state.signing, &document, &cms)
        .await
        .ok_or(problem("document", Msg::ErrorSignedDocumentUnknown))?;
    Ok(Json(outcome.into_check(lang)))
}

/// A signed document checked again.
pub struct Reverified {
    pub kind: &'static str,
    pub signed_at: i64,
    pub outcome: Outcome,
    pub signer: Option<portal_domain::eds::CertificateSummary>,
}

impl Reverified {
    pub fn into_check(self, lang: portal_i18n::Lang) -> SignatureCheck {
        let (outcome, reason, crl_number, checked_at) = match &self.outcome {
            Outcome::Valid(e) => (
                SignatureOutcome::Valid,
                None,
                e.crl_number.clone(),
                e.checked_at,
            ),
            Outcome::Invalid(r) => (
                SignatureOutcome::Invalid,
                Some(t(lang, super::rejection_msg(r)).to_string()),
                None,
                super::pki::now_seconds(),
            ),
            Outcome::Unknown { .. } => (
                SignatureOutcome::Pending,
                Some(t(lang, Msg::ErrorEdsRevocationUnknown).to_string()),
                None,
                super::pki::now_seconds(),
            ),
        };
        SignatureCheck {
            outcome,
            reason,
            signer: self.signer,
            kind: self.kind.to_string(),
            signed_at: self.signed_at,
            crl_number,
            checked_at,
        }
    }
}

/// Verifies `cms` over `document` as the portal did when it was signed; `None` when the
/// document is not one of the portal's signed formats.
pub async fn verify_document(
    signing: &super::Signing,
    document: &[u8],
    cms: &[u8],
) -> Option<Reverified> {
    // A provider's result is a signed PDF: judged as of now (its certificate names the provider).
    let (name, iin, purpose, signed_at) = if document.starts_with(b"%PDF-") {
        (
            "result",
            None,
            KeyPurpose::Signing,
            super::pki::now_seconds(),
        )
    } else {
        let kind = SignedKind::read(document)?;
        let signed_at = kind.issued_at()?;
        match &kind {
            SignedKind::Application(d) => (
                "application",
                Some(d.signer_iin().to_string()),
                KeyPurpose::Signing,
                signed_at,
            ),
            SignedKind::Login(_) => ("login", None, KeyPurpose::Authentication, signed_at),
        }
    };
    let expectation = Expectation {
        content: document,
        iin: iin.as_deref(),
        purpose,
        at: signed_at,
    };
    let outcome = verify::verify(cms, &expectation, &signing.trust, &signing.crls).await;
    let signer = match &outcome {
        Outcome::Valid(e) => Some(e.signer.clone()),
        Outcome::Unknown { signer, .. } => Some(signer.clone()),
        Outcome::Invalid(_) => portal_domain::eds::signer_of(cms),
    };
    Some(Reverified {
        kind: name,
        signed_at,
        outcome,
        signer,
    })
}
