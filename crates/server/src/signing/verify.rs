//! Verifying a detached CMS signature the way the regulations require (catalogue §5.2): the
//! signature over the bytes the server rebuilt itself, the chain to a trusted CA, the
//! certificate's validity and key usage, revocation, and the signer's IIN. Nothing the client
//! says about the signature is trusted.

use cms::signed_data::SignedData;
use const_oid::db::{rfc5911, rfc5912};
use der::{Decode, Encode};
use portal_domain::eds::{
    CertificateSummary, KeyPurpose, signed_data, signer_certificate, summarize_certificate,
};
use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use x509_cert::Certificate;

use super::crl::{CrlSource, RevocationStatus};
use super::pkcs1::verify_sha256;

/// Why a signature is not accepted. Each maps to its own message for the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Rejection {
    /// Not a CMS SignedData this portal understands (truncated, garbage, several signers…).
    Malformed,
    /// The signed data differs from the application as stored (changed after signing).
    ContentChanged,
    /// The signature value does not match the certificate's key.
    BadSignature,
    /// The certificate does not chain to a trusted certification authority.
    UntrustedIssuer,
    NotYetValid,
    Expired,
    Revoked {
        at: i64,
    },
    /// The certificate is not a signing (or, for sign-in, authentication) certificate.
    WrongKeyUsage,
    /// The certificate belongs to someone else.
    WrongIin {
        found: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Valid(Evidence),
    Invalid(Rejection),
    /// The revocation status could not be learnt: never treated as valid.
    Unknown {
        signer: CertificateSummary,
        certificate_der: Vec<u8>,
    },
}

/// What the verification established, stored with the signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub checked_at: i64,
    pub signer: CertificateSummary,
    pub certificate_der: Vec<u8>,
    pub crl_number: Option<String>,
    pub crl_this_update: i64,
}

/// The certification authorities signatures must chain to: self-signed roots and the CAs they issued.
#[derive(Clone, Debug, Default)]
pub struct TrustStore {
    roots: Vec<Certificate>,
    /// Each CA with its public key, decoded once rather than for every signature.
    issuers: Vec<(Certificate, Option<RsaPublicKey>)>,
}

impl TrustStore {
    /// Builds the store from DER or PEM certificates; every non-root must be signed by a root.
    pub fn new(certificates: Vec<Certificate>) -> anyhow::Result<TrustStore> {
        let (roots, others): (Vec<_>, Vec<_>) = certificates.into_iter().partition(|c| {
            c.tbs_certificate.issuer == c.tbs_certificate.subject && signed_by(c, c)
        });
        for ca in &others {
            if !roots.iter().any(|r| signed_by(ca, r)) {
                anyhow::bail!(
                    "the CA certificate {:?} is not signed by any trusted root",
                    summarize_certificate(ca).holder
                );
            }
        }
        anyhow::ensure!(!roots.is_empty(), "no root certificate to trust");
        Ok(TrustStore {
            issuers: others
                .into_iter()
                .chain(roots.iter().cloned())
                .map(|ca| {
                    let key = public_key(&ca);
                    (ca, key)
                })
                .collect(),
            roots,
        })
    }

    /// Every `.cer`, `.crt`, `.der` or `.pem` certificate file in `dir`.
    pub fn load_dir(dir: &std::path::Path) -> anyhow::Result<TrustStore> {
        let mut certificates = Vec::new();
        for entry in std::fs::read_dir(dir)
            .map_err(|e| anyhow::anyhow!("cannot read the trust store {}: {e}", dir.display()))?
        {
            let path = entry?.path();
            let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if !["cer", "crt", "der", "pem"].contains(&extension) {
                continue;
            }
            let bytes = std::fs::read(&path)?;
            let certificate = match Certificate::from_der(&bytes) {
                Ok(c) => c,
                Err(_) => <Certificate as der::DecodePem>::from_pem(&bytes)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
            };
            certificates.push(certificate);
        }
        TrustStore::new(certificates)
    }

    /// The trusted CA that signed `certificate` and was valid at `at`.
    fn issuer_of(&self, certificate: &Certificate, at: i64) -> Option<&Certificate> {
        self.issuers
            .iter()
            .find(|(ca, key)| {
                ca.tbs_certificate.subject == certificate.tbs_certificate.issuer
                    && valid_at(ca, at)
                    && key
                        .as_ref()
                        .is_some_and(|key| signed_with(certificate, key))
            })
            .map(|(ca, _)| ca)
    }

    pub fn roots(&self) -> &[Certificate] {
        &self.roots
    }
}

/// What a signature must be.
pub struct Expectation<'a> {
    /// The bytes the server rebuilt itself.
    pub content: &'a [u8],
    /// The IIN whose certificate must have signed; `None` when the certificate names the
    /// person (signing in).
    pub iin: Option<&'a str>,
    pub purpose: KeyPurpose,
    /// The time to judge validity at (Unix seconds): the server-issued signing time.
    pub at: i64,
}

pub async fn verify(
    cms: &[u8],
    expect: &Expectation<'_>,
    trust: &TrustStore,
    crls: &CrlSource,
) -> Outcome {
    let (signer, issuer, summary, certificate_der) = match check_offline(cms, expect, trust) {
        Ok(found) => found,
        Err(rejection) => return Outcome::Invalid(rejection),
    };
    revocation(&signer, issuer, summary, certificate_der, expect.at, crls).await
}

/// A signature that passed [`verify`] earlier, over the same content, checked again for
/// what can change since: that its certificate still chains to a trusted CA and is not
/// revoked as of `at` (the signing time). The CMS itself is not verified again.
pub async fn recheck(
    certificate_der: &[u8],
    at: i64,
    trust: &TrustStore,
    crls: &CrlSource,
) -> Outcome {
    let Ok(signer) = Certificate::from_der(certificate_der) else {
        return Outcome::Invalid(Rejection::Malformed);
    };
    let Some(issuer) = trust.issuer_of(&signer, at) else {
        return Outcome::Invalid(Rejection::UntrustedIssuer);
    };
    let summary = summarize_certificate(&signer);
    revocation(&signer, issuer, summary, certificate_der.to_vec(), at, crls).await
}

/// The outcome for a certificate whose signature checked out: valid unless revoked by `at`.
async fn revocation(
    signer: &Certificate,
    issuer: &Certificate,
    summary: CertificateSummary,
    certificate_der: Vec<u8>,
    at: i64,
    crls: &CrlSource,
) -> Outcome {
    match crls.status(signer, issuer).await {
        Ok(RevocationStatus::Revoked { at: revoked }) if revoked <= at => {
            Outcome::Invalid(Rejection::Revoked { at: revoked })
        }
        Ok(RevocationStatus::Revoked { .. } | RevocationStatus::Good) => {
            let (crl_number, crl_this_update) = crls.last_seen(issuer).unwrap_or_default();
            Outcome::Valid(Evidence {
                checked_at: super::pki::now_seconds(),
                signer: summary,
                certificate_der,
                crl_number,
                crl_this_update,
            })
        }
        Err(_) => Outcome::Unknown {
            signer: summary,
            certificate_der,
        },
    }
}

/// The SignedData of a detached CMS with one SHA-256 signer, and that signer's certificate.
fn signed_parts(cms: &[u8]) -> Result<(SignedData, Certificate), Rejection> {
    let signed = signed_data(cms).ok_or(Rejection::Malformed)?;
    // Detached: the content travels separately and is rebuilt here.
    if signed.encap_content_info.econtent.is_some()
        || signed.encap_content_info.econtent_type != rfc5911::ID_DATA
    {
        return Err(Rejection::Malformed);
    }
    let [signer_info] = signed.signer_infos.0.as_slice() else {
        return Err(Rejection::Malformed);
    };
    if signer_info.digest_alg.oid != rfc5912::ID_SHA_256 {
        return Err(Rejection::Malformed);
    }
    let certificate = signer_certificate(&signed).ok_or(Rejection::Malformed)?;
    Ok((signed, certificate))
}

/// Every check that needs no network: structure, content, signature, chain, validity, usage, IIN.
/// Returns the signer's certificate, its issuer, its facts and its DER.
fn check_offline<'t>(
    cms: &[u8],
    expect: &Expectation<'_>,
    trust: &'t TrustStore,
) -> Result<(Certificate, &'t Certificate, CertificateSummary, Vec<u8>), Rejection> {
    let (signed, certificate) = signed_parts(cms)?;
    let signer_info = &signed.signer_infos.0.as_slice()[0];
    let attributes = signer_info
        .signed_attrs
        .as_ref()
        .ok_or(Rejection::Malformed)?;
    let attribute = |oid| {
        attributes
            .iter()
            .find(|a| a.oid == oid)
            .and_then(|a| a.values.get(0))
    };
    let content_type = attribute(rfc5911::ID_CONTENT_TYPE)
        .and_then(|v| v.decode_as::<der::asn1::ObjectIdentifier>().ok());
    if content_type != Some(rfc5911::ID_DATA) {
        return Err(Rejection::Malformed);
    }
    let digest = attribute(rfc5911::ID_MESSAGE_DIGEST)
        .and_then(|v| v.decode_as::<der::asn1::OctetString>().ok())
        .ok_or(Rejection::Malformed)?;
    if digest.as_bytes() != Sha256::digest(expect.content).as_slice() {
        return Err(Rejection::ContentChanged);
    }
    let algorithm = signer_info.signature_algorithm.oid;
    if algorithm != rfc5912::RSA_ENCRYPTION && algorithm != rfc5912::SHA_256_WITH_RSA_ENCRYPTION {
        return Err(Rejection::Malformed);
    }
    let signed_bytes = attributes.to_der().map_err(|_| Rejection::Malformed)?;
    let key = public_key(&certificate).ok_or(Rejection::Malformed)?;
    if !verify_sha256(&key, &signed_bytes, signer_info.signature.as_bytes()) {
        return Err(Rejection::BadSignature);
    }

    let issuer = trust
        .issuer_of(&certificate, expect.at)
        .ok_or(Rejection::UntrustedIssuer)?;
    let certificate_der = certificate.to_der().map_err(|_| Rejection::Malformed)?;
    let summary = summarize_certificate(&certificate);
    if expect.at < summary.not_before {
        return Err(Rejection::NotYetValid);
    }
    if expect.at > summary.not_after {
        return Err(Rejection::Expired);
    }
    if summary.purpose != expect.purpose {
        return Err(Rejection::WrongKeyUsage);
    }
    if summary.iin.is_none()
        || expect
            .iin
            .is_some_and(|iin| summary.iin.as_deref() != Some(iin))
    {
        return Err(Rejection::WrongIin { found: summary.iin });
    }
    Ok((certificate, issuer, summary, certificate_der))
}

fn public_key(certificate: &Certificate) -> Option<RsaPublicKey> {
    RsaPublicKey::from_public_key_der(
        &certificate
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .ok()?,
    )
    .ok()
}

/// Whether `issuer`'s key made `certificate`'s signature (SHA-256 with RSA only).
pub fn signed_by(certificate: &Certificate, issuer: &Certificate) -> bool {
    public_key(issuer).is_some_and(|key| signed_with(certificate, &key))
}

/// Whether `key` made `certificate`'s signature (SHA-256 with RSA only).
fn signed_with(certificate: &Certificate, key: &RsaPublicKey) -> bool {
    if certificate.signature_algorithm.oid != rfc5912::SHA_256_WITH_RSA_ENCRYPTION {
        return false;
    }
    let (Ok(tbs), Some(raw)) = (
        certificate.tbs_certificate.to_der(),
        certificate.signature.as_bytes(),
    ) else {
        return false;
    };
    verify_sha256(key, &tbs, raw)
}

/// Whether `issuer` signed a DER structure whose to-be-signed part is `tbs` with `signature`.
pub fn signature_by(issuer: &Certificate, tbs: &[u8], signature: &[u8]) -> bool {
    public_key(issuer).is_some_and(|key| verify_sha256(&key, tbs, signature))
}

fn valid_at(certificate: &Certificate, at: i64) -> bool {
    let validity = &certificate.tbs_certificate.validity;
    validity.not_before.to_unix_duration().as_secs() as i64 <= at
        && at <= validity.not_after.to_unix_duration().as_secs() as i64
}
