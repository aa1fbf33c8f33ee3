//! The language of a request: `?lang=` first, then `Accept-Language`, then Kazakh.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri, header};
use portal_i18n::Lang;

pub fn request_lang(uri: &Uri, headers: &HeaderMap) -> Lang {
    let from_query = uri.query().and_then(|q| {
        q.split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == "lang")
            .and_then(|(_, v)| Lang::parse(v))
    });
    from_query
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or_default()
}

/// Extractor for handlers that produce text themselves (documents, e-mails).
pub struct RequestLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for RequestLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(RequestLang(request_lang(&parts.uri, &parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn lang(uri: &str, accept: Option<&str>) -> Lang {
        let mut headers = HeaderMap::new();
        if let Some(a) = accept {
            headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(a).unwrap());
        }
        request_lang(&uri.parse().unwrap(), &headers)
    }

    #[test]
    fn the_query_wins_then_the_header_then_kazakh() {
        assert_eq!(lang("/api/services?lang=en", Some("ru")), Lang::En);
        assert_eq!(lang("/api/services?q=x&lang=RU", None), Lang::Ru);
        assert_eq!(
            lang("/api/services?lang=de", Some("en-GB,en;q=0.9")),
            Lang::En
        );
        assert_eq!(lang("/api/services", Some("de")), Lang::Kk);
        assert_eq!(lang("/api/services", None), Lang::Kk);
    }
}
