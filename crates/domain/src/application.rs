//! Applications: drafts, attachments, submission. The API's types and the rules both sides
//! apply (file names, file types by content, the application number).

use serde::{Deserialize, Serialize};

use crate::date::Date;
use crate::form::Answers;
use crate::text::Text;
use portal_i18n::Msg;

/// Where an application is in its life: the draft, then the states of the regulations
/// (catalogue §5.10). Which move leads where, and who may make it, is [`crate::workflow`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum Status {
    Draft,
    /// Sent, but the signature's revocation status could not be learnt yet: it is re-checked
    /// automatically and the application is not processed meanwhile.
    SignaturePending,
    Submitted,
    /// The re-check found the signature invalid: refused "because the EDS is not confirmed".
    SignatureRejected,
    /// Registered by the provider, which issued the acceptance notice.
    Registered,
    /// Assigned by the head to an executor, who reviews it.
    InReview,
    /// The home (living conditions) inspection was made and its act recorded.
    HomeInspection,
    /// Decided positively: the result waits for the applicant.
    ResultReady,
    Issued,
    /// The package was incomplete or out of date: refused to accept, with a receipt.
    RefusedToAccept,
    /// A motivated refusal on grounds of the service's regulation.
    Refused,
    /// Withdrawn by the applicant before registration.
    Withdrawn,
    /// The result was not collected within a month and went to the provider's storage.
    ReturnedToStorage,
}

impl Status {
    pub const ALL: [Status; 13] = [
        Status::Draft,
        Status::SignaturePending,
        Status::Submitted,
        Status::SignatureRejected,
        Status::Registered,
        Status::InReview,
        Status::HomeInspection,
        Status::ResultReady,
        Status::Issued,
        Status::RefusedToAccept,
        Status::Refused,
        Status::Withdrawn,
        Status::ReturnedToStorage,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::SignaturePending => "signature_pending",
            Status::Submitted => "submitted",
            Status::SignatureRejected => "signature_rejected",
            Status::Registered => "registered",
            Status::InReview => "in_review",
            Status::HomeInspection => "home_inspection",
            Status::ResultReady => "result_ready",
            Status::Issued => "issued",
            Status::RefusedToAccept => "refused_to_accept",
            Status::Refused => "refused",
            Status::Withdrawn => "withdrawn",
            Status::ReturnedToStorage => "returned_to_storage",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|status| status.code() == s)
    }

    pub fn msg(self) -> Msg {
        match self {
            Status::Draft => Msg::ApplicationStatusDraft,
            Status::SignaturePending => Msg::ApplicationStatusSignaturePending,
            Status::Submitted => Msg::ApplicationStatusSubmitted,
            Status::SignatureRejected => Msg::ApplicationStatusSignatureRejected,
            Status::Registered => Msg::ApplicationStatusRegistered,
            Status::InReview => Msg::ApplicationStatusInReview,
            Status::HomeInspection => Msg::ApplicationStatusHomeInspection,
            Status::ResultReady => Msg::ApplicationStatusResultReady,
            Status::Issued => Msg::ApplicationStatusIssued,
            Status::RefusedToAccept => Msg::ApplicationStatusRefusedToAccept,
            Status::Refused => Msg::ApplicationStatusRefused,
            Status::Withdrawn => Msg::ApplicationStatusWithdrawn,
            Status::ReturnedToStorage => Msg::ApplicationStatusReturnedToStorage,
        }
    }

    /// Nothing happens to the application any more.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Status::SignatureRejected
                | Status::Issued
                | Status::RefusedToAccept
                | Status::Refused
                | Status::Withdrawn
                | Status::ReturnedToStorage
        )
    }
}

/// `POST /api/applications`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewApplication {
    pub service_id: String,
}

/// `PUT /api/applications/{id}`: the draft's answers, replacing the saved ones.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SaveDraft {
    /// The version this edit started from; a newer version on the server is a conflict (409)
    /// that the applicant resolves, never a silent overwrite.
    pub version: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub answers: Answers,
}

/// `POST /api/applications/{id}/submission`
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubmitRequest {
    /// The version the applicant checked on the "check your answers" page.
    pub version: i64,
    /// Consent to the use of protected personal data (no consent, no service).
    pub consent: bool,
    /// The applicant's EDS over the document of `POST /api/applications/{id}/signing`: a detached
    /// CMS SignedData, DER, base64.
    #[serde(default)]
    pub signature: Option<String>,
}

/// `POST /api/applications/{id}/signing`: what to sign before submitting.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SigningChallenge {
    /// The exact text to sign (its UTF-8 bytes): a [`crate::eds::SigningDocument`] as JSON.
    pub document: String,
    /// The IIN whose signing certificate must sign.
    pub signer_iin: String,
    /// Unix seconds; the challenge is good for 30 minutes.
    pub issued_at: i64,
    pub expires_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplicationSummary {
    pub id: String,
    pub service_id: String,
    pub service_name: Text,
    pub status: Status,
    pub number: Option<String>,
    /// Unix time, milliseconds.
    pub updated_at: i64,
    pub submitted_at: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplicationView {
    pub id: String,
    pub service_id: String,
    pub status: Status,
    pub version: i64,
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub answers: Answers,
    pub attachments: Vec<AttachmentView>,
    pub limits: UploadLimits,
    pub created_at: i64,
    pub updated_at: i64,
    pub submission: Option<Submission>,
    /// A signed first-grade draft the portal sends at the window's opening: that moment (Unix
    /// milliseconds).
    #[serde(default)]
    pub scheduled_for: Option<i64>,
    /// For a first-grade draft: the chosen school's places, the applications it has, and
    /// whether the address is in its territory.
    #[serde(default)]
    pub first_grade_school: Option<crate::first_grade::SchoolCheck>,
}

/// What the applicant gets on submitting: the receipt's facts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Submission {
    pub number: String,
    pub submitted_at: i64,
    /// The provider organisation the application went to.
    pub organisation_id: String,
    pub organisation_name: Text,
    /// Where the result is issued, besides the personal cabinet for electronic results.
    pub result_place: Text,
    /// The day the result is due, when the service's term gives one.
    pub expected_result_date: Option<Date>,
    /// The public verification address the receipt's QR code points to.
    pub verification_url: String,
    /// Who signed it and what the server's check established.
    pub signature: Option<SignatureInfo>,
    /// A first-grade application's place in its school's queue.
    #[serde(default)]
    pub first_grade: Option<crate::first_grade::QueuePlace>,
}

/// The applicant's signature as the server verified it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignatureInfo {
    pub holder: String,
    pub iin: String,
    /// The certificate's serial number, upper-case hex.
    pub serial: String,
    /// Unix seconds: the server-issued signing time.
    pub signed_at: i64,
    pub outcome: SignatureOutcome,
    /// Why it was refused, when it was.
    pub reason: Option<Text>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SignatureOutcome {
    Valid,
    /// The revocation status could not be learnt yet; checked again automatically.
    Pending,
    Invalid,
}

/// `POST /api/signatures/verification`: a signed document and its detached signature, as
/// downloaded from the portal, to verify again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignatureCheckRequest {
    /// The signed document's exact bytes, base64.
    pub document: String,
    /// The detached CMS signature (the `.cms` file), base64.
    pub signature: String,
}

/// What verifying a signed document established, now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SignatureCheck {
    pub outcome: SignatureOutcome,
    /// Why it is not valid, in the request's language.
    pub reason: Option<String>,
    /// The signing certificate, when the signature could be read.
    pub signer: Option<crate::eds::CertificateSummary>,
    /// What was signed: `application` or `login`.
    pub kind: String,
    /// The server-issued signing time (Unix seconds) the certificate's validity is judged at.
    pub signed_at: i64,
    /// The CRL the revocation check used.
    pub crl_number: Option<String>,
    pub checked_at: i64,
}

/// An uploaded (or uploading) copy of a document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachmentView {
    pub id: String,
    /// The document slot: a `documents.items[].id` of the service, `power-of-attorney` or `other`.
    pub slot: String,
    pub file_name: String,
    pub size: u64,
    /// Bytes received so far; an upload resumes from here.
    pub received: u64,
    pub complete: bool,
    pub content_type: Option<String>,
    /// Hex SHA-256 of the content, once complete.
    pub sha256: Option<String>,
}

/// `POST /api/applications/{id}/attachments`: announces an upload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NewAttachment {
    pub slot: String,
    pub file_name: String,
    pub size: u64,
}

/// The limits on uploads, stated to the applicant before they pick a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadLimits {
    pub max_file_bytes: u64,
    pub max_application_bytes: u64,
}

/// The kinds of file the portal accepts, told apart by their first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    Pdf,
    Jpeg,
    Png,
}

impl FileType {
    /// Bytes needed to recognise every accepted type.
    pub const SNIFF_BYTES: usize = 8;

    /// The type of a file from its first bytes; `None` for anything not accepted.
    pub fn sniff(head: &[u8]) -> Option<FileType> {
        if head.starts_with(b"%PDF-") {
            Some(FileType::Pdf)
        } else if head.starts_with(&[0xFF, 0xD8, 0xFF]) {
            Some(FileType::Jpeg)
        } else if head.starts_with(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
            Some(FileType::Png)
        } else {
            None
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Pdf => "application/pdf",
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
        }
    }
}

/// A file name as the applicant's device gave it, safe to store and show: no directories, no
/// control characters, at most 200 characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    pub fn parse(raw: &str) -> Result<FileName, Msg> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(Msg::ErrorFileNameEmpty);
        }
        if name.chars().count() > 200 {
            return Err(Msg::ErrorFileNameTooLong);
        }
        if name.contains(['/', '\\']) || name == "." || name == ".." || name.starts_with("..") {
            return Err(Msg::ErrorFileNamePath);
        }
        if name.chars().any(|c| {
            c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        }) {
            return Err(Msg::ErrorFileNameCharacters);
        }
        Ok(FileName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Human-friendly application numbers: `YYMMDD-NNNNNN-C`, the day of submission, that day's
/// sequence, and a Luhn check digit over the twelve digits, so a mistyped number is caught.
pub fn application_number(day: Date, sequence: u32) -> String {
    let digits = format!(
        "{:02}{:02}{:02}{:06}",
        day.year() % 100,
        day.month(),
        day.day(),
        sequence
    );
    format!("{}-{}-{}", &digits[..6], &digits[6..], luhn_digit(&digits))
}

/// Whether `s` is a well-formed application number with a correct check digit.
pub fn is_application_number(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.len() != 3 || parts[0].len() != 6 || parts[1].len() != 6 || parts[2].len() != 1 {
        return false;
    }
    let digits = format!("{}{}", parts[0], parts[1]);
    digits.bytes().all(|b| b.is_ascii_digit())
        && parts[2].bytes().all(|b| b.is_ascii_digit())
        && luhn_digit(&digits).to_string() == parts[2]
}

fn luhn_digit(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// The kind of document a verification code stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DocumentKind {
    /// The receipt of a submitted application, signed by the applicant.
    Receipt,
    /// The provider's positive result.
    Approved,
    Refused,
    RefusedToAccept,
}

impl DocumentKind {
    pub fn msg(self) -> Msg {
        match self {
            DocumentKind::Receipt => Msg::ResultKindReceipt,
            DocumentKind::Approved => Msg::ResultKindApproved,
            DocumentKind::Refused => Msg::ResultKindRefused,
            DocumentKind::RefusedToAccept => Msg::ResultKindRefusedToAccept,
        }
    }
}

/// `GET /api/verify/{code}`: what anyone holding the document can confirm. Nothing more
/// personal than the document shows: no names, no IIN, no answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Verification {
    pub kind: DocumentKind,
    /// The document's number (the application's number for a receipt).
    pub number: String,
    /// Unix milliseconds: when the document was issued.
    pub issued_at: i64,
    pub service_name: Text,
    /// Who issued it: the provider the application went to.
    pub organisation_name: Text,
    /// The application's status now.
    pub status: Status,
    /// Whether the document's electronic signature verifies today against the trusted CA.
    pub signature_valid: bool,
    /// The signer as the certificate names it (results: the provider).
    pub signed_by: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_types_are_told_by_content() {
        assert_eq!(FileType::sniff(b"%PDF-1.7\n..."), Some(FileType::Pdf));
        assert_eq!(
            FileType::sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10]),
            Some(FileType::Jpeg)
        );
        assert_eq!(
            FileType::sniff(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0]),
            Some(FileType::Png)
        );
        assert_eq!(
            FileType::sniff(b"MZ\x90\x00\x03\x00\x00\x00"),
            None,
            "a Windows executable"
        );
        assert_eq!(
            FileType::sniff(b"\x7fELF\x02\x01\x01\x00"),
            None,
            "a Linux executable"
        );
        assert_eq!(FileType::sniff(b"<html><script>"), None);
        assert_eq!(FileType::sniff(b"%PD"), None, "too short to tell");
        assert_eq!(FileType::sniff(b""), None);
    }

    #[test]
    fn file_names_keep_what_people_type_and_refuse_paths() {
        assert_eq!(
            FileName::parse("  Туу туралы куәлік.pdf ")
                .unwrap()
                .as_str(),
            "Туу туралы куәлік.pdf"
        );
        assert_eq!(
            FileName::parse("scan (2).JPG").unwrap().as_str(),
            "scan (2).JPG"
        );
        assert_eq!(
            FileName::parse("../../etc/passwd"),
            Err(Msg::ErrorFileNamePath)
        );
        assert_eq!(FileName::parse("..\\boot.ini"), Err(Msg::ErrorFileNamePath));
        assert_eq!(FileName::parse("dir/file.pdf"), Err(Msg::ErrorFileNamePath));
        assert_eq!(FileName::parse(".."), Err(Msg::ErrorFileNamePath));
        assert_eq!(
            FileName::parse("a\u{0}b.pdf"),
            Err(Msg::ErrorFileNameCharacters)
        );
        assert_eq!(
            FileName::parse("invoice\u{202e}fdp.exe"),
            Err(Msg::ErrorFileNameCharacters),
            "right-to-left override"
        );
        assert_eq!(FileName::parse("   "), Err(Msg::ErrorFileNameEmpty));
        assert_eq!(
            FileName::parse(&"а".repeat(201)),
            Err(Msg::ErrorFileNameTooLong)
        );
        assert!(FileName::parse(&"а".repeat(200)).is_ok());
    }

    #[test]
    fn numbers_carry_the_day_the_sequence_and_a_check_digit() {
        let day = Date::from_ymd(2026, 11, 24).unwrap();
        let n = application_number(day, 42);
        assert!(n.starts_with("261124-000042-"), "{n}");
        assert!(is_application_number(&n));
        // Every single-digit typo is caught by Luhn.
        let digits: Vec<char> = n.chars().collect();
        for (i, c) in digits.iter().enumerate() {
            if !c.is_ascii_digit() {
                continue;
            }
            let mut typo = digits.clone();
            typo[i] = if *c == '9' {
                '0'
            } else {
                char::from(*c as u8 + 1)
            };
            assert!(
                !is_application_number(&typo.iter().collect::<String>()),
                "{n} vs typo at {i}"
            );
        }
        assert_ne!(application_number(day, 1), application_number(day, 2));
        assert!(!is_application_number("261124-42-1"));
        assert!(!is_application_number("26112a-000042-1"));
    }

    #[test]
    fn the_luhn_digit_matches_the_reference() {
        // The textbook example: 7992739871 has check digit 3.
        assert_eq!(luhn_digit("7992739871"), 3);
    }

    #[test]
    fn statuses_round_trip() {
        for s in [
            Status::Draft,
            Status::SignaturePending,
            Status::Submitted,
            Status::SignatureRejected,
        ] {
            assert_eq!(Status::parse(s.code()), Some(s));
        }
        assert_eq!(Status::parse("approved"), None);
    }
}
