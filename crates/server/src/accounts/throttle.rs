//! Limits on attempts, counted in the database so they hold across restarts and instances.

use crate::db::{Db, now_millis};
use crate::on_db;

pub const WINDOW_MILLIS: i64 = 60 * 60 * 1000;

#[derive(Clone, Copy, Debug)]
pub enum Limit {
    /// Failed sign-ins per IIN: at most 10 an hour.
    FailedLoginsPerIin,
    /// Failed sign-ins per client address: at most 50 an hour (many IINs from one place).
    FailedLoginsPerAddress,
    /// Registrations per client address (configurable).
    RegistrationsPerAddress,
    /// EDS sign-in challenges per client address: at most 300 an hour (an office behind one address).
    LoginChallengesPerAddress,
}

impl Limit {
    fn kind(self) -> &'static str {
        match self {
            Limit::FailedLoginsPerIin => "login_failure_iin",
            Limit::FailedLoginsPerAddress => "login_failure_address",
            Limit::RegistrationsPerAddress => "registration_address",
            Limit::LoginChallengesPerAddress => "login_challenge_address",
        }
    }

    pub fn default_max(self) -> i64 {
        match self {
            Limit::FailedLoginsPerIin => 10,
            Limit::FailedLoginsPerAddress => 50,
            Limit::RegistrationsPerAddress => 20,
            Limit::LoginChallengesPerAddress => 300,
        }
    }
}

/// How many events of `limit` for `key` in the last hour, and when the oldest of them leaves
/// the window (seconds from now).
pub async fn recent(db: &Db, limit: Limit, key: &str) -> anyhow::Result<(i64, u32)> {
    let since = now_millis() - WINDOW_MILLIS;
    let (count, oldest): (i64, Option<i64>) = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT COUNT(*), MIN(at) FROM rate_events WHERE kind = $1 AND key = $2 AND at > $3",
        )
        .bind(limit.kind())
        .bind(key)
        .bind(since)
        .fetch_one(pool)
        .await
    })?;
    let retry_after = oldest
        .map(|at| ((at + WINDOW_MILLIS - now_millis()).max(0) / 1000 + 1) as u32)
        .unwrap_or(0);
    Ok((count, retry_after))
}

/// Refuses (429, with how long to wait) when `key` has reached `max` events of `limit`.
pub async fn refuse_over(
    db: &Db,
    limit: Limit,
    key: &str,
    max: i64,
    msg: portal_i18n::Msg,
) -> Result<(), crate::error::ApiError> {
    let (count, retry_after_seconds) = recent(db, limit, key).await?;
    if count >= max {
        Err(crate::error::ApiError::TooManyRequests {
            msg,
            retry_after_seconds,
        })
    } else {
        Ok(())
    }
}

pub async fn record(db: &Db, limit: Limit, key: &str) -> anyhow::Result<()> {
    on_db!(db, |pool| {
        sqlx::query("INSERT INTO rate_events (kind, key, at) VALUES ($1, $2, $3)")
            .bind(limit.kind())
            .bind(key)
            .bind(now_millis())
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub async fn clear(db: &Db, limit: Limit, key: &str) -> anyhow::Result<()> {
    on_db!(db, |pool| sqlx::query(
        "DELETE FROM rate_events WHERE kind = $1 AND key = $2"
    )
    .bind(limit.kind())
    .bind(key)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Forgets events older than the window.
pub async fn prune(db: &Db) -> anyhow::Result<u64> {
    let before = now_millis() - WINDOW_MILLIS;
    let done = on_db!(db, |pool| sqlx::query(
        "DELETE FROM rate_events WHERE at <= $1"
    )
    .bind(before)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done)
}
