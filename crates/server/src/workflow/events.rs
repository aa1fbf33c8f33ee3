//! The lifecycle's history: one append-only row per change of status, each hashed over the
//! one before it. The database refuses to update or delete them (triggers); the chain makes
//! an edit made around the database (a restored backup, a hand-edited file) detectable.

use portal_domain::application::Status;
use portal_domain::date::Date;
use portal_domain::workflow::{Action, Actor, IdentityShown};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::db::{Arg, Db, Tx};
use crate::on_db;

/// What a move says besides who made it and when. Stored as JSON; only what applies is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Refusal grounds: ids from the service definition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grounds: Vec<String>,
    /// Missing or invalid documents: ids from the service definition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visited_on: Option<Date>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub findings: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<String>,
    /// The pickup slot's start, Unix milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pickup_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shown: Option<IdentityShown>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recipient: Option<String>,
    /// The number of the signed document the move issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// Documents attached to the move, with their hashes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<portal_domain::workflow::CaseFile>,
}

/// A move about to be recorded.
pub struct NewEvent<'a> {
    pub application_id: &'a str,
    pub at: i64,
    pub actor_id: Option<&'a str>,
    pub actor: Actor,
    pub action: Action,
    pub from: Status,
    pub to: Status,
    pub details: &'a EventDetails,
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct EventRow {
    pub application_id: String,
    pub seq: i64,
    pub at: i64,
    pub actor_id: Option<String>,
    pub actor_role: String,
    pub action: String,
    pub from_status: String,
    pub to_status: String,
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl EventRow {
    pub fn details(&self) -> EventDetails {
        serde_json::from_str(&self.details).unwrap_or_default()
    }

    fn computed_hash(&self) -> String {
        hash_of(
            &self.prev_hash,
            &self.application_id,
            self.seq,
            self.at,
            self.actor_id.as_deref(),
            &self.actor_role,
            &self.action,
            &self.from_status,
            &self.to_status,
            &self.details,
        )
    }
}

/// The first event's `prev_hash`.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// SHA-256 over every field, each length-prefixed so no two different events hash alike.
#[allow(clippy::too_many_arguments)]
fn hash_of(
    prev: &str,
    application_id: &str,
    seq: i64,
    at: i64,
    actor_id: Option<&str>,
    actor_role: &str,
    action: &str,
    from: &str,
    to: &str,
    details: &str,
) -> String {
    let mut h = Sha256::new();
    let seq = seq.to_string();
    let at = at.to_string();
    for part in [
        prev,
        application_id,
        &seq,
        &at,
        actor_id.unwrap_or("-"),
        actor_role,
        action,
        from,
        to,
        details,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Appends `event` after the application's last one, inside the caller's transaction (the
/// same one that changes the status, so the two never disagree).
pub async fn append(conn: &mut crate::db::Conn<'_>, event: &NewEvent<'_>) -> anyhow::Result<()> {
    let last: Option<(i64, String)> = crate::on_conn!(conn, |c| {
        sqlx::query_as(
        "SELECT seq, hash FROM application_events WHERE application_id = $1 ORDER BY seq DESC LIMIT 1"
    )
    .bind(event.application_id)
    .fetch_optional(c)
    .await
    })?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (seq + 1, hash),
        None => (1, GENESIS.to_string()),
    };
    insert(&mut Tx::Sqlx(conn.reborrow()), event, seq, &prev).await
}

/// Records an application's first event (its submission: drafts have no history) without
/// reading the chain first. Should there be an event already, the key refuses the insert.
pub async fn append_first(tx: &mut Tx<'_>, event: &NewEvent<'_>) -> anyhow::Result<()> {
    insert(tx, event, 1, GENESIS).await
}

async fn insert(tx: &mut Tx<'_>, event: &NewEvent<'_>, seq: i64, prev: &str) -> anyhow::Result<()> {
    let details = serde_json::to_string(event.details)?;
    let hash = hash_of(
        prev,
        event.application_id,
        seq,
        event.at,
        event.actor_id,
        event.actor.code(),
        event.action.code(),
        event.from.code(),
        event.to.code(),
        &details,
    );
    fn text(v: &str) -> Arg<'_> {
        Arg::Text(Some(v))
    }
    tx.execute(
        "INSERT INTO application_events (application_id, seq, at, actor_id, actor_role, action, from_status, to_status, details, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        &[
            text(event.application_id),
            Arg::Int(Some(seq)),
            Arg::Int(Some(event.at)),
            Arg::Text(event.actor_id),
            text(event.actor.code()),
            text(event.action.code()),
            text(event.from.code()),
            text(event.to.code()),
            text(&details),
            text(prev),
            text(&hash),
        ],
    )
    .await?;
    Ok(())
}

pub async fn list(db: &Db, application_id: &str) -> anyhow::Result<Vec<EventRow>> {
    Ok(on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT application_id, seq, at, actor_id, actor_role, action, from_status, to_status, details, prev_hash, hash
             FROM application_events WHERE application_id = $1 ORDER BY seq",
        )
        .bind(application_id)
        .fetch_all(pool)
        .await
    })?)
}

/// Whether every event hashes to what it says and links to the one before it, numbered
/// without gaps, and the last one leads to the application's present status.
pub fn intact(events: &[EventRow], status: Status) -> bool {
    let mut prev = GENESIS.to_string();
    for (i, e) in events.iter().enumerate() {
        if e.seq != i as i64 + 1 || e.prev_hash != prev || e.computed_hash() != e.hash {
            return false;
        }
        if i > 0 && events[i - 1].to_status != e.from_status {
            return false;
        }
        prev = e.hash.clone();
    }
    events.last().is_none_or(|e| e.to_status == status.code())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: usize) -> Vec<EventRow> {
        let states = [
            "draft",
            "submitted",
            "registered",
            "in_review",
            "result_ready",
            "issued",
        ];
        let mut prev = GENESIS.to_string();
        (0..n)
            .map(|i| {
                let mut e = EventRow {
                    application_id: "a1".into(),
                    seq: i as i64 + 1,
                    at: 1000 + i as i64,
                    actor_id: Some("u".into()),
                    actor_role: "officer".into(),
                    action: "register".into(),
                    from_status: states[i].into(),
                    to_status: states[i + 1].into(),
                    details: "{}".into(),
                    prev_hash: prev.clone(),
                    hash: String::new(),
                };
                e.hash = e.computed_hash();
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn an_untouched_chain_is_intact() {
        assert!(intact(&chain(5), Status::Issued));
        assert!(
            intact(&[], Status::Submitted),
            "applications from before the history was kept"
        );
    }

    #[test]
    fn any_edit_breaks_the_chain() {
        let mut edited = chain(5);
        edited[2].details = r#"{"reason":"changed"}"#.into();
        assert!(!intact(&edited, Status::Issued), "a changed field");

        let mut rehashed = chain(5);
        rehashed[2].at += 1;
        rehashed[2].hash = rehashed[2].computed_hash();
        assert!(
            !intact(&rehashed, Status::Issued),
            "a re-hashed event no longer links to the next"
        );

        let mut removed = chain(5);
        removed.remove(4);
        assert!(
            !intact(&removed, Status::Issued),
            "the last event removed: the status does not follow"
        );
        let mut gap = chain(5);
        gap.remove(2);
        assert!(
            !intact(&gap, Status::Issued),
            "an event removed from the middle"
        );
    }
}
