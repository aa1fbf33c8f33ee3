//! The notification centre: messages to a user, newest first, read or unread; pushed live to
//! the user's open pages over Server-Sent Events, and sent by e-mail when they asked for it.

pub mod email;
pub mod live;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use portal_domain::api::ErrorBody;
use portal_domain::notifications::NotificationView;
use portal_domain::text::Text;
use portal_i18n::Msg;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::accounts::auth::Auth;
use crate::app::AppState;
use crate::db::{new_id, now_millis};
use crate::error::ApiError;
use crate::on_db;

pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_notifications))
        .routes(routes!(mark_read))
        .routes(routes!(mark_all_read))
        .routes(routes!(live::stream))
}

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    created_at: i64,
    title: String,
    body: String,
    link: Option<String>,
    read_at: Option<i64>,
}

/// A notification about to be stored: made before its transaction, announced after it.
pub struct Pending {
    id: String,
    user_id: String,
    created_at: i64,
    title: Text,
    body: Text,
    link: Option<String>,
}

impl Pending {
    pub fn new(user_id: &str, title: Text, body: Text, link: Option<String>) -> Pending {
        Pending {
            id: new_id(),
            user_id: user_id.to_string(),
            created_at: now_millis(),
            title,
            body,
            link,
        }
    }

    /// Stores it in the caller's transaction.
    pub async fn insert(&self, tx: &mut crate::db::Tx<'_>) -> anyhow::Result<()> {
        use crate::db::Arg;
        let title = serde_json::to_string(&self.title)?;
        let body = serde_json::to_string(&self.body)?;
        tx.execute(
            "INSERT INTO notifications (id, user_id, created_at, title, body, link) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Arg::Text(Some(&self.id)),
                Arg::Text(Some(&self.user_id)),
                Arg::Int(Some(self.created_at)),
                Arg::Text(Some(&title)),
                Arg::Text(Some(&body)),
                Arg::Text(self.link.as_deref()),
            ],
        )
        .await?;
        Ok(())
    }

    /// Once stored: pushes it to the user's open pages, and e-mails it when they chose e-mail
    /// and the portal has an SMTP relay. Returns its id.
    pub async fn announce(self, state: &AppState) -> anyhow::Result<String> {
        let view = NotificationView {
            id: self.id.clone(),
            created_at: self.created_at,
            title: self.title,
            body: self.body,
            link: self.link,
            read: false,
        };
        state.live.publish(&self.user_id, &view);
        if let Some(smtp) = &state.config.smtp {
            if let Some(user) = crate::accounts::users::by_id(&state.db, &self.user_id).await? {
                if let (true, Some(address)) = (user.notify_email, user.email.clone()) {
                    let message =
                        email::Message::notification(&state.config, &address, user.lang(), &view);
                    let smtp = smtp.clone();
                    // The relay may be slow; the change the user made is done, so they do not wait for it.
                    tokio::spawn(async move {
                        if let Err(e) = email::send(&smtp, &message).await {
                            tracing::warn!(error = %e, "cannot send a notification e-mail");
                        }
                    });
                }
            }
        }
        Ok(self.id)
    }
}

/// Records a notification for a user, pushes it to their open pages, and e-mails it when they
/// chose e-mail and the portal has an SMTP relay. Returns its id.
pub async fn deliver(
    state: &AppState,
    user_id: &str,
    title: &Text,
    body: &Text,
    link: Option<&str>,
) -> anyhow::Result<String> {
    let pending = Pending::new(
        user_id,
        title.clone(),
        body.clone(),
        link.map(str::to_string),
    );
    // Through the group-committing writer: on opening day every submission brings one.
    let pending = state
        .db
        .write_tx(
            Box::new(move |mut tx| {
                Box::pin(async move {
                    pending.insert(&mut tx).await?;
                    Ok((pending, true))
                })
            }),
            None,
        )
        .await?;
    pending.announce(state).await
}

/// The signed-in user's notifications, newest first (the latest 200).
#[utoipa::path(
    get,
    path = "/api/notifications",
    tag = "notifications",
    security(("session" = [])),
    responses((status = 200, body = Vec<NotificationView>), (status = 401, body = ErrorBody))
)]
async fn list_notifications(
    State(state): State<AppState>,
    auth: Auth,
) -> Result<Json<Vec<NotificationView>>, ApiError> {
    let rows: Vec<Row> = on_db!(&state.db, |pool| {
        sqlx::query_as(
            "SELECT id, created_at, title, body, link, read_at FROM notifications WHERE user_id = $1 ORDER BY created_at DESC, id LIMIT 200",
        )
        .bind(&auth.user.id)
        .fetch_all(pool)
        .await
    })?;
    let views = rows
        .into_iter()
        .map(|r| {
            Ok(NotificationView {
                title: serde_json::from_str(&r.title)?,
                body: serde_json::from_str(&r.body)?,
                id: r.id,
                created_at: r.created_at,
                link: r.link,
                read: r.read_at.is_some(),
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(Json(views))
}

/// Marks one of the user's notifications as read. Another user's notification is not found.
#[utoipa::path(
    post,
    path = "/api/notifications/{id}/read",
    tag = "notifications",
    security(("session" = [])),
    params(("id" = String, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody))
)]
async fn mark_read(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let updated = on_db!(&state.db, |pool| {
        sqlx::query("UPDATE notifications SET read_at = COALESCE(read_at, $1) WHERE id = $2 AND user_id = $3")
            .bind(now_millis())
            .bind(&id)
            .bind(&auth.user.id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    if updated == 0 {
        Err(ApiError::NotFound(Msg::ErrorNotFound))
    } else {
        Ok(StatusCode::NO_CONTENT)
    }
}

/// Marks all of the user's notifications as read.
#[utoipa::path(
    post,
    path = "/api/notifications/read",
    tag = "notifications",
    security(("session" = [])),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody))
)]
async fn mark_all_read(State(state): State<AppState>, auth: Auth) -> Result<StatusCode, ApiError> {
    on_db!(&state.db, |pool| {
        sqlx::query("UPDATE notifications SET read_at = $1 WHERE user_id = $2 AND read_at IS NULL")
            .bind(now_millis())
            .bind(&auth.user.id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(StatusCode::NO_CONTENT)
}
