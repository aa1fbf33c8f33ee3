//! Verification against a real test CA, real CMS from a real PKCS#12 file, and CRLs served
//! over real HTTP.

use std::sync::OnceLock;
use std::time::Duration;

use portal_domain::eds::{KeyFile, KeyPurpose, SignedAttachment, SigningDocument};
use portal_domain::form::Answers;

use super::crl::CrlSource;
use super::pki::{Authority, Person, now_seconds};
use super::verify::{Expectation, Outcome, Rejection, TrustStore, recheck, verify};

const IIN: &str = "880314412019";
const OTHER_IIN: &str = "851102322024";
const DAY: i64 = 86_400;

struct Fixture {
    ca: Authority,
    foreign: Authority,
    _dirs: Vec<tempfile::TempDir>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let (one, two) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        Fixture {
            ca: Authority::create(one.path(), "Test").unwrap(),
            foreign: Authority::create(two.path(), "Fake").unwrap(),
            _dirs: vec![one, two],
        }
    })
}

fn key_file(
    ca: &Authority,
    iin: &str,
    purpose: KeyPurpose,
    not_before: i64,
    days: u32,
) -> (KeyFile, Vec<u8>) {
    let person = Person {
        iin,
        last_name: "Сәрсенова",
        first_name: "Айгерім",
    };
    let issued = ca
        .issue(
            &person,
            purpose,
            not_before,
            days,
            "http://127.0.0.1:1/pki/issuing.crl",
        )
        .unwrap();
    let p12 = ca.pkcs12(&issued, "secret-1").unwrap();
    (
        KeyFile::open(&p12, "secret-1").unwrap(),
        issued
            .certificate
            .tbs_certificate
            .serial_number
            .as_bytes()
            .to_vec(),
    )
}

fn valid_key(purpose: KeyPurpose) -> (KeyFile, Vec<u8>) {
    key_file(&fixture().ca, IIN, purpose, now_seconds() - DAY, 365)
}

fn trust() -> TrustStore {
    let ca = &fixture().ca;
    TrustStore::new(vec![ca.root.clone(), ca.issuing.clone()]).unwrap()
}

fn document(sha: &str) -> Vec<u8> {
    let attachments = vec![SignedAttachment {
        slot: "birth-certificate".into(),
        file_name: "birth.pdf".into(),
        sha256: sha.into(),
    }];
    SigningDocument::new(
        "app-1",
        "school-enrollment",
        IIN,
        None,
        Answers::new(),
        attachments,
        "nonce-1",
        "2026-06-01T09:30:00Z",
    )
    .canonical_bytes()
}

/// Serves `crl` over HTTP on a free port; the address of the CRL.
async fn serve_crl(crl: Vec<u8>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/issuing.crl",
        axum::routing::get(move || async move { crl.clone() }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/issuing.crl")
}

async fn crls_revoking(revoked: &[(Vec<u8>, i64)]) -> CrlSource {
    let crl = fixture()
        .ca
        .crl(revoked, 7, now_seconds() - 60, Duration::from_secs(3600))
        .unwrap();
    CrlSource::new(Some(serve_crl(crl).await))
}

async fn check(cms: &[u8], content: &[u8], purpose: KeyPurpose, crls: &CrlSource) -> Outcome {
    verify(
        cms,
        &Expectation {
            content,
            iin: Some(IIN),
            purpose,
            at: now_seconds(),
        },
        &trust(),
        crls,
    )
    .await
}

fn rejection(outcome: Outcome) -> Rejection {
    match outcome {
        Outcome::Invalid(r) => r,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[tokio::test]
async fn a_valid_signature_is_accepted_with_its_evidence() {
    let (key, _) = valid_key(KeyPurpose::Signing);
    let content = document("aa");
    let cms = key.sign_detached(&content, now_seconds()).unwrap();
    match check(
        &cms,
        &content,
        KeyPurpose::Signing,
        &crls_revoking(&[]).await,
    )
    .await
    {
        Outcome::Valid(evidence) => {
            assert_eq!(evidence.signer.iin.as_deref(), Some(IIN));
            assert_eq!(evidence.signer.holder, "СӘРСЕНОВА АЙГЕРІМ");
            assert_eq!(
                evidence.crl_number.as_deref(),
                Some("7"),
                "the CRL used is recorded"
            );
            assert_eq!(evidence.certificate_der, key.certificate_der());
        }
        other => panic!("expected valid, got {other:?}"),
    }
}

#[tokio::test]
async fn expired_and_not_yet_valid_certificates_are_refused() {
    let crls = crls_revoking(&[]).await;
    let content = document("aa");
    let (expired, _) = key_file(
        &fixture().ca,
        IIN,
        KeyPurpose::Signing,
        now_seconds() - 400 * DAY,
        365,
    );
    assert_eq!(
        rejection(
            check(
                &expired.sign_detached(&content, now_seconds()).unwrap(),
                &content,
                KeyPurpose::Signing,
                &crls
            )
            .await
        ),
        Rejection::Expired
    );
    let (future, _) = key_file(
        &fixture().ca,
        IIN,
        KeyPurpose::Signing,
        now_seconds() + 10 * DAY,
        365,
    );
    assert_eq!(
        rejection(
            check(
                &future.sign_detached(&content, now_seconds()).unwrap(),
                &content,
                KeyPurpose::Signing,
                &crls
            )
            .await
        ),
        Rejection::NotYetValid
    );
}

#[tokio::test]
async fn a_revoked_certificate_is_refused() {
    let (key, serial) = valid_key(KeyPurpose::Signing);
    let revoked_at = now_seconds() - 3600;
    let crls = crls_revoking(&[(serial, revoked_at)]).await;
    let content = document("aa");
    let cms = key.sign_detached(&content, now_seconds()).unwrap();
    assert_eq!(
        rejection(check(&cms, &content, KeyPurpose::Signing, &crls).await),
        Rejection::Revoked { at: revoked_at }
    );
}

#[tokio::test]
async fn a_signature_checked_before_is_checked_again_for_trust_and_revocation() {
    let (key, serial) = valid_key(KeyPurpose::Signing);
    let certificate = key.certificate_der();
    let now = now_seconds();
    match recheck(certificate, now, &trust(), &crls_revoking(&[]).await).await {
        Outcome::Valid(evidence) => {
            assert_eq!(evidence.signer.iin.as_deref(), Some(IIN));
            assert_eq!(evidence.certificate_der, certificate);
            assert_eq!(evidence.crl_number.as_deref(), Some("7"));
        }
        other => panic!("expected valid, got {other:?}"),
    }
    // Revoked before the signing time: refused; revoked only after it: still valid.
    let revoked_at = now - 3600;
    let crls = crls_revoking(&[(serial, revoked_at)]).await;
    assert_eq!(
        rejection(recheck(certificate, now, &trust(), &crls).await),
        Rejection::Revoked { at: revoked_at }
    );
    assert!(matches!(
        recheck(certificate, revoked_at - 60, &trust(), &crls).await,
        Outcome::Valid(_)
    ));
    // A CA no longer trusted (here: a twin with the trusted one's names) is not believed.
    let dir = tempfile::tempdir().unwrap();
    let twin = Authority::create(dir.path(), "Test").unwrap();
    let (forged, _) = key_file(&twin, IIN, KeyPurpose::Signing, now - DAY, 365);
    assert_eq!(
        rejection(
            recheck(
                forged.certificate_der(),
                now,
                &trust(),
                &crls_revoking(&[]).await
            )
            .await
        ),
        Rejection::UntrustedIssuer
    );
    let unreachable = CrlSource::new(Some("http://127.0.0.1:1/issuing.crl".into()));
    assert!(matches!(
        recheck(certificate, now, &trust(), &unreachable).await,
        Outcome::Unknown { .. }
    ));
    assert_eq!(
        rejection(recheck(b"not a certificate", now, &trust(), &unreachable).await),
        Rejection::Malformed
    );
}

#[tokio::test]
async fn a_certificate_from_a_fake_ca_is_refused() {
    let content = document("aa");
    let crls = crls_revoking(&[]).await;
    let (foreign, _) = key_file(
        &fixture().foreign,
        IIN,
        KeyPurpose::Signing,
        now_seconds() - DAY,
        365,
    );
    let cms = foreign.sign_detached(&content, now_seconds()).unwrap();
    assert_eq!(
        rejection(check(&cms, &content, KeyPurpose::Signing, &crls).await),
        Rejection::UntrustedIssuer
    );
    // A fake CA with the very same names as the trusted one does not pass either.
    let dir = tempfile::tempdir().unwrap();
    let twin = Authority::create(dir.path(), "Test").unwrap();
    assert_eq!(
        twin.issuing.tbs_certificate.subject,
        fixture().ca.issuing.tbs_certificate.subject
    );
    let (forged, _) = key_file(&twin, IIN, KeyPurpose::Signing, now_seconds() - DAY, 365);
    let cms = forged.sign_detached(&content, now_seconds()).unwrap();
    assert_eq!(
        rejection(check(&cms, &content, KeyPurpose::Signing, &crls).await),
        Rejection::UntrustedIssuer
    );
}

#[tokio::test]
async fn a_certificate_of_another_person_is_refused() {
    let content = document("aa");
    let (other, _) = key_file(
        &fixture().ca,
        OTHER_IIN,
        KeyPurpose::Signing,
        now_seconds() - DAY,
        365,
    );
    let cms = other.sign_detached(&content, now_seconds()).unwrap();
    assert_eq!(
        rejection(
            check(
                &cms,
                &content,
                KeyPurpose::Signing,
                &crls_revoking(&[]).await
            )
            .await
        ),
        Rejection::WrongIin {
            found: Some(OTHER_IIN.into())
        }
    );
}

#[tokio::test]
async fn an_authentication_key_cannot_sign_an_application() {
    let (auth, _) = valid_key(KeyPurpose::Authentication);
    let content = document("aa");
    let cms = auth.sign_detached(&content, now_seconds()).unwrap();
    let crls = crls_revoking(&[]).await;
    assert_eq!(
        rejection(check(&cms, &content, KeyPurpose::Signing, &crls).await),
        Rejection::WrongKeyUsage
    );
    assert!(
        matches!(
            check(&cms, &content, KeyPurpose::Authentication, &crls).await,
            Outcome::Valid(_)
        ),
        "but it signs in"
    );
}

#[tokio::test]
async fn data_or_an_attachment_changed_after_signing_is_detected() {
    let (key, _) = valid_key(KeyPurpose::Signing);
    let crls = crls_revoking(&[]).await;
    let content = document("aa");
    let cms = key.sign_detached(&content, now_seconds()).unwrap();
    let mut tampered = content.clone();
    *tampered.last_mut().unwrap() = b' ';
    assert_eq!(
        rejection(check(&cms, &tampered, KeyPurpose::Signing, &crls).await),
        Rejection::ContentChanged
    );
    assert_eq!(
        rejection(check(&cms, &document("ab"), KeyPurpose::Signing, &crls).await),
        Rejection::ContentChanged,
        "an attachment replaced"
    );
}

#[tokio::test]
async fn a_broken_signature_value_is_refused() {
    let (key, _) = valid_key(KeyPurpose::Signing);
    let content = document("aa");
    let mut cms = key.sign_detached(&content, now_seconds()).unwrap();
    // The RSA signature is the last 256 bytes of the structure.
    let at = cms.len() - 10;
    cms[at] ^= 0x01;
    assert_eq!(
        rejection(
            check(
                &cms,
                &content,
                KeyPurpose::Signing,
                &crls_revoking(&[]).await
            )
            .await
        ),
        Rejection::BadSignature
    );
}

#[tokio::test]
async fn truncated_or_garbage_input_is_malformed() {
    let (key, _) = valid_key(KeyPurpose::Signing);
    let content = document("aa");
    let cms = key.sign_detached(&content, now_seconds()).unwrap();
    let crls = crls_revoking(&[]).await;
    assert_eq!(
        rejection(check(&cms[..cms.len() / 2], &content, KeyPurpose::Signing, &crls).await),
        Rejection::Malformed
    );
    assert_eq!(
        rejection(
            check(
                b"not a signature at all",
                &content,
                KeyPurpose::Signing,
                &crls
            )
            .await
        ),
        Rejection::Malformed
    );
    assert_eq!(
        rejection(check(&[], &content, KeyPurpose::Signing, &crls).await),
        Rejection::Malformed
    );
}

#[tokio::test]
async fn an_unreachable_crl_leaves_the_outcome_unknown() {
    let (key, _) = valid_key(KeyPurpose::Signing);
    let content = document("aa");
    let cms = key.sign_detached(&content, now_seconds()).unwrap();
    // Port 1 on the loopback: nothing listens there.
    let crls = CrlSource::new(Some("http://127.0.0.1:1/issuing.crl".into()));
    assert!(matches!(
        check(&cms, &content, KeyPurpose::Signing, &crls).await,
        Outcome::Unknown { .. }
    ));
}

#[tokio::test]
async fn a_crl_not_signed_by_the_issuing_ca_is_not_believed() {
    let (key, _) = valid_key(KeyPurpose::Signing);
    let content = document("aa");
    let cms = key.sign_detached(&content, now_seconds()).unwrap();
    let forged = fixture()
        .foreign
        .crl(&[], 1, now_seconds() - 60, Duration::from_secs(3600))
        .unwrap();
    let crls = CrlSource::new(Some(serve_crl(forged).await));
    assert!(matches!(
        check(&cms, &content, KeyPurpose::Signing, &crls).await,
        Outcome::Unknown { .. }
    ));
}

#[test]
fn a_wrong_password_is_told_apart_from_a_broken_file() {
    let person = Person {
        iin: IIN,
        last_name: "A",
        first_name: "B",
    };
    let issued = fixture()
        .ca
        .issue(
            &person,
            KeyPurpose::Signing,
            now_seconds(),
            30,
            "http://127.0.0.1:1/x.crl",
        )
        .unwrap();
    let p12 = fixture().ca.pkcs12(&issued, "right").unwrap();
    assert_eq!(
        KeyFile::open(&p12, "wrong").err(),
        Some(portal_domain::eds::KeyFileError::WrongPassword)
    );
    assert_eq!(
        KeyFile::open(b"PK\x03\x04 a zip file", "right").err(),
        Some(portal_domain::eds::KeyFileError::NotAKeyFile)
    );
    let opened = KeyFile::open(&p12, "right").unwrap();
    assert_eq!(opened.summary().purpose, KeyPurpose::Signing);
    assert_eq!(opened.summary().iin.as_deref(), Some(IIN));
}
