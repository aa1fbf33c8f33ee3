//! Electronic digital signatures (ЭЦП): the document an applicant signs, and what a
//! certificate says about its holder.
//!
//! The signature is a detached CMS SignedData (CAdES-BES, RSA with SHA-256) over the bytes of a
//! [`SigningDocument`]. The server issues the nonce and time, and at submission rebuilds the
//! bytes itself from what it has stored, so a signature made over anything else fails.

mod document;
#[cfg(feature = "eds")]
mod keyfile;

pub use document::{
    APPLICATION_FORMAT, LOGIN_FORMAT, LoginChallenge, SignedAttachment, SignedKind,
    SigningDocument, parse_rfc3339_utc, rfc3339_utc,
};
#[cfg(feature = "eds")]
pub use keyfile::{
    KeyFile, KeyFileError, SIGNING_CERTIFICATE_V2, name_attribute, signed_data, signer_certificate,
    signer_of, summarize, summarize_certificate,
};

use serde::{Deserialize, Serialize};

/// What a certificate is for, as the national CA issues them: a signing certificate
/// (digitalSignature + nonRepudiation) and a separate authentication certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum KeyPurpose {
    Signing,
    Authentication,
    /// Neither profile: such a key signs nothing on the portal.
    Other,
}

/// The facts of a certificate a person needs before signing, and the verifier checks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CertificateSummary {
    /// The holder's name (the subject's common name).
    pub holder: String,
    /// The IIN in the subject's `serialNumber` (`IIN` + 12 digits), if any.
    pub iin: Option<String>,
    /// The issuing CA's common name.
    pub issuer: String,
    /// The certificate's serial number, upper-case hex.
    pub serial: String,
    /// Unix time, seconds.
    pub not_before: i64,
    /// Unix time, seconds.
    pub not_after: i64,
    pub purpose: KeyPurpose,
}

impl CertificateSummary {
    /// Whether the certificate is within its validity period at `unix_seconds`.
    pub fn valid_at(&self, unix_seconds: i64) -> bool {
        self.not_before <= unix_seconds && unix_seconds <= self.not_after
    }
}

/// The certificate subject's `serialNumber` for an IIN, as the national CA writes it.
pub fn subject_serial_number(iin: &str) -> String {
    format!("IIN{iin}")
}
