//! Applications in the database.

use portal_domain::application::{AttachmentView, Status};
use portal_domain::form::Answers;
use portal_domain::workflow::{Action, Actor};

use crate::workflow::events::{EventDetails, NewEvent};

use crate::db::{Arg, Db, TxRow, new_id, now_millis};
use crate::notifications::Pending;
use crate::on_db;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct ApplicationRow {
    pub id: String,
    pub user_id: String,
    pub service_id: String,
    pub status: String,
    pub answers: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub number: Option<String>,
    pub submitted_at: Option<i64>,
    pub organisation_id: Option<String>,
    pub expected_result_date: Option<String>,
    pub verification_code: Option<String>,
    pub lang: Option<String>,
    /// First grade: the school did not accept the claimed priority category.
    pub first_grade_priority_refused: bool,
}

impl TxRow for ApplicationRow {
    /// By name: [`COLUMNS`].
    fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(ApplicationRow {
            id: row.get("id")?,
            user_id: row.get("user_id")?,
            service_id: row.get("service_id")?,
            status: row.get("status")?,
            answers: row.get("answers")?,
            version: row.get("version")?,
            created_at: row.get("created_at")?,
            updated_at: row.get("updated_at")?,
            number: row.get("number")?,
            submitted_at: row.get("submitted_at")?,
            organisation_id: row.get("organisation_id")?,
            expected_result_date: row.get("expected_result_date")?,
            verification_code: row.get("verification_code")?,
            lang: row.get("lang")?,
            first_grade_priority_refused: row.get("first_grade_priority_refused")?,
        })
    }
}

impl ApplicationRow {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Submitted)
    }

    pub fn answers(&self) -> anyhow::Result<Answers> {
        Ok(serde_json::from_str(&self.answers)?)
    }
}

const COLUMNS: &str = "id, user_id, service_id, status, answers, version, created_at, updated_at, number, submitted_at, \
                       organisation_id, expected_result_date, verification_code, lang, first_grade_priority_refused";

pub async fn create(db: &Db, user_id: &str, service_id: &str) -> anyhow::Result<String> {
    let id = new_id();
    let now = now_millis();
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO applications (id, user_id, service_id, status, answers, version, created_at, updated_at)
             VALUES ($1, $2, $3, 'draft', '{}', 1, $4, $4)",
        )
        .bind(&id)
        .bind(user_id)
        .bind(service_id)
        .bind(now)
        .execute(pool)
        .await.map(|r| r.rows_affected())
    })?;
    Ok(id)
}

/// The application `id` if `user_id` owns it. Anyone else gets `None`, exactly as if it did
/// not exist.
pub async fn owned(db: &Db, id: &str, user_id: &str) -> anyhow::Result<Option<ApplicationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE id = $1 AND user_id = $2");
    db.read(&sql, &[Arg::Text(Some(id)), Arg::Text(Some(user_id))])
        .await
}

/// Application `id` if it reached `organisation_id` (what its officers may see): submitted, with
/// the signature confirmed.
pub async fn submitted_to(
    db: &Db,
    id: &str,
    organisation_id: &str,
) -> anyhow::Result<Option<ApplicationRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM applications WHERE id = $1 AND organisation_id = $2
         AND status NOT IN ('draft', 'signature_pending', 'signature_rejected')"
    );
    Ok(on_db!(db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .bind(organisation_id)
        .fetch_optional(pool)
        .await)?)
}

pub async fn by_id(db: &Db, id: &str) -> anyhow::Result<Option<ApplicationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE id = $1");
    Ok(on_db!(db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?)
}

pub async fn by_verification_code(db: &Db, code: &str) -> anyhow::Result<Option<ApplicationRow>> {
    let sql = format!("SELECT {COLUMNS} FROM applications WHERE verification_code = $1");
    Ok(on_db!(db, |pool| sqlx::query_as(&sql)
        .bind(code)
        .fetch_optional(pool)
        .await)?)
}

pub async fn list_for(db: &Db, user_id: &str) -> anyhow::Result<Vec<ApplicationRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM applications WHERE user_id = $1 ORDER BY updated_at DESC, id LIMIT 500"
    );
    Ok(on_db!(db, |pool| sqlx::query_as(&sql)
        .bind(user_id)
        .fetch_all(pool)
        .await)?)
}

/// First-grade applications still waiting for a school's decision: drafts that may name
/// `school` in their answers (the caller checks), and those sent to it and not yet decided.
pub async fn undecided_at(
    db: &Db,
    service_id: &str,
    school: &str,
) -> anyhow::Result<Vec<ApplicationRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM applications WHERE service_id = $1
         AND ((status = 'draft' AND answers LIKE $3)
              OR (organisation_id = $2 AND status IN ('signature_pending', 'submitted', 'registered', 'in_review')))"
    );
    Ok(on_db!(db, |pool| sqlx::query_as(&sql)
        .bind(service_id)
        .bind(school)
        .bind(format!("%\"{school}\"%"))
        .fetch_all(pool)
        .await)?)
}

/// Saves a draft's answers if it is still the draft at `version`. Returns the new version, or
/// `None` when the draft moved on (or was submitted) meanwhile.
pub async fn save_answers(
    db: &Db,
    id: &str,
    version: i64,
    answers: &Answers,
) -> anyhow::Result<Option<i64>> {
    let json = serde_json::to_string(answers)?;
    let done = on_db!(db, |pool| {
        sqlx::query("UPDATE applications SET answers = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND version = $4 AND status = 'draft'")
            .bind(&json)
            .bind(now_millis())
            .bind(id)
            .bind(version)
            .execute(pool)
            .await.map(|r| r.rows_affected())
    })?;
    if done == 1 {
        unschedule(db, id).await?;
    }
    Ok((done == 1).then_some(version + 1))
}

/// Forgets a draft's scheduled sending: what was signed is no longer what the draft holds.
pub async fn unschedule(db: &Db, id: &str) -> anyhow::Result<bool> {
    let done = on_db!(db, |pool| {
        sqlx::query("DELETE FROM scheduled_submissions WHERE application_id = $1")
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done > 0)
}

/// Marks that the application changed (an attachment came or went). The version guards the
/// answers only, so an upload never turns the applicant's next autosave into a conflict.
pub async fn touch(db: &Db, id: &str) -> anyhow::Result<()> {
    on_db!(db, |pool| {
        sqlx::query("UPDATE applications SET updated_at = $1 WHERE id = $2")
            .bind(now_millis())
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    unschedule(db, id).await?;
    Ok(())
}

pub async fn delete_draft(db: &Db, id: &str) -> anyhow::Result<bool> {
    let done = on_db!(db, |pool| {
        sqlx::query("DELETE FROM applications WHERE id = $1 AND status = 'draft'")
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

pub struct SubmissionFacts<'a> {
    /// The draft as read, at the version the applicant submits.
    pub draft: &'a ApplicationRow,
    pub answers: &'a Answers,
    pub definition_sha256: &'a str,
    pub organisation_id: &'a str,
    pub submitted_at: i64,
    pub local_day: portal_domain::date::Date,
    pub expected_result_date: Option<portal_domain::date::Date>,
    pub lang: &'a str,
    /// `submitted`, or `signature_pending` while the signature's revocation is unknown.
    pub status: Status,
    pub signature: SignatureRecord<'a>,
    /// The child's IIN and the school year, for a first-grade application (one per child;
    /// it takes the next place in the school's queue).
    pub first_grade: Option<(&'a str, i32)>,
    /// The applicant's notification, worded once the number is given; stored in the same
    /// transaction.
    pub notice: Notice,
    /// Where in line the submission is written, when the caller keeps an order.
    pub turn: Option<crate::db::Turn>,
}

/// Words the notification about a just-submitted application.
pub type Notice = Box<dyn FnOnce(&ApplicationRow) -> Pending + Send>;

/// The signature stored with a submission, and what its verification established.
pub struct SignatureRecord<'a> {
    pub cms: &'a [u8],
    pub document: &'a [u8],
    pub signer_iin: &'a str,
    pub signer_serial: &'a str,
    pub certificate: &'a [u8],
    pub signed_at: i64,
    /// `valid` or `pending`.
    pub outcome: &'a str,
    pub verified_at: Option<i64>,
    pub crl_number: Option<&'a str>,
    pub crl_this_update: Option<i64>,
    pub next_check_at: Option<i64>,
}

pub enum Submitted {
    /// This request submitted it: the application as it now is, the notification stored
    /// with it (to be announced), and for first grade its place in the school's queue at
    /// the commit.
    Now(Box<ApplicationRow>, Pending, Option<u64>),
    /// It was no longer the draft at that version: submitted by another request, or edited.
    NotTheDraft,
    /// The child already has an active first-grade application (sent at the same moment).
    DuplicateChild,
}

/// Numbers and submits the draft with its signature, all or nothing, in the writer's next
/// group commit (answered once it is on disk); of concurrent attempts exactly one succeeds.
pub async fn submit(db: &Db, facts: SubmissionFacts<'_>) -> anyhow::Result<Submitted> {
    let answers = serde_json::to_string(facts.answers)?;
    let day = facts.local_day.to_string();
    let number_day = facts.local_day;
    let draft = facts.draft.clone();
    let id = draft.id.clone();
    let user_id = draft.user_id.clone();
    let version = draft.version;
    let definition_sha256 = facts.definition_sha256.to_string();
    let organisation_id = facts.organisation_id.to_string();
    let submitted_at = facts.submitted_at;
    let expected = facts.expected_result_date.map(|d| d.to_string());
    let lang = facts.lang.to_string();
    let status = facts.status;
    let first_grade = facts
        .first_grade
        .map(|(child, year)| (child.to_string(), year));
    let notice = facts.notice;
    let turn = facts.turn;
    let g = &facts.signature;
    let signature = (
        g.cms.to_vec(),
        g.document.to_vec(),
        g.signer_iin.to_string(),
        g.signer_serial.to_string(),
        g.certificate.to_vec(),
        g.signed_at,
        g.outcome.to_string(),
        g.verified_at,
        g.crl_number.map(str::to_string),
        g.crl_this_update,
        g.next_check_at,
    );
    db.write_tx(Box::new(move |mut tx| {
        Box::pin(async move {
            let sequence = tx.fetch_i64(
                "INSERT INTO application_numbers (day, last) VALUES ($1, 1)
                 ON CONFLICT (day) DO UPDATE SET last = application_numbers.last + 1 RETURNING last",
                &[Arg::Text(Some(&day))],
            )
            .await?;
            let number = portal_domain::application::application_number(number_day, sequence as u32);
            // The school's queue: the next place, taken under the counter row's lock, so that
            // concurrent submissions (several instances on PostgreSQL) never share one.
            let position = match &first_grade {
                Some((_, year)) => Some(tx.fetch_i64(
                    "INSERT INTO first_grade_queues (organisation_id, school_year, last) VALUES ($1, $2, 1)
                     ON CONFLICT (organisation_id, school_year) DO UPDATE SET last = first_grade_queues.last + 1
                     RETURNING last",
                    &[Arg::Text(Some(&organisation_id)), Arg::Int(Some(i64::from(*year)))],
                )
                .await?),
                None => None,
            };
            // Unguessable (80 random bits) yet in the order given, like ids: each one joins the
            // last page of the unique index instead of a random page, on the writer's time.
            let verification_code = crate::db::new_id();
            // Without RETURNING (SQLite would copy the row into a table of its own to return
            // it, on the writer's time): the row is the draft read at this version with what
            // this statement sets.
            let done = tx.execute(
                "UPDATE applications SET status = $11, answers = $1, version = version + 1, updated_at = $2,
                        number = $3, submitted_at = $2, definition_sha256 = $4, organisation_id = $5, consent_at = $2,
                        expected_result_date = $6, verification_code = $7, lang = $8, first_grade_child = $12,
                        first_grade_year = $13, first_grade_position = $14
                 WHERE id = $9 AND version = $10 AND status = 'draft'",
                &[
                Arg::Text(Some(&answers)),
                Arg::Int(Some(submitted_at)),
                Arg::Text(Some(&number)),
                Arg::Text(Some(&definition_sha256)),
                Arg::Text(Some(&organisation_id)),
                Arg::Text(expected.as_deref()),
                Arg::Text(Some(&verification_code)),
                Arg::Text(Some(&lang)),
                Arg::Text(Some(&id)),
                Arg::Int(Some(version)),
                Arg::Text(Some(status.code())),
                Arg::Text(first_grade.as_ref().map(|(child, _)| child.as_str())),
                Arg::Int(first_grade.as_ref().map(|(_, year)| i64::from(*year))),
                Arg::Int(position),
            ])
            .await;
            let done = match done {
                // Undone: the number and the queue place are given back.
                Err(e) if crate::db::is_unique_violation(&e) => {
                    return Ok((Submitted::DuplicateChild, false));
                }
                other => other?,
            };
            if done != 1 {
                return Ok((Submitted::NotTheDraft, false));
            }
            let submitted = ApplicationRow {
                status: status.code().to_string(),
                answers,
                version: version + 1,
                updated_at: submitted_at,
                number: Some(number),
                submitted_at: Some(submitted_at),
                organisation_id: Some(organisation_id.clone()),
                expected_result_date: expected,
                verification_code: Some(verification_code),
                lang: Some(lang),
                ..draft
            };
            let (cms, document, signer_iin, signer_serial, certificate, signed_at, outcome, verified_at, crl_number, crl_this_update, next_check_at) = signature;
            tx.execute(
                "INSERT INTO application_signatures (application_id, cms, document, signer_iin, signer_serial, certificate, signed_at,
                                                     outcome, verified_at, crl_number, crl_this_update, next_check_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                &[
                    Arg::Text(Some(&id)),
                    Arg::Blob(Some(&cms)),
                    Arg::Blob(Some(&document)),
                    Arg::Text(Some(&signer_iin)),
                    Arg::Text(Some(&signer_serial)),
                    Arg::Blob(Some(&certificate)),
                    Arg::Int(Some(signed_at)),
                    Arg::Text(Some(&outcome)),
                    Arg::Int(verified_at),
                    Arg::Text(crl_number.as_deref()),
                    Arg::Int(crl_this_update),
                    Arg::Int(next_check_at),
                ],
            )
            .await?;
            let action = if status == Status::SignaturePending {
                Action::SubmitUnconfirmed
            } else {
                Action::Submit
            };
            let event = NewEvent {
                application_id: &id,
                at: submitted_at,
                actor_id: Some(&user_id),
                actor: Actor::Applicant,
                action,
                from: Status::Draft,
                to: status,
                details: &EventDetails::default(),
            };
            crate::workflow::events::append_first(&mut tx, &event).await?;
            tx.execute(
                "DELETE FROM scheduled_submissions WHERE application_id = $1",
                &[Arg::Text(Some(&id))],
            )
            .await?;
            // Counted here, on the writer's connection, rather than by a read after the
            // commit: a reader would find these pages just changed and read them again.
            let place = match (&first_grade, position) {
                (Some((_, year)), Some(position)) => Some(
                    crate::first_grade::place_of(&mut tx, &organisation_id, *year, position).await?,
                ),
                _ => None,
            };
            let notification = notice(&submitted);
            notification.insert(&mut tx).await?;
            Ok((Submitted::Now(Box::new(submitted), notification, place), true))
        })
    }), turn)
    .await
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct AttachmentRow {
    pub id: String,
    pub application_id: String,
    pub slot: String,
    pub file_name: String,
    pub size: i64,
    pub received: i64,
    pub complete: bool,
    pub content_type: Option<String>,
    pub sha256: Option<String>,
}

impl TxRow for AttachmentRow {
    fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(AttachmentRow {
            id: row.get("id")?,
            application_id: row.get("application_id")?,
            slot: row.get("slot")?,
            file_name: row.get("file_name")?,
            size: row.get("size")?,
            received: row.get("received")?,
            complete: row.get("complete")?,
            content_type: row.get("content_type")?,
            sha256: row.get("sha256")?,
        })
    }
}

impl AttachmentRow {
    pub fn view(&self) -> AttachmentView {
        AttachmentView {
            id: self.id.clone(),
            slot: self.slot.clone(),
            file_name: self.file_name.clone(),
            size: self.size as u64,
            received: self.received as u64,
            complete: self.complete,
            content_type: self.content_type.clone(),
            sha256: self.sha256.clone(),
        }
    }
}

const ATTACHMENT_COLUMNS: &str =
    "id, application_id, slot, file_name, size, received, complete, content_type, sha256";

pub async fn attachments(db: &Db, application_id: &str) -> anyhow::Result<Vec<AttachmentRow>> {
    let sql = format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE application_id = $1 ORDER BY created_at, id"
    );
    db.read_all(&sql, &[Arg::Text(Some(application_id))]).await
}

pub async fn attachment(
    db: &Db,
    application_id: &str,
    id: &str,
) -> anyhow::Result<Option<AttachmentRow>> {
    let sql = format!(
        "SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE application_id = $1 AND id = $2"
    );
    Ok(on_db!(db, |pool| sqlx::query_as(&sql)
        .bind(application_id)
        .bind(id)
        .fetch_optional(pool)
        .await)?)
}

pub async fn insert_attachment(
    db: &Db,
    application_id: &str,
    slot: &str,
    file_name: &str,
    size: u64,
) -> anyhow::Result<String> {
    let id = new_id();
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO attachments (id, application_id, slot, file_name, size, received, complete, created_at)
             VALUES ($1, $2, $3, $4, $5, 0, FALSE, $6)",
        )
        .bind(&id)
        .bind(application_id)
        .bind(slot)
        .bind(file_name)
        .bind(size as i64)
        .bind(now_millis())
        .execute(pool)
        .await.map(|r| r.rows_affected())
    })?;
    Ok(id)
}

/// Claims the attachment for one upload request for up to `seconds`; false when another
/// request holds it.
pub async fn claim_upload(db: &Db, id: &str, seconds: i64) -> anyhow::Result<bool> {
    let now = now_millis();
    let done = on_db!(db, |pool| {
        sqlx::query("UPDATE attachments SET busy_until = $1 WHERE id = $2 AND complete = FALSE AND (busy_until IS NULL OR busy_until < $3)")
            .bind(now + seconds * 1000)
            .bind(id)
            .bind(now)
            .execute(pool)
            .await.map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// Records how far an upload got and releases the claim.
pub async fn record_progress(db: &Db, id: &str, received: u64) -> anyhow::Result<()> {
    on_db!(db, |pool| {
        sqlx::query("UPDATE attachments SET received = $1, busy_until = NULL WHERE id = $2")
            .bind(received as i64)
            .bind(id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn complete_attachment(
    db: &Db,
    id: &str,
    content_type: &str,
    sha256: &str,
) -> anyhow::Result<()> {
    on_db!(db, |pool| {
        sqlx::query("UPDATE attachments SET complete = TRUE, content_type = $1, sha256 = $2, busy_until = NULL WHERE id = $3")
            .bind(content_type)
            .bind(sha256)
            .bind(id)
            .execute(pool)
            .await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn delete_attachment(db: &Db, id: &str) -> anyhow::Result<()> {
    on_db!(db, |pool| sqlx::query(
        "DELETE FROM attachments WHERE id = $1"
    )
    .bind(id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}
