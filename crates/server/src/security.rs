//! Security headers on every response, and the cross-site check on every state-changing request.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use portal_i18n::Msg;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

/// How often the built app's `index.html` files are checked for a new build.
const RECHECK: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub struct SecurityHeaders {
    index_files: Vec<PathBuf>,
    hsts: Option<HeaderValue>,
    current: RwLock<Policy>,
}

#[derive(Debug)]
struct Policy {
    csp: HeaderValue,
    built: Vec<Option<SystemTime>>,
    checked: Instant,
}

impl SecurityHeaders {
    /// The policy allows scripts only from this origin, WebAssembly compilation, and the inline
    /// loader Trunk writes into each `index.html` (admitted by its hash, so nothing else inline
    /// can run). The hashes follow a new build deployed while the server runs. `tls` adds HSTS.
    pub fn new(index_files: &[&Path], tls: bool) -> SecurityHeaders {
        let index_files: Vec<PathBuf> = index_files.iter().map(|p| p.to_path_buf()).collect();
        let current = RwLock::new(policy(&index_files));
        SecurityHeaders {
            index_files,
            hsts: tls.then(|| HeaderValue::from_static("max-age=31536000; includeSubDomains")),
            current,
        }
    }

    fn csp(&self) -> HeaderValue {
        {
            let current = self.current.read().expect("not poisoned");
            if current.checked.elapsed() < RECHECK {
                return current.csp.clone();
            }
        }
        let mut current = self.current.write().expect("not poisoned");
        if current.checked.elapsed() >= RECHECK {
            if modified(&self.index_files) != current.built {
                *current = policy(&self.index_files);
            } else {
                current.checked = Instant::now();
            }
        }
        current.csp.clone()
    }
}

fn modified(files: &[PathBuf]) -> Vec<Option<SystemTime>> {
    files
        .iter()
        .map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
        .collect()
}

fn policy(index_files: &[PathBuf]) -> Policy {
    let built = modified(index_files);
    let mut hashes: Vec<String> = index_files
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|html| inline_scripts(&html))
        .map(|script| {
            format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script.as_bytes()))
            )
        })
        .collect();
    hashes.sort();
    hashes.dedup();
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{}{}; style-src 'self'; img-src 'self' data: blob:; \
         font-src 'self'; connect-src 'self' wss://127.0.0.1:13579; worker-src 'self' blob:; manifest-src 'self'; object-src 'none'; \
         base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
        if hashes.is_empty() { "" } else { " " },
        hashes.join(" ")
    );
    Policy {
        csp: HeaderValue::from_str(&csp).expect("the policy is ASCII"),
        built,
        checked: Instant::now(),
    }
}

/// The contents of `<script>` elements without `src`, exactly as the browser hashes them.
pub fn inline_scripts(html: &str) -> Vec<String> {
    let mut scripts = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        let after = &rest[start..];
        let Some(tag_end) = after.find('>') else {
            break;
        };
        let tag = &after[..tag_end];
        let body = &after[tag_end + 1..];
        let Some(close) = body.find("</script>") else {
            break;
        };
        if !tag.contains(" src=") && !tag.contains(" src ") {
            scripts.push(body[..close].to_string());
        }
        rest = &body[close..];
    }
    scripts
}

pub async fn add_headers(
    State(headers): State<Arc<SecurityHeaders>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, headers.csp());
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("strict-origin-when-cross-origin"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("geolocation=(), microphone=(), payment=(), usb=()"),
    );
    if let Some(hsts) = &headers.hsts {
        h.insert(header::STRICT_TRANSPORT_SECURITY, hsts.clone());
    }
    response
}

/// Refuses state-changing requests sent by another site: the browser's `Sec-Fetch-Site`
/// header, or failing that `Origin`, must say the request comes from this origin. Together
/// with the per-session token checked on signed-in requests, this stops cross-site forgery —
/// including forged sign-ins, which have no session yet.
pub async fn same_origin_only(request: Request, next: Next) -> Response {
    if is_safe(request.method()) || from_same_origin(request.headers()) {
        next.run(request).await
    } else {
        ApiError::Forbidden(Msg::ErrorCsrf).into_response()
    }
}

pub fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn from_same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        (Some(_), None) => false,
        // Neither header: not a browser request made by another site (curl, server-to-server).
        (None, _) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_inline_scripts_but_not_external_ones() {
        let html = r#"<head><script type=module>import init from '/a.js';await init();</script><script src="/x.js"></script></head>"#;
        assert_eq!(
            inline_scripts(html),
            vec!["import init from '/a.js';await init();"]
        );
    }

    #[test]
    fn the_policy_admits_the_loader_by_hash_and_nothing_inline_else() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index.html");
        std::fs::write(&index, "<script type=module>boot()</script>").unwrap();
        let h = SecurityHeaders::new(&[&index], false);
        let csp = h.csp();
        let csp = csp.to_str().unwrap();
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"boot()"));
        assert!(csp.contains(&format!("'sha256-{expected}'")), "{csp}");
        assert!(csp.contains("'wasm-unsafe-eval'"));
        assert!(!csp.contains("unsafe-inline") && !csp.contains("'unsafe-eval'"));
        assert!(csp.contains("frame-ancestors 'none'"));
        assert!(h.hsts.is_none());
        assert!(SecurityHeaders::new(&[], true).hsts.is_some());
    }

    #[test]
    fn a_new_build_gets_a_new_policy_without_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let index = dir.path().join("index.html");
        std::fs::write(&index, "<script type=module>old()</script>").unwrap();
        let h = SecurityHeaders::new(&[&index], false);
        let before = h.csp();
        std::thread::sleep(Duration::from_millis(20));
        std::fs::write(&index, "<script type=module>new()</script>").unwrap();
        h.current.write().unwrap().checked -= RECHECK;
        let after = h.csp();
        assert_ne!(before, after);
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"new()"));
        assert!(after.to_str().unwrap().contains(&expected));
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn cross_site_requests_are_recognised() {
        assert!(from_same_origin(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(!from_same_origin(&headers(&[(
            "sec-fetch-site",
            "cross-site"
        )])));
        assert!(!from_same_origin(&headers(&[(
            "sec-fetch-site",
            "same-site"
        )])));
        assert!(from_same_origin(&headers(&[
            ("origin", "http://portal.kz"),
            ("host", "portal.kz")
        ])));
        assert!(!from_same_origin(&headers(&[
            ("origin", "https://evil.example"),
            ("host", "portal.kz")
        ])));
        assert!(from_same_origin(&headers(&[])));
    }
}
