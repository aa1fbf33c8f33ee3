//! Revocation by CRL: fetched over HTTP from the certificate's distribution point (or a
//! configured mirror), its signature checked against the issuing CA, cached until its
//! `nextUpdate` and refreshed before. If no valid CRL can be had, the status is unknown.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use der::{Decode, Encode};
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use x509_cert::Certificate;
use x509_cert::crl::CertificateList;
use x509_cert::ext::pkix::CrlDistributionPoints;
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};

use super::verify::signature_by;

const MAX_CRL_BYTES: usize = 20 << 20;
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Fetch again after this long even when the CRL says it is good for longer.
const REFRESH_AFTER_SECONDS: i64 = 10 * 60;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RevocationStatus {
    Good,
    Revoked { at: i64 },
}

#[derive(Debug, thiserror::Error)]
pub enum CrlError {
    #[error("the certificate names no CRL and none is configured")]
    NoDistributionPoint,
    #[error("cannot fetch {0}: {1}")]
    Fetch(String, String),
    #[error("the CRL at {0} is not a CRL of the issuing CA, or not current")]
    Invalid(String),
}

struct Cached {
    revoked: HashMap<Vec<u8>, i64>,
    number: Option<String>,
    this_update: i64,
    next_update: i64,
    fetched_at: i64,
}

/// Where CRLs come from, and the ones already fetched (per issuing CA).
pub struct CrlSource {
    /// Fetch every CRL from here instead of the certificates' distribution points.
    mirror: Option<String>,
    /// Where the portal's own CA's CRL is: (the CA's name, DER; the address).
    own: std::sync::OnceLock<(Vec<u8>, String)>,
    client: Client<HttpConnector, Empty<Bytes>>,
    cache: Mutex<HashMap<Vec<u8>, Cached>>,
}

impl CrlSource {
    pub fn new(mirror: Option<String>) -> CrlSource {
        CrlSource {
            mirror,
            own: std::sync::OnceLock::new(),
            client: Client::builder(TokioExecutor::new()).build_http(),
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// Fetches the CRL of the CA named `issuer` from `url` (the portal's own CA, served by the
    /// portal at the address it listens on) instead of the address in its certificates.
    pub fn publish_own(&self, issuer: &Certificate, url: &str) {
        if let Ok(name) = issuer.tbs_certificate.subject.to_der() {
            let _ = self.own.set((name, url.to_string()));
        }
    }

    pub async fn status(
        &self,
        certificate: &Certificate,
        issuer: &Certificate,
    ) -> Result<RevocationStatus, CrlError> {
        let key = issuer.tbs_certificate.subject.to_der().unwrap_or_default();
        let now = super::pki::now_seconds();
        let fresh = {
            let cache = self.cache.lock().expect("not poisoned");
            cache
                .get(&key)
                .is_some_and(|c| now < c.next_update && now - c.fetched_at < REFRESH_AFTER_SECONDS)
        };
        if !fresh {
            match self.fetch(certificate, issuer, now).await {
                Ok(cached) => {
                    self.cache
                        .lock()
                        .expect("not poisoned")
                        .insert(key.clone(), cached);
                }
                Err(e) => {
                    tracing::warn!("revocation check: {e}");
                    // A CRL fetched earlier stays usable until its own nextUpdate.
                    let usable = self
                        .cache
                        .lock()
                        .expect("not poisoned")
                        .get(&key)
                        .is_some_and(|c| now < c.next_update);
                    if !usable {
                        return Err(e);
                    }
                }
            }
        }
        let cache = self.cache.lock().expect("not poisoned");
        let cached = cache.get(&key).expect("fetched above");
        Ok(
            match cached
                .revoked
                .get(certificate.tbs_certificate.serial_number.as_bytes())
            {
                Some(at) => RevocationStatus::Revoked { at: *at },
                None => RevocationStatus::Good,
            },
        )
    }

    /// The number and issue time of the last CRL used for `issuer`'s certificates.
    pub fn last_seen(&self, issuer: &Certificate) -> Option<(Option<String>, i64)> {
        let key = issuer.tbs_certificate.subject.to_der().ok()?;
        self.cache
            .lock()
            .expect("not poisoned")
            .get(&key)
            .map(|c| (c.number.clone(), c.this_update))
    }

    async fn fetch(
        &self,
        certificate: &Certificate,
        issuer: &Certificate,
        now: i64,
    ) -> Result<Cached, CrlError> {
        let own = self
            .own
            .get()
            .filter(|(name, _)| {
                issuer
                    .tbs_certificate
                    .subject
                    .to_der()
                    .is_ok_and(|n| &n == name)
            })
            .map(|(_, url)| url.clone());
        let url = match (&self.mirror, own) {
            (Some(url), _) => url.clone(),
            (None, Some(url)) => url,
            (None, None) => distribution_point(certificate).ok_or(CrlError::NoDistributionPoint)?,
        };
        let fail = |e: String| CrlError::Fetch(url.clone(), e);
        let uri: hyper::Uri = url
            .parse()
            .map_err(|_| fail("not an http:// address".into()))?;
        if uri.scheme_str() != Some("http") {
            return Err(fail("only http:// CRL addresses are fetched".into()));
        }
        let response = tokio::time::timeout(FETCH_TIMEOUT, self.client.get(uri))
            .await
            .map_err(|_| fail("timed out".into()))?
            .map_err(|e| fail(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status())));
        }
        let body = tokio::time::timeout(
            FETCH_TIMEOUT,
            Limited::new(response.into_body(), MAX_CRL_BYTES).collect(),
        )
        .await
        .map_err(|_| fail("timed out".into()))?
        .map_err(|e| fail(e.to_string()))?
        .to_bytes();
        parse(&body, issuer, now).ok_or_else(|| CrlError::Invalid(url.clone()))
    }
}

/// A CRL of `issuer`, signed by it and current at `now`.
fn parse(der: &[u8], issuer: &Certificate, now: i64) -> Option<Cached> {
    let list = CertificateList::from_der(der).ok()?;
    let tbs = &list.tbs_cert_list;
    if tbs.issuer != issuer.tbs_certificate.subject
        || !signature_by(issuer, &tbs.to_der().ok()?, list.signature.as_bytes()?)
    {
        return None;
    }
    let this_update = tbs.this_update.to_unix_duration().as_secs() as i64;
    let next_update = tbs
        .next_update
        .map(|t| t.to_unix_duration().as_secs() as i64)?;
    if now < this_update - 300 || now >= next_update {
        return None;
    }
    let number = tbs
        .crl_extensions
        .iter()
        .flatten()
        .find(|e| e.extn_id == const_oid::db::rfc5280::ID_CE_CRL_NUMBER)
        .and_then(|e| {
            der::asn1::Uint::from_der(e.extn_value.as_bytes())
                .ok()
                .map(|n| {
                    n.as_bytes()
                        .iter()
                        .fold(0u128, |acc, b| acc << 8 | u128::from(*b))
                        .to_string()
                })
        });
    let revoked = tbs
        .revoked_certificates
        .iter()
        .flatten()
        .map(|r| {
            (
                r.serial_number.as_bytes().to_vec(),
                r.revocation_date.to_unix_duration().as_secs() as i64,
            )
        })
        .collect();
    Some(Cached {
        revoked,
        number,
        this_update,
        next_update,
        fetched_at: now,
    })
}

/// The first http URI among the certificate's CRL distribution points.
pub fn distribution_point(certificate: &Certificate) -> Option<String> {
    let extension = super::pki::extension(
        certificate,
        const_oid::db::rfc5280::ID_CE_CRL_DISTRIBUTION_POINTS,
    )?;
    let points = CrlDistributionPoints::from_der(extension.extn_value.as_bytes()).ok()?;
    points.0.iter().find_map(|p| match &p.distribution_point {
        Some(DistributionPointName::FullName(names)) => names.iter().find_map(|n| match n {
            GeneralName::UniformResourceIdentifier(uri) if uri.as_str().starts_with("http://") => {
                Some(uri.as_str().to_string())
            }
            _ => None,
        }),
        _ => None,
    })
}
