//! Electronic digital signatures: the test certification authority and its CRL, the document
//! an applicant signs, and the server-side verification every submission passes.

pub mod crl;
pub mod documents;
pub mod login;
mod pkcs1;
pub mod pki;
pub mod recheck;
pub mod verify;

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use der::Encode;
use portal_domain::application::{SigningChallenge, Status};
use portal_domain::eds::{
    CertificateSummary, KeyPurpose, SignedAttachment, SigningDocument, rfc3339_utc,
};
use portal_domain::form::Answers;
use portal_i18n::Msg;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;
use crate::accounts::auth::Citizen;
use crate::applications::store::{self, ApplicationRow, AttachmentRow};
use crate::config::Config;
use crate::db::Db;
use crate::error::{ApiError, FieldProblem};
use crate::on_db;

use self::crl::CrlSource;
use self::pki::{Authority, now_seconds};
use self::verify::{Evidence, Expectation, Outcome, Rejection, TrustStore};

/// How long a signing challenge stays good.
pub const CHALLENGE_SECONDS: i64 = 30 * 60;
/// A CMS signature with one RSA certificate is a few kilobytes; anything far larger is not one.
const MAX_SIGNATURE_BYTES: usize = 64 * 1024;

/// The portal's own test CA, the CAs signatures must chain to, and where revocation is learnt.
pub struct Signing {
    pub authority: Authority,
    pub trust: TrustStore,
    pub crls: CrlSource,
}

impl Signing {
    pub async fn load(config: &Config, db: &Db) -> anyhow::Result<Signing> {
        let authority = portal_authority(config, db).await?;
        let trust = match &config.trust_dir {
            Some(dir) => TrustStore::load_dir(dir)?,
            None => TrustStore::new(vec![authority.root.clone(), authority.issuing.clone()])?,
        };
        Ok(Signing {
            authority,
            trust,
            crls: CrlSource::new(config.crl_url.clone()),
        })
    }

    /// The portal's own CA's CRL is at `url` (the portal's address once it listens).
    pub fn publish_own_crl(&self, url: &str) {
        self.crls.publish_own(&self.authority.issuing, url);
    }

    /// The current CRL of the portal's own CA.
    pub async fn own_crl(&self, db: &Db) -> anyhow::Result<Vec<u8>> {
        let revoked: Vec<(String, i64)> = on_db!(db, |pool| {
            sqlx::query_as("SELECT serial, revoked_at FROM pki_certificates WHERE revoked_at IS NOT NULL ORDER BY serial").fetch_all(pool).await
        })?;
        let revoked: Vec<(Vec<u8>, i64)> = revoked
            .into_iter()
            .filter_map(|(serial, at)| Some((pki::serial_from_hex(&serial)?, at)))
            .collect();
        let now = now_seconds();
        // Numbered by the minute it was made: increases with every new list, as RFC 5280 wants.
        self.authority.crl(
            &revoked,
            (now / 60) as u64,
            now - 60,
            Duration::from_secs(3600),
        )
    }
}

/// The portal's own CA: the files in `PORTAL_PKI_DIR` when it has them (the committed demo
/// CA, or one made earlier). Otherwise, on PostgreSQL, the one kept in the database, made by
/// whichever instance starts first, so every instance issues and trusts the same CA; on
/// SQLite, a new one made in the directory.
pub async fn portal_authority(config: &Config, db: &Db) -> anyhow::Result<Authority> {
    const LABEL: &str = "Portal test";
    if Authority::exists(&config.pki_dir) || db.engine() != "postgres" {
        return Authority::load_or_create(&config.pki_dir, LABEL);
    }
    if let Some(shared) = shared_authority(db).await? {
        return Ok(shared);
    }
    let [root, issuing, key] = Authority::generate(LABEL)?.to_parts()?;
    on_db!(db, |pool| sqlx::query(
        "INSERT INTO pki_authority (id, root, issuing, issuing_key, created_at)
         VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING"
    )
    .bind(&root)
    .bind(&issuing)
    .bind(&key)
    .bind(crate::db::now_millis())
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    // Another instance may have stored its CA first: every instance uses the stored one.
    shared_authority(db)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the CA stored in the database is gone"))
}

async fn shared_authority(db: &Db) -> anyhow::Result<Option<Authority>> {
    let stored: Option<(Vec<u8>, Vec<u8>, Vec<u8>)> = on_db!(db, |pool| sqlx::query_as(
        "SELECT root, issuing, issuing_key FROM pki_authority WHERE id = 1"
    )
    .fetch_optional(pool)
    .await)?;
    stored
        .map(|(root, issuing, key)| Authority::from_parts(&root, &issuing, &key))
        .transpose()
}

/// The API routes: the signing challenge, signing in with an EDS, the signed documents and
/// their re-verification.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(challenge))
        .merge(login::routes())
        .merge(documents::routes())
}

/// What the CA publishes for anyone: its certificates and its CRL.
pub fn published(state: AppState) -> Router {
    Router::new()
        .route(pki::CRL_PATH, get(crl))
        .route("/pki/{file}", get(ca_certificate))
        .with_state(state)
}

async fn crl(State(state): State<AppState>) -> Result<Response, ApiError> {
    let der = state.signing.own_crl(&state.db).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pkix-crl"),
            (header::CACHE_CONTROL, "max-age=60"),
        ],
        der,
    )
        .into_response())
}

async fn ca_certificate(
    State(state): State<AppState>,
    Path(file): Path<String>,
) -> Result<Response, ApiError> {
    let certificate = match file.as_str() {
        "root.cer" => &state.signing.authority.root,
        "issuing.cer" => &state.signing.authority.issuing,
        _ => return Err(ApiError::NotFound(Msg::ErrorNotFound)),
    };
    let der = certificate.to_der().map_err(anyhow::Error::from)?;
    Ok(([(header::CONTENT_TYPE, "application/pkix-cert")], der).into_response())
}

/// Issues the document to sign for a draft: its answers and files as they are now, with a
/// fresh nonce and time. Any later change to the draft makes a signature over it fail.
#[utoipa::path(
    post,
    path = "/api/applications/{id}/signing",
    tag = "applications",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses((status = 200, body = SigningChallenge), (status = 404, body = portal_domain::api::ErrorBody))
)]
async fn challenge(
    State(state): State<AppState>,
    Citizen(auth): Citizen,
    Path(id): Path<String>,
) -> Result<Json<SigningChallenge>, ApiError> {
    let row = store::owned(&state.db, &id, &auth.user.id)
        .await?
        .ok_or(ApiError::NotFound(Msg::ErrorApplicationNotFound))?;
    if row.status() != Status::Draft {
        return Err(ApiError::Conflict(Msg::ErrorApplicationConflict));
    }
    let nonce = crate::db::random_hex(32);
    let issued_at = now_seconds();
    on_db!(&state.db, |pool| {
        sqlx::query(
            "INSERT INTO signing_challenges (application_id, nonce, issued_at) VALUES ($1, $2, $3)
             ON CONFLICT (application_id) DO UPDATE SET nonce = excluded.nonce, issued_at = excluded.issued_at",
        )
        .bind(&row.id)
        .bind(&nonce)
        .bind(issued_at)
        .execute(pool)
        .await.map(|r| r.rows_affected())
    })?;
    // A scheduled sending carried a signature over the previous challenge.
    store::unschedule(&state.db, &row.id).await?;
    let attachments = store::attachments(&state.db, &row.id).await?;
    let document = document(&row, &auth.user.iin, &attachments, &nonce, issued_at)?;
    Ok(Json(SigningChallenge {
        document: String::from_utf8(document.canonical_bytes()).map_err(anyhow::Error::from)?,
        signer_iin: auth.user.iin.clone(),
        issued_at,
        expires_at: issued_at + CHALLENGE_SECONDS,
    }))
}

/// The document for `row` as stored now. When someone applies as a representative, the
/// person they represent is the applicant and they sign as the representative.
pub fn document(
    row: &ApplicationRow,
    user_iin: &str,
    attachments: &[AttachmentRow],
    nonce: &str,
    issued_at: i64,
) -> anyhow::Result<SigningDocument> {
    let answers: Answers = row.answers()?;
    let text = |id: &str| match answers.get(id) {
        Some(portal_domain::form::Answer::Text(t)) => Some(t.clone()),
        _ => None,
    };
    let (applicant, representative) = match (text("on_behalf").as_deref(), text("subject_iin")) {
        (Some("representative"), Some(principal)) => (principal, Some(user_iin.to_string())),
        _ => (user_iin.to_string(), None),
    };
    let files = attachments
        .iter()
        .filter(|a| a.complete)
        .map(|a| SignedAttachment {
            slot: a.slot.clone(),
            file_name: a.file_name.clone(),
            sha256: a.sha256.clone().unwrap_or_default(),
        })
        .collect();
    Ok(SigningDocument::new(
        &row.id,
        &row.service_id,
        &applicant,
        representative.as_deref(),
        answers,
        files,
        nonce,
        &rfc3339_utc(issued_at),
    ))
}

/// A signature that passed every check the server could make, ready to be stored with the
/// submission in the same transaction.
pub struct Accepted {
    pub cms: Vec<u8>,
    pub document: Vec<u8>,
    /// The IIN that had to sign.
    pub signer_iin: String,
    /// The server-issued signing time.
    pub signed_at: i64,
    pub check: Check,
}

pub enum Check {
    Valid(Evidence),
    /// Valid in every other respect, but revocation could not be learnt: the application is
    /// held as "signature check pending" and checked again (see [`recheck`]).
    Pending {
        signer: CertificateSummary,
        certificate_der: Vec<u8>,
    },
}

impl Accepted {
    /// The status the submitted application takes.
    pub fn status(&self) -> Status {
        match self.check {
            Check::Valid(_) => Status::Submitted,
            Check::Pending { .. } => Status::SignaturePending,
        }
    }

    /// What the applicant's view says about the signature just accepted (as
    /// [`documents::info`] reads it back).
    pub fn info(&self) -> portal_domain::application::SignatureInfo {
        use portal_domain::application::{SignatureInfo, SignatureOutcome};
        let (signer, outcome) = match &self.check {
            Check::Valid(e) => (&e.signer, SignatureOutcome::Valid),
            Check::Pending { signer, .. } => (signer, SignatureOutcome::Pending),
        };
        SignatureInfo {
            holder: signer.holder.clone(),
            iin: signer.iin.clone().unwrap_or_default(),
            serial: signer.serial.clone(),
            signed_at: self.signed_at,
            outcome,
            reason: None,
        }
    }

    /// What to keep for [`check_held`]: only a signature found valid.
    pub fn held(&self) -> Option<Held> {
        match &self.check {
            Check::Valid(e) => Some(Held {
                document: self.document.clone(),
                certificate: e.certificate_der.clone(),
            }),
            Check::Pending { .. } => None,
        }
    }

    pub fn record(&self) -> store::SignatureRecord<'_> {
        let (serial, certificate) = match &self.check {
            Check::Valid(e) => (e.signer.serial.as_str(), e.certificate_der.as_slice()),
            Check::Pending {
                signer,
                certificate_der,
            } => (signer.serial.as_str(), certificate_der.as_slice()),
        };
        let evidence = match &self.check {
            Check::Valid(e) => Some(e),
            Check::Pending { .. } => None,
        };
        store::SignatureRecord {
            cms: &self.cms,
            document: &self.document,
            signer_iin: &self.signer_iin,
            signer_serial: serial,
            certificate,
            signed_at: self.signed_at,
            outcome: if evidence.is_some() {
                "valid"
            } else {
                "pending"
            },
            verified_at: evidence.map(|e| e.checked_at),
            crl_number: evidence.and_then(|e| e.crl_number.as_deref()),
            crl_this_update: evidence.map(|e| e.crl_this_update),
            next_check_at: evidence
                .is_none()
                .then(|| now_seconds() + recheck::FIRST_RETRY_SECONDS),
        }
    }
}

/// What a full check of a signature established, kept with a draft scheduled for sending at
/// the opening: the document it signed and the signer's certificate.
pub struct Held {
    pub document: Vec<u8>,
    pub certificate: Vec<u8>,
}

/// Checks a signature again at sending that [`check_submission`] accepted as valid when the
/// draft was scheduled: when the document the server rebuilds now is the one held, only its
/// certificate's chain and revocation are checked (see [`verify::recheck`]); otherwise (the
/// draft changed) the whole signature, which then names what is wrong.
pub async fn check_held(
    state: &AppState,
    row: &ApplicationRow,
    attachments: &[AttachmentRow],
    user_iin: &str,
    signature: Option<&str>,
    held: &Held,
) -> Result<Accepted, ApiError> {
    let (cms, document, issued_at) =
        signed_content(state, row, attachments, user_iin, signature).await?;
    if document != held.document {
        return check_submission(state, row, attachments, user_iin, signature, false).await;
    }
    let outcome = verify::recheck(
        &held.certificate,
        issued_at,
        &state.signing.trust,
        &state.signing.crls,
    )
    .await;
    let check = accepted_check(outcome, &row.id)?;
    Ok(Accepted {
        cms,
        document,
        signer_iin: user_iin.to_string(),
        signed_at: issued_at,
        check,
    })
}

/// The DER of the `signature` sent, the document it must sign (rebuilt from what the server
/// stores, with the nonce it issued), and the signing time.
async fn signed_content(
    state: &AppState,
    row: &ApplicationRow,
    attachments: &[AttachmentRow],
    user_iin: &str,
    signature: Option<&str>,
) -> Result<(Vec<u8>, Vec<u8>, i64), ApiError> {
    let refuse = |msg: Msg| ApiError::invalid(FieldProblem::new("signature", msg));
    let cms = decode_signature(signature).map_err(refuse)?;
    let challenge: Option<(String, i64)> = state
        .db
        .read(
            "SELECT nonce, issued_at FROM signing_challenges WHERE application_id = $1",
            &[crate::db::Arg::Text(Some(&row.id))],
        )
        .await?;
    let (nonce, issued_at) = challenge.ok_or(refuse(Msg::ErrorEdsChallengeExpired))?;
    let document = document(row, user_iin, attachments, &nonce, issued_at)?.canonical_bytes();
    Ok((cms, document, issued_at))
}

/// How a verification's outcome is taken: valid, held as pending, or refused with its reason.
fn accepted_check(outcome: Outcome, application_id: &str) -> Result<Check, ApiError> {
    match outcome {
        Outcome::Valid(evidence) => Ok(Check::Valid(evidence)),
        Outcome::Invalid(rejection) => {
            tracing::info!(application = %application_id, ?rejection, "signature refused");
            Err(ApiError::invalid(FieldProblem::new(
                "signature",
                rejection_msg(&rejection),
            )))
        }
        Outcome::Unknown {
            signer,
            certificate_der,
        } => {
            tracing::warn!(application = %application_id, "revocation status unknown: the application is held until it can be checked");
            Ok(Check::Pending {
                signer,
                certificate_der,
            })
        }
    }
}

/// Checks the signature sent with a submission against the document the server rebuilds from
/// what it stores. Refusals name their reason under the `signature` field. A signature made
/// for sending at a later moment was checked fresh when it was made: `fresh_challenge` false.
pub async fn check_submission(
    state: &AppState,
    row: &ApplicationRow,
    attachments: &[AttachmentRow],
    user_iin: &str,
    signature: Option<&str>,
    fresh_challenge: bool,
) -> Result<Accepted, ApiError> {
    let (cms, document, issued_at) =
        signed_content(state, row, attachments, user_iin, signature).await?;
    if fresh_challenge && now_seconds() - issued_at > CHALLENGE_SECONDS {
        return Err(ApiError::invalid(FieldProblem::new(
            "signature",
            Msg::ErrorEdsChallengeExpired,
        )));
    }
    let expectation = Expectation {
        content: &document,
        iin: Some(user_iin),
        purpose: KeyPurpose::Signing,
        at: issued_at,
    };
    let outcome = verify::verify(
        &cms,
        &expectation,
        &state.signing.trust,
        &state.signing.crls,
    )
    .await;
    let check = accepted_check(outcome, &row.id)?;
    Ok(Accepted {
        cms,
        document,
        signer_iin: user_iin.to_string(),
        signed_at: issued_at,
        check,
    })
}

/// The DER of a base64 signature sent by a browser, or why it is not one.
pub fn decode_signature(signature: Option<&str>) -> Result<Vec<u8>, Msg> {
    let signature = signature
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or(Msg::ErrorEdsRequired)?;
    if signature.len() > MAX_SIGNATURE_BYTES * 4 / 3 + 4 {
        return Err(Msg::ErrorEdsMalformed);
    }
    BASE64.decode(signature).map_err(|_| Msg::ErrorEdsMalformed)
}

pub fn rejection_msg(rejection: &Rejection) -> Msg {
    match rejection {
        Rejection::Malformed => Msg::ErrorEdsMalformed,
        Rejection::ContentChanged => Msg::ErrorEdsContentChanged,
        Rejection::BadSignature => Msg::ErrorEdsBadSignature,
        Rejection::UntrustedIssuer => Msg::ErrorEdsUntrusted,
        Rejection::NotYetValid => Msg::ErrorEdsNotYetValid,
        Rejection::Expired => Msg::ErrorEdsExpired,
        Rejection::Revoked { .. } => Msg::ErrorEdsRevoked,
        Rejection::WrongKeyUsage => Msg::ErrorEdsWrongKeyUsage,
        Rejection::WrongIin { .. } => Msg::ErrorEdsWrongIin,
    }
}

/// Records a certificate of the portal's own CA (issued by the CLI, or a demo key file).
pub async fn record_certificate(
    db: &Db,
    summary: &portal_domain::eds::CertificateSummary,
    revoked_at: Option<i64>,
) -> anyhow::Result<()> {
    let purpose = match summary.purpose {
        KeyPurpose::Signing => "signing",
        KeyPurpose::Authentication => "authentication",
        KeyPurpose::Other => "other",
    };
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO pki_certificates (serial, iin, purpose, holder, not_before, not_after, issued_at, revoked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (serial) DO NOTHING",
        )
        .bind(&summary.serial)
        .bind(summary.iin.as_deref().unwrap_or(""))
        .bind(purpose)
        .bind(&summary.holder)
        .bind(summary.not_before)
        .bind(summary.not_after)
        .bind(now_seconds())
        .bind(revoked_at)
        .execute(pool)
        .await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Revokes certificates of the portal's own CA: one serial, or every certificate of an IIN.
/// Returns how many were revoked now.
pub async fn revoke(db: &Db, serial_or_iin: &str) -> anyhow::Result<u64> {
    let now = now_seconds();
    let done = on_db!(db, |pool| {
        sqlx::query("UPDATE pki_certificates SET revoked_at = $1 WHERE (serial = $2 OR iin = $2) AND revoked_at IS NULL")
            .bind(now)
            .bind(serial_or_iin)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done)
}

#[cfg(test)]
mod tests;
