//! The HTTP client: typed calls to `/api`, and one error type the pages show.

use gloo_net::http::Request;
use portal_domain::api::ErrorBody;
use portal_domain::catalogue::ServiceSummary;
use portal_domain::service::ServiceDefinition;
use portal_i18n::{Lang, Msg};
use serde::de::DeserializeOwned;

#[derive(Clone, Debug, PartialEq)]
pub enum ApiFailure {
    /// The request did not reach the server, or its answer was unreadable.
    Network,
    /// The server answered with an error.
    Server { status: u16, body: Option<ErrorBody> },
}

impl ApiFailure {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ApiFailure::Server { status: 404, .. })
    }

    /// The message in `lang`: from the error's code when the client knows it (so it follows a
    /// language switch), else the server's text.
    pub fn message(&self, lang: Lang) -> String {
        match self {
            ApiFailure::Network => portal_i18n::t(lang, Msg::ErrorNetwork).to_string(),
            ApiFailure::Server { body: Some(body), .. } => match Msg::from_key(&body.code) {
                Some(msg) => portal_i18n::t(lang, msg).to_string(),
                None => body.message.clone(),
            },
            ApiFailure::Server { .. } => portal_i18n::t(lang, Msg::ErrorInternal).to_string(),
        }
    }
}

async fn get_json<T: DeserializeOwned>(path: &str) -> Result<T, ApiFailure> {
    let response = Request::get(path).send().await.map_err(|_| ApiFailure::Network)?;
    if response.ok() {
        response.json::<T>().await.map_err(|_| ApiFailure::Network)
    } else {
        let status = response.status();
        let body = response.json::<ErrorBody>().await.ok();
        Err(ApiFailure::Server { status, body })
    }
}

pub async fn services() -> Result<Vec<ServiceSummary>, ApiFailure> {
    get_json("/api/services").await
}

pub async fn service(id: &str) -> Result<ServiceDefinition, ApiFailure> {
    // Ids are slugs; anything else cannot name a service and must not reach the path unescaped.
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Err(ApiFailure::Server { status: 404, body: None });
    }
    get_json(&format!("/api/services/{id}")).await
}
