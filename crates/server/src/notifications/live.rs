//! Live notifications: every new notification is published to the open pages of its user over
//! Server-Sent Events, so the cabinet changes without a reload. On PostgreSQL the notification
//! goes through the database (`NOTIFY`), and every instance behind the load balancer hands it
//! to the streams it holds.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use portal_domain::api::ErrorBody;
use portal_domain::notifications::NotificationView;
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, mpsc};

use crate::accounts::auth::Auth;
use crate::app::AppState;
use crate::db::Db;

/// How often an open stream checks that its session has not ended.
const SESSION_CHECK: Duration = Duration::from_secs(30);

/// The PostgreSQL channel the instances share.
const CHANNEL: &str = "portal_live";

/// PostgreSQL's limit on a `NOTIFY` payload is 8,000 bytes; a larger notification is announced
/// as "reload the list" instead.
const MAX_PAYLOAD: usize = 7_900;

/// What the open streams of this instance are told.
#[derive(Debug, Serialize, Deserialize)]
enum Item {
    /// A new notification of a user.
    Notification(String, NotificationView),
    /// Some notifications of a user (or of everyone, when `None`) may have been missed: their
    /// pages reload the list.
    Resync(Option<String>),
}

/// The channel of new notifications to this instance's open streams, fed directly (SQLite, one
/// instance) or from the database's `NOTIFY` (PostgreSQL, any number of instances).
pub struct Live {
    sender: broadcast::Sender<Arc<Item>>,
    relay: Option<mpsc::UnboundedSender<String>>,
}

impl Live {
    /// On PostgreSQL, also starts listening for the notifications every instance publishes.
    pub fn new(db: &Db) -> Live {
        // Room for bursts; a page that falls this far behind is told to reload the list.
        let sender = broadcast::channel(1024).0;
        let relay = match db {
            Db::Sqlite(..) => None,
            Db::Postgres(pool, _) => {
                tokio::spawn(listen(pool.clone(), sender.clone()));
                let (relay, payloads) = mpsc::unbounded_channel();
                tokio::spawn(announce(pool.clone(), payloads));
                Some(relay)
            }
        };
        Live { sender, relay }
    }

    pub fn publish(&self, user_id: &str, view: &NotificationView) {
        let item = Item::Notification(user_id.to_string(), view.clone());
        let Some(relay) = &self.relay else {
            // No open page is not an error: the notification is in the database.
            let _ = self.sender.send(Arc::new(item));
            return;
        };
        let mut payload = serde_json::to_string(&item).unwrap_or_default();
        if payload.len() > MAX_PAYLOAD {
            payload =
                serde_json::to_string(&Item::Resync(Some(user_id.to_string()))).unwrap_or_default();
        }
        // The change that made the notification is committed; its announcement does not hold
        // up the answer.
        let _ = relay.send(payload);
    }
}

/// Most notifications announced in one statement.
const ANNOUNCE_BATCH: usize = 500;

/// Announces this instance's notifications through PostgreSQL in the order they were made:
/// whatever has queued up goes in one statement (one transaction, whose notifications
/// PostgreSQL delivers in order), so an opening-day storm costs one round trip per batch, not
/// one per notification.
async fn announce(pool: PgPool, mut payloads: mpsc::UnboundedReceiver<String>) {
    let mut batch = Vec::with_capacity(ANNOUNCE_BATCH);
    while payloads.recv_many(&mut batch, ANNOUNCE_BATCH).await > 0 {
        let sent = sqlx::query("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload")
            .bind(CHANNEL)
            .bind(&batch)
            .execute(&pool)
            .await;
        if let Err(e) = sent {
            tracing::warn!(error = %e, count = batch.len(), "cannot announce notifications to the instances");
        }
        batch.clear();
    }
}

/// Hands every notification announced through PostgreSQL to this instance's streams. When the
/// connection drops, notifications may be missed meanwhile: every page is told to reload.
async fn listen(pool: PgPool, sender: broadcast::Sender<Arc<Item>>) {
    while !pool.is_closed() {
        let Err(e) = relay(&pool, &sender).await;
        if !pool.is_closed() {
            tracing::warn!(error = %e, "live notifications: listening again in a second");
            let _ = sender.send(Arc::new(Item::Resync(None)));
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn relay(
    pool: &PgPool,
    sender: &broadcast::Sender<Arc<Item>>,
) -> Result<Infallible, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.listen(CHANNEL).await?;
    loop {
        let item = match listener.try_recv().await? {
            Some(n) => match serde_json::from_str::<Item>(n.payload()) {
                Ok(item) => item,
                Err(e) => {
                    tracing::warn!(error = %e, "an unreadable live notification");
                    continue;
                }
            },
            // Reconnected: what was announced meanwhile is lost.
            None => Item::Resync(None),
        };
        let _ = sender.send(Arc::new(item));
    }
}

/// The signed-in user's new notifications as they happen: `notification` events with a
/// NotificationView as JSON, `resync` when some were missed (reload the list). Ends when the
/// session does.
#[utoipa::path(
    get,
    path = "/api/notifications/stream",
    tag = "notifications",
    security(("session" = [])),
    responses(
        (status = 200, description = "An event stream of `notification` events (NotificationView JSON)", content_type = "text/event-stream"),
        (status = 401, body = ErrorBody),
    )
)]
pub async fn stream(
    State(state): State<AppState>,
    auth: Auth,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let receiver = state.live.sender.subscribe();
    let user_id = auth.user.id.clone();
    let token_hash = auth.session.token_hash.clone();
    let mut check = tokio::time::interval(SESSION_CHECK);
    check.reset();
    let events = futures_util::stream::unfold(
        (receiver, check),
        move |(mut receiver, mut check)| {
            let (state, user_id, token_hash) = (state.clone(), user_id.clone(), token_hash.clone());
            async move {
                loop {
                    tokio::select! {
                        received = receiver.recv() => match received.as_deref() {
                            Ok(Item::Notification(user, view)) if *user == user_id => {
                                let event = Event::default().event("notification").json_data(view).ok()?;
                                return Some((Ok(event), (receiver, check)));
                            }
                            Ok(Item::Resync(user)) if user.as_ref().is_none_or(|u| *u == user_id) => {
                                return Some((Ok(Event::default().event("resync").data("missed")), (receiver, check)));
                            }
                            Ok(_) => continue,
                            Err(broadcast::error::RecvError::Lagged(_)) => {
                                return Some((Ok(Event::default().event("resync").data("missed")), (receiver, check)));
                            }
                            Err(broadcast::error::RecvError::Closed) => return None,
                        },
                        _ = check.tick() => {
                            if !crate::accounts::sessions::still_active(&state.db, &token_hash).await.unwrap_or(false) {
                                return None;
                            }
                        }
                    }
                }
            }
        },
    );
    Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(20)))
}
