//! Live notifications: every new notification is published to the open pages of its user over
//! Server-Sent Events, so the cabinet changes without a reload.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::Stream;
use portal_domain::api::ErrorBody;
use portal_domain::notifications::NotificationView;
use tokio::sync::broadcast;

use crate::accounts::auth::Auth;
use crate::app::AppState;

/// How often an open stream checks that its session has not ended.
const SESSION_CHECK: Duration = Duration::from_secs(30);

/// The in-process channel of new notifications. One instance; several instances behind a load
/// balancer need a shared channel (PostgreSQL LISTEN/NOTIFY) in front of this.
pub struct Live {
    sender: broadcast::Sender<Arc<(String, NotificationView)>>,
}

impl Default for Live {
    fn default() -> Live {
        // Room for bursts; a page that falls this far behind is told to reload the list.
        Live {
            sender: broadcast::channel(1024).0,
        }
    }
}

impl Live {
    pub fn publish(&self, user_id: &str, view: &NotificationView) {
        // No open page is not an error: the notification is in the database.
        let _ = self
            .sender
            .send(Arc::new((user_id.to_string(), view.clone())));
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
                        received = receiver.recv() => match received {
                            Ok(item) if item.0 == user_id => {
                                let event = Event::default().event("notification").json_data(&item.1).ok()?;
                                return Some((Ok(event), (receiver, check)));
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
