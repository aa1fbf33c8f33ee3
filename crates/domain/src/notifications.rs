//! Messages to a user in the notification centre.

use serde::{Deserialize, Serialize};

use crate::text::Text;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NotificationView {
    pub id: String,
    /// Unix time, milliseconds.
    pub created_at: i64,
    pub title: Text,
    pub body: Text,
    /// A page of the portal the notification is about.
    pub link: Option<String>,
    pub read: bool,
}
