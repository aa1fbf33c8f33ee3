//! Types of the HTTP API that are not owned by a feature module: health and errors.

use serde::{Deserialize, Serialize};

/// `GET /api/health`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Health {
    /// `ok` when the server can reach its database.
    pub status: String,
    pub version: String,
    /// How many service definitions are loaded.
    pub services: usize,
    /// The portal runs with demo data (the UI says so).
    pub demo: bool,
}

/// The body of every error response. `code` is a message key of the locale files, so a client
/// can show the message in any language; `message` is already in the request's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
    /// Problems with particular fields, in the order the form shows them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// With 429: how long to wait before trying again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u32>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FieldError {
    /// The field's name as the request spells it.
    pub field: String,
    pub code: String,
    pub message: String,
    /// The values the message mentions (`{max}` and the like), so a client can show the
    /// message in another language.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub args: Vec<(String, String)>,
    /// The message in all three languages, when the service definition wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<crate::text::Text>,
}
