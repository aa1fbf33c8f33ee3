//! The canonical documents that are signed: an application at submission, a login challenge.

use serde::{Deserialize, Serialize};

use crate::form::Answers;

/// What an applicant signs when submitting: the service, who applies (and for whom), every
/// answer, the SHA-256 of every attached file, and a nonce and time the server issued.
///
/// [`SigningDocument::canonical_bytes`] is the exact byte string signed. Fields serialise in
/// declaration order and answers are sorted maps, so the server rebuilds the same bytes from
/// what it stores; `format` names this layout so it can change without ambiguity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SigningDocument {
    pub format: String,
    pub application_id: String,
    pub service_id: String,
    pub applicant_iin: String,
    /// The IIN of whoever signs on the applicant's behalf (a representative), if not the applicant.
    pub representative_iin: Option<String>,
    pub answers: Answers,
    /// Sorted by slot, then file name, then hash.
    pub attachments: Vec<SignedAttachment>,
    pub nonce: String,
    /// When the server issued the nonce: RFC 3339, UTC, seconds.
    pub issued_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SignedAttachment {
    pub slot: String,
    pub file_name: String,
    /// Lower-case hex.
    pub sha256: String,
}

pub const APPLICATION_FORMAT: &str = "portal.application-signature/1";
pub const LOGIN_FORMAT: &str = "portal.login-challenge/1";

impl SigningDocument {
    /// Puts the attachments in their canonical order.
    pub fn new(
        application_id: &str,
        service_id: &str,
        applicant_iin: &str,
        representative_iin: Option<&str>,
        answers: Answers,
        mut attachments: Vec<SignedAttachment>,
        nonce: &str,
        issued_at: &str,
    ) -> SigningDocument {
        attachments.sort();
        SigningDocument {
            format: APPLICATION_FORMAT.to_string(),
            application_id: application_id.to_string(),
            service_id: service_id.to_string(),
            applicant_iin: applicant_iin.to_string(),
            representative_iin: representative_iin.map(str::to_string),
            answers,
            attachments,
            nonce: nonce.to_string(),
            issued_at: issued_at.to_string(),
        }
    }

    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a signing document always serialises")
    }

    /// The IIN whose certificate must sign: the representative's when there is one.
    pub fn signer_iin(&self) -> &str {
        self.representative_iin
            .as_deref()
            .unwrap_or(&self.applicant_iin)
    }
}

/// What a person signs with their authentication certificate to sign in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginChallenge {
    pub format: String,
    pub nonce: String,
    pub issued_at: String,
}

impl LoginChallenge {
    pub fn new(nonce: &str, issued_at: &str) -> LoginChallenge {
        LoginChallenge {
            format: LOGIN_FORMAT.to_string(),
            nonce: nonce.to_string(),
            issued_at: issued_at.to_string(),
        }
    }

    pub fn canonical_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("a login challenge always serialises")
    }
}

/// Unix seconds as RFC 3339 UTC (`2026-06-01T09:30:00Z`).
pub fn rfc3339_utc(unix_seconds: i64) -> String {
    let days = unix_seconds.div_euclid(86_400);
    let second_of_day = unix_seconds.rem_euclid(86_400);
    let date = crate::date::Date::from_days_since_epoch(days as i32);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        date,
        second_of_day / 3600,
        second_of_day % 3600 / 60,
        second_of_day % 60
    )
}

/// The inverse of [`rfc3339_utc`]: only that exact form (`2026-06-01T09:30:00Z`) is accepted.
pub fn parse_rfc3339_utc(text: &str) -> Option<i64> {
    let (date, time) = text.strip_suffix('Z')?.split_once('T')?;
    let date: crate::date::Date = date.parse().ok()?;
    let parts: Vec<i64> = time
        .split(':')
        .map(|p| if p.len() == 2 { p.parse().ok() } else { None })
        .collect::<Option<_>>()?;
    let [h, m, s] = parts[..] else { return None };
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    Some(i64::from(date.days_since_epoch()) * 86_400 + h * 3600 + m * 60 + s)
}

/// What a signed document downloaded from the portal is: read back for re-verification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignedKind {
    Application(SigningDocument),
    Login(LoginChallenge),
}

impl SignedKind {
    /// Reads a document's bytes; `None` when it is not one of the portal's signed formats.
    pub fn read(bytes: &[u8]) -> Option<SignedKind> {
        #[derive(Deserialize)]
        struct Format {
            format: String,
        }
        let format: Format = serde_json::from_slice(bytes).ok()?;
        match format.format.as_str() {
            APPLICATION_FORMAT => serde_json::from_slice(bytes)
                .ok()
                .map(SignedKind::Application),
            LOGIN_FORMAT => serde_json::from_slice(bytes).ok().map(SignedKind::Login),
            _ => None,
        }
    }

    /// When the server issued the document to sign (Unix seconds).
    pub fn issued_at(&self) -> Option<i64> {
        parse_rfc3339_utc(match self {
            SignedKind::Application(d) => &d.issued_at,
            SignedKind::Login(c) => &c.issued_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::Answer;

    fn document(attachments: Vec<SignedAttachment>) -> SigningDocument {
        let mut answers = Answers::new();
        answers.insert("b".into(), Answer::Text("два".into()));
        answers.insert("a".into(), Answer::Flag(true));
        SigningDocument::new(
            "app-1",
            "school-enrollment",
            "880314412019",
            None,
            answers,
            attachments,
            "n0nce",
            "2026-06-01T09:30:00Z",
        )
    }

    fn file(slot: &str, sha: &str) -> SignedAttachment {
        SignedAttachment {
            slot: slot.into(),
            file_name: format!("{slot}.pdf"),
            sha256: sha.into(),
        }
    }

    #[test]
    fn the_bytes_do_not_depend_on_the_order_things_were_added() {
        let one = document(vec![file("photo", "bb"), file("birth", "aa")]);
        let two = document(vec![file("birth", "aa"), file("photo", "bb")]);
        assert_eq!(one.canonical_bytes(), two.canonical_bytes());
        let text = String::from_utf8(one.canonical_bytes()).unwrap();
        assert!(
            text.starts_with(
                r#"{"format":"portal.application-signature/1","application_id":"app-1""#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#""answers":{"a":true,"b":"два"}"#),
            "answers sorted by field id: {text}"
        );
        assert!(text.find("birth").unwrap() < text.find("photo").unwrap());
    }

    #[test]
    fn any_change_changes_the_bytes() {
        let base = document(vec![file("birth", "aa")]);
        let replaced = document(vec![file("birth", "ab")]);
        assert_ne!(base.canonical_bytes(), replaced.canonical_bytes());
        let mut other_nonce = base.clone();
        other_nonce.nonce = "other".into();
        assert_ne!(base.canonical_bytes(), other_nonce.canonical_bytes());
    }

    #[test]
    fn the_representative_signs_when_there_is_one() {
        let mut doc = document(vec![]);
        assert_eq!(doc.signer_iin(), "880314412019");
        doc.representative_iin = Some("830217461010".into());
        assert_eq!(doc.signer_iin(), "830217461010");
    }

    #[test]
    fn times_are_written_in_utc() {
        assert_eq!(rfc3339_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339_utc(1_780_306_200), "2026-06-01T09:30:00Z");
        for t in [0, 1_780_306_200, 1_700_000_059, 951_782_400] {
            assert_eq!(parse_rfc3339_utc(&rfc3339_utc(t)), Some(t));
        }
        for bad in [
            "2026-06-01T09:30:00",
            "2026-06-01 09:30:00Z",
            "2026-06-01T24:00:00Z",
            "2026-02-30T00:00:00Z",
            "2026-06-01T9:30:00Z",
        ] {
            assert_eq!(parse_rfc3339_utc(bad), None, "{bad}");
        }
    }
}
