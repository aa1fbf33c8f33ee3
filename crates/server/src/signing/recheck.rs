//! Signatures whose revocation status could not be learnt at submission ("signature check
//! pending"): checked again until the CRL can be had, then the application goes on as
//! submitted or is refused because the EDS is not confirmed. Never treated as valid meanwhile.

use portal_domain::application::Status;
use portal_domain::eds::KeyPurpose;
use portal_domain::workflow::{Action, Actor};
use portal_i18n::Msg;

use super::pki::now_seconds;
use super::verify::{self, Expectation, Outcome};
use crate::AppState;
use crate::applications::store;
use crate::on_db;
use crate::workflow::events::{EventDetails, NewEvent};

/// The first re-check comes this soon; each further one waits twice as long, up to an hour.
pub const FIRST_RETRY_SECONDS: i64 = 60;
const MAX_RETRY_SECONDS: i64 = 3600;
/// How often the background task looks for due checks.
pub const POLL_SECONDS: u64 = 30;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rechecked {
    pub confirmed: usize,
    pub rejected: usize,
    pub still_unknown: usize,
}

type Pending = (String, Vec<u8>, Vec<u8>, String, i64, i64);

/// Checks again every pending signature due at `now`.
pub async fn recheck_due(state: &AppState, now: i64) -> anyhow::Result<Rechecked> {
    let due: Vec<Pending> = on_db!(&state.db, |pool| {
        sqlx::query_as(
            "SELECT application_id, cms, document, signer_iin, signed_at, checks FROM application_signatures
             WHERE outcome = 'pending' AND next_check_at <= $1 ORDER BY next_check_at LIMIT 200",
        )
        .bind(now)
        .fetch_all(pool)
        .await
    })?;
    let mut done = Rechecked::default();
    for (id, cms, document, signer_iin, signed_at, checks) in due {
        let expectation = Expectation {
            content: &document,
            iin: Some(&signer_iin),
            purpose: KeyPurpose::Signing,
            at: signed_at,
        };
        match verify::verify(
            &cms,
            &expectation,
            &state.signing.trust,
            &state.signing.crls,
        )
        .await
        {
            Outcome::Unknown { .. } => {
                let wait = (FIRST_RETRY_SECONDS << checks.clamp(0, 10)).min(MAX_RETRY_SECONDS);
                on_db!(&state.db, |pool| {
                    sqlx::query("UPDATE application_signatures SET checks = checks + 1, next_check_at = $1 WHERE application_id = $2 AND outcome = 'pending'")
                        .bind(now + wait)
                        .bind(&id)
                        .execute(pool)
                        .await.map(|r| r.rows_affected())
                })?;
                done.still_unknown += 1;
            }
            Outcome::Valid(evidence) => {
                let resolved = resolve(state, &id, "valid", Some(&evidence), None).await?;
                if resolved {
                    tracing::info!(application = %id, "signature confirmed on re-check");
                    announce(
                        state,
                        &id,
                        Msg::NotificationsSignatureConfirmedTitle,
                        Msg::NotificationsSignatureConfirmedBody,
                    )
                    .await?;
                    done.confirmed += 1;
                }
            }
            Outcome::Invalid(rejection) => {
                let resolved = resolve(
                    state,
                    &id,
                    "invalid",
                    None,
                    Some(&serde_json::to_string(&rejection)?),
                )
                .await?;
                if resolved {
                    tracing::info!(application = %id, ?rejection, "signature refused on re-check");
                    announce(
                        state,
                        &id,
                        Msg::NotificationsSignatureRejectedTitle,
                        super::rejection_msg(&rejection),
                    )
                    .await?;
                    done.rejected += 1;
                }
            }
        }
    }
    Ok(done)
}

/// Records the outcome and moves the application on, once: false when another check got there first.
async fn resolve(
    state: &AppState,
    id: &str,
    outcome: &str,
    evidence: Option<&verify::Evidence>,
    rejection: Option<&str>,
) -> anyhow::Result<bool> {
    let status = if outcome == "valid" {
        Status::Submitted
    } else {
        Status::SignatureRejected
    };
    let now = now_seconds();
    on_db!(&state.db, |pool| {
        let mut tx = pool.begin().await?;
        let updated = sqlx::query(
            "UPDATE application_signatures SET outcome = $1, verified_at = $2, crl_number = $3, crl_this_update = $4, rejection = $5,
                    checks = checks + 1, next_check_at = NULL
             WHERE application_id = $6 AND outcome = 'pending'",
        )
        .bind(outcome)
        .bind(evidence.map_or(now, |e| e.checked_at))
        .bind(evidence.and_then(|e| e.crl_number.as_deref()))
        .bind(evidence.map(|e| e.crl_this_update))
        .bind(rejection)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() != 1 {
            tx.rollback().await?;
            return Ok(false);
        }
        let at = crate::db::now_millis();
        let moved = sqlx::query("UPDATE applications SET status = $1, updated_at = $2 WHERE id = $3 AND status = 'signature_pending'")
            .bind(status.code())
            .bind(at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        if moved.rows_affected() == 1 {
            let action = if status == Status::Submitted {
                Action::ConfirmSignature
            } else {
                Action::RejectSignature
            };
            let event = NewEvent {
                application_id: id,
                at,
                actor_id: None,
                actor: Actor::System,
                action,
                from: Status::SignaturePending,
                to: status,
                details: &EventDetails::default(),
            };
            crate::workflow::events::append(&mut crate::db::Conn::from(&mut *tx), &event).await?;
        }
        tx.commit().await?;
        Ok(true)
    })
}

async fn announce(state: &AppState, id: &str, title: Msg, body: Msg) -> anyhow::Result<()> {
    let Some(row) = store::by_id(&state.db, id).await? else {
        return Ok(());
    };
    crate::applications::notify_about(state, &row, title, body).await
}

/// The background task: checks due signatures every [`POLL_SECONDS`].
pub async fn run(state: AppState) {
    let mut every = tokio::time::interval(std::time::Duration::from_secs(POLL_SECONDS));
    loop {
        every.tick().await;
        let checking = recheck_due(&state, now_seconds());
        match state
            .db
            .exclusively("signing: check pending signatures", checking)
            .await
        {
            Ok(
                None
                | Some(Rechecked {
                    confirmed: 0,
                    rejected: 0,
                    still_unknown: 0,
                }),
            ) => {}
            Ok(Some(done)) => tracing::info!(?done, "pending signatures checked again"),
            Err(e) => tracing::warn!(error = %e, "cannot check pending signatures"),
        }
    }
}
