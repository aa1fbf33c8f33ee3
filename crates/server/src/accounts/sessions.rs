//! Server-side sessions behind an `HttpOnly` cookie.
//!
//! The cookie holds a random 256-bit token; the database holds only its SHA-256, the user, a
//! CSRF token, and two deadlines: idle (extended by every request) and absolute (12 hours).

use axum::http::{HeaderMap, HeaderValue, header};
use portal_domain::accounts::SessionInfo;
use sha2::{Digest, Sha256};

use super::users::{self, UserRow};
use crate::catalogue::hex;
use crate::config::Config;
use crate::db::{Db, now_millis, random_hex};
use crate::on_db;

const ABSOLUTE_MILLIS: i64 = 12 * 60 * 60 * 1000;
/// A request within this long of the last one does not rewrite the deadline.
const TOUCH_EVERY_MILLIS: i64 = 15 * 1000;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SessionRow {
    pub token_hash: String,
    pub user_id: String,
    pub csrf_token: String,
    pub last_seen_at: i64,
    pub idle_expires_at: i64,
    pub absolute_expires_at: i64,
}

pub fn cookie_name(config: &Config) -> &'static str {
    // `__Host-` makes browsers refuse the cookie unless it is Secure, host-only, and Path=/.
    if config.tls() {
        "__Host-portal_session"
    } else {
        "portal_session"
    }
}

fn hash_token(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub fn set_cookie(config: &Config, token: &str) -> HeaderValue {
    let secure = if config.tls() { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}={token}; Path=/; HttpOnly; SameSite=Lax{secure}",
        cookie_name(config)
    ))
    .expect("hex is a header value")
}

pub fn clear_cookie(config: &Config) -> HeaderValue {
    let secure = if config.tls() { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax{secure}",
        cookie_name(config)
    ))
    .expect("ASCII")
}

/// The session token from the request's cookies, if any.
pub fn token_from(config: &Config, headers: &HeaderMap) -> Option<String> {
    let name = cookie_name(config);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// Starts a session for `user_id`; returns the token for the cookie.
pub async fn create(
    db: &Db,
    config: &Config,
    user_id: &str,
    ip: &str,
    user_agent: &str,
) -> anyhow::Result<(String, SessionRow)> {
    let token = random_hex(32);
    let now = now_millis();
    let row = SessionRow {
        token_hash: hash_token(&token),
        user_id: user_id.to_string(),
        csrf_token: random_hex(32),
        last_seen_at: now,
        idle_expires_at: now + idle_millis(config),
        absolute_expires_at: now + ABSOLUTE_MILLIS,
    };
    let agent: String = user_agent.chars().take(300).collect();
    on_db!(db, |pool| {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, idle_expires_at, absolute_expires_at, ip, user_agent)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&row.token_hash)
        .bind(&row.user_id)
        .bind(&row.csrf_token)
        .bind(now)
        .bind(now)
        .bind(row.idle_expires_at)
        .bind(row.absolute_expires_at)
        .bind(ip)
        .bind(&agent)
        .execute(pool)
        .await.map(|r| r.rows_affected())
    })?;
    Ok((token, row))
}

fn idle_millis(config: &Config) -> i64 {
    i64::from(config.session_idle_minutes) * 60 * 1000
}

pub enum Lookup {
    Active(SessionRow, UserRow),
    /// The token names a session that has ended (or never existed).
    Ended,
}

/// Finds the live session of a token and extends its idle deadline; removes it if it has ended.
pub async fn lookup(db: &Db, config: &Config, token: &str) -> anyhow::Result<Lookup> {
    let token_hash = hash_token(token);
    // One query for the session and its user: every signed-in request makes it.
    let sql = format!(
        "SELECT token_hash, user_id, csrf_token, last_seen_at, idle_expires_at, absolute_expires_at, {}
         FROM sessions JOIN users ON users.id = sessions.user_id WHERE token_hash = $1",
        users::COLUMNS
    );
    let row: Option<SessionOfUser> = db
        .read(&sql, &[crate::db::Arg::Text(Some(&token_hash))])
        .await?;
    let Some(SessionOfUser { mut session, user }) = row else {
        return Ok(Lookup::Ended);
    };
    let now = now_millis();
    if now >= session.idle_expires_at || now >= session.absolute_expires_at {
        delete(db, &session.token_hash).await?;
        return Ok(Lookup::Ended);
    }
    if now - session.last_seen_at >= TOUCH_EVERY_MILLIS {
        // The request does not wait for this commit (on opening day it would wait for a group
        // commit before its own): should it be lost, the session just ends a little sooner.
        let touched = touch(config, &mut session);
        let db = db.clone();
        tokio::spawn(async move {
            if let Err(e) = store_touch(db, touched).await {
                tracing::warn!(error = %e, "cannot extend a session");
            }
        });
    }
    Ok(Lookup::Active(session, user))
}

#[derive(sqlx::FromRow)]
struct SessionOfUser {
    #[sqlx(flatten)]
    session: SessionRow,
    #[sqlx(flatten)]
    user: UserRow,
}

impl crate::db::TxRow for SessionOfUser {
    fn from_direct(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(SessionOfUser {
            session: SessionRow {
                token_hash: row.get("token_hash")?,
                user_id: row.get("user_id")?,
                csrf_token: row.get("csrf_token")?,
                last_seen_at: row.get("last_seen_at")?,
                idle_expires_at: row.get("idle_expires_at")?,
                absolute_expires_at: row.get("absolute_expires_at")?,
            },
            user: UserRow::from_direct(row)?,
        })
    }
}

/// Whether the session is still open, without counting this as activity (long-lived streams
/// ask this, so an open page alone never keeps a session alive).
pub async fn still_active(db: &Db, token_hash: &str) -> anyhow::Result<bool> {
    let row: Option<(i64, i64)> = on_db!(db, |pool| {
        sqlx::query_as(
            "SELECT idle_expires_at, absolute_expires_at FROM sessions WHERE token_hash = $1",
        )
        .bind(token_hash)
        .fetch_optional(pool)
        .await
    })?;
    let now = now_millis();
    Ok(row.is_some_and(|(idle, absolute)| now < idle && now < absolute))
}

/// Extends the idle deadline now, whatever the last request was.
pub async fn extend(db: &Db, config: &Config, session: &mut SessionRow) -> anyhow::Result<()> {
    store_touch(db.clone(), touch(config, session)).await
}

/// Moves `session`'s idle deadline on from now: what to store.
fn touch(config: &Config, session: &mut SessionRow) -> (i64, i64, String) {
    let now = now_millis();
    session.last_seen_at = now;
    session.idle_expires_at = (now + idle_millis(config)).min(session.absolute_expires_at);
    (
        session.last_seen_at,
        session.idle_expires_at,
        session.token_hash.clone(),
    )
}

async fn store_touch(db: Db, (seen, idle, token_hash): (i64, i64, String)) -> anyhow::Result<()> {
    // Grouped with other writes: every signed-in request may bring one.
    db.write_tx(
        Box::new(move |mut tx| {
            Box::pin(async move {
                use crate::db::Arg;
                tx.execute(
                    "UPDATE sessions SET last_seen_at = $1, idle_expires_at = $2 WHERE token_hash = $3",
                    &[
                        Arg::Int(Some(seen)),
                        Arg::Int(Some(idle)),
                        Arg::Text(Some(&token_hash)),
                    ],
                )
                .await?;
                Ok(((), true))
            })
        }),
        None,
    )
    .await
}

pub async fn delete(db: &Db, token_hash: &str) -> anyhow::Result<()> {
    on_db!(db, |pool| sqlx::query(
        "DELETE FROM sessions WHERE token_hash = $1"
    )
    .bind(token_hash)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Ends the session a token names, if any (used when a new session replaces it).
pub async fn delete_by_token(db: &Db, token: &str) -> anyhow::Result<()> {
    delete(db, &hash_token(token)).await
}

pub async fn delete_all_for_user(db: &Db, user_id: &str) -> anyhow::Result<u64> {
    let done = on_db!(db, |pool| sqlx::query(
        "DELETE FROM sessions WHERE user_id = $1"
    )
    .bind(user_id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done)
}

pub async fn prune(db: &Db) -> anyhow::Result<u64> {
    let now = now_millis();
    let done = on_db!(db, |pool| {
        sqlx::query("DELETE FROM sessions WHERE idle_expires_at <= $1 OR absolute_expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done)
}

pub async fn info(
    db: &Db,
    config: &Config,
    session: &SessionRow,
    user: &UserRow,
) -> anyhow::Result<SessionInfo> {
    let left = ((session.idle_expires_at - now_millis()).max(0) / 1000) as u32;
    Ok(SessionInfo {
        user: users::view(db, user).await?,
        csrf_token: session.csrf_token.clone(),
        idle_timeout_seconds: config.session_idle_minutes * 60,
        expires_in_seconds: left,
    })
}
