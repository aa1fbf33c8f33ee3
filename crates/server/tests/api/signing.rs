//! Signing and submitting through the API with the demo people's committed key files: every
//! refusal names its reason, and the accepted signature is kept with its evidence.

use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use portal_domain::eds::{KeyFile, KeyPurpose};
use portal_server::signing::pki::now_seconds;

use crate::applications::{attach, demo, enrolment_answers, field_codes, new_draft, pdf_bytes, save};
use crate::helpers::{Session, TestApp, repo_root};

const AIGERIM: (&str, &str) = ("880314412019", "Aigerim-demo-2026");

fn demo_key(file: &str, password: &str) -> KeyFile {
    let bytes = std::fs::read(repo_root().join("demo/keys").join(file)).unwrap();
    KeyFile::open(&bytes, password).unwrap()
}

/// Aigerim's complete first-grade draft: its id and version.
async fn ready_draft(app: &TestApp, who: &Session) -> (String, i64) {
    let id = new_draft(app, who, "school-enrollment").await["id"].as_str().unwrap().to_string();
    assert_eq!(save(app, who, &id, 1, enrolment_answers()).await.status, StatusCode::OK);
    assert_eq!(attach(app, who, &id, "child-photo", "photo.pdf", pdf_bytes(1000)).await.status, StatusCode::OK);
    let version = app.get_as(&format!("/api/applications/{id}"), who).await.json()["version"].as_i64().unwrap();
    (id, version)
}

async fn refusal(app: &TestApp, who: &Session, id: &str, version: i64, key: &KeyFile) -> String {
    let signature = app.sign(who, id, key).await;
    let response = app.submit(who, id, version, &signature).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", response.text());
    let fields = field_codes(&response);
    assert_eq!(fields.len(), 1, "{fields:?}");
    assert_eq!(fields[0].0, "signature");
    fields[0].1.clone()
}

#[tokio::test]
async fn the_demo_key_files_show_each_refusal_and_the_valid_one_submits() {
    let app = demo().await;
    let aigerim = app.sign_in(AIGERIM.0, AIGERIM.1).await;
    let (id, version) = ready_draft(&app, &aigerim).await;

    let cases = [
        ("880314412019-expired.p12", "Aigerim-old-2024", "error.eds.expired"),
        ("880314412019-revoked.p12", "Aigerim-lost-2026", "error.eds.revoked"),
        ("880314412019-authentication.p12", "Aigerim-key-2026", "error.eds.wrong_key_usage"),
        ("851102322024-signing.p12", "Dmitriy-key-2026", "error.eds.wrong_iin"),
    ];
    for (file, password, code) in cases {
        assert_eq!(refusal(&app, &aigerim, &id, version, &demo_key(file, password)).await, code, "{file}");
    }
    // The message carries the regulation's wording and the reason, in the person's language.
    let signature = app.sign(&aigerim, &id, &demo_key("880314412019-revoked.p12", "Aigerim-lost-2026")).await;
    let body = serde_json::json!({"version": version, "consent": true, "signature": signature});
    let response = app.send(Method::POST, &format!("/api/applications/{id}/submission?lang=ru"), Some(body), Some(&aigerim)).await;
    let message = response.json()["fields"][0]["message"].as_str().unwrap().to_string();
    assert!(message.starts_with("В приеме заявления отказано, так как ЭЦП не подтверждена"), "{message}");
    assert!(message.contains("отозван"), "{message}");

    let key = demo_key("880314412019-signing.p12", "Aigerim-key-2026");
    let signature = app.sign(&aigerim, &id, &key).await;
    let sent = app.submit(&aigerim, &id, version, &signature).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
    let stored: (Vec<u8>, String, String, Option<String>) = match &app.state.db {
        portal_server::db::Db::Sqlite(pool) => sqlx::query_as("SELECT cms, signer_iin, signer_serial, crl_number FROM application_signatures WHERE application_id = $1")
            .bind(&id)
            .fetch_one(pool)
            .await
            .unwrap(),
    };
    assert_eq!(stored.0, BASE64.decode(&signature).unwrap(), "the signature is kept as sent");
    assert_eq!(stored.1, AIGERIM.0);
    assert_eq!(stored.2, key.summary().serial);
    assert!(stored.3.is_some(), "the CRL that was checked is recorded");
}

#[tokio::test]
async fn a_change_after_signing_an_unsigned_or_broken_signature_is_refused() {
    let app = demo().await;
    let aigerim = app.sign_in(AIGERIM.0, AIGERIM.1).await;
    let (id, version) = ready_draft(&app, &aigerim).await;
    let key = demo_key("880314412019-signing.p12", "Aigerim-key-2026");

    // No challenge asked for yet: nothing to have signed.
    let premature = app.submit(&aigerim, &id, version, &BASE64.encode(b"anything")).await;
    assert_eq!(field_codes(&premature), vec![("signature".to_string(), "error.eds.challenge_expired".to_string())]);

    let signature = app.sign(&aigerim, &id, &key).await;
    // A file replaced after signing: the draft changes, so the signed document no longer matches.
    assert_eq!(attach(&app, &aigerim, &id, "other", "extra.pdf", pdf_bytes(500)).await.status, StatusCode::OK);
    let version = app.get_as(&format!("/api/applications/{id}"), &aigerim).await.json()["version"].as_i64().unwrap();
    let changed = app.submit(&aigerim, &id, version, &signature).await;
    assert_eq!(field_codes(&changed), vec![("signature".to_string(), "error.eds.content_changed".to_string())]);

    let garbage = app.submit(&aigerim, &id, version, "%%% not base64 %%%").await;
    assert_eq!(field_codes(&garbage), vec![("signature".to_string(), "error.eds.malformed".to_string())]);
    let truncated = BASE64.encode(&BASE64.decode(app.sign(&aigerim, &id, &key).await).unwrap()[..300]);
    assert_eq!(field_codes(&app.submit(&aigerim, &id, version, &truncated).await), vec![("signature".to_string(), "error.eds.malformed".to_string())]);

    // Someone else's draft cannot even be asked to be signed.
    let other = app.citizen().await;
    assert_eq!(app.send(Method::POST, &format!("/api/applications/{id}/signing"), None, Some(&other)).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_key_not_yet_valid_and_a_key_of_a_fake_ca_are_refused() {
    let app = demo().await;
    let citizen = app.citizen().await;
    let (id, version) = ready_draft(&app, &citizen).await;
    let future = app.key_issued(&citizen.iin, KeyPurpose::Signing, now_seconds() + 86_400 * 3, 365);
    assert_eq!(refusal(&app, &citizen, &id, version, &future).await, "error.eds.not_yet_valid");

    let dir = tempfile::tempdir().unwrap();
    let fake = portal_server::signing::pki::Authority::create(dir.path(), "Portal test").unwrap();
    let person = portal_server::signing::pki::Person { iin: &citizen.iin, last_name: "Тестова", first_name: "Алия" };
    let issued = fake.issue(&person, KeyPurpose::Signing, now_seconds() - 60, 30, "http://127.0.0.1:1/x.crl").unwrap();
    let forged = KeyFile::open(&fake.pkcs12(&issued, "pw").unwrap(), "pw").unwrap();
    assert_eq!(refusal(&app, &citizen, &id, version, &forged).await, "error.eds.untrusted");
}

#[tokio::test]
async fn the_ca_publishes_its_certificates_and_a_signed_crl_listing_revocations() {
    let app = demo().await;
    let crl = app.get("/pki/issuing.crl").await;
    assert_eq!(crl.status, StatusCode::OK);
    assert_eq!(crl.header("content-type"), Some("application/pkix-crl"));
    let list = <x509_cert::crl::CertificateList as der::Decode>::from_der(&crl.body).unwrap();
    let revoked = demo_key("880314412019-revoked.p12", "Aigerim-lost-2026");
    let serials: Vec<String> = list
        .tbs_cert_list
        .revoked_certificates
        .iter()
        .flatten()
        .map(|r| r.serial_number.as_bytes().iter().map(|b| format!("{b:02X}")).collect())
        .collect();
    assert_eq!(serials, vec![revoked.summary().serial.clone()]);
    assert_eq!(app.get("/pki/root.cer").await.status, StatusCode::OK);
    assert_eq!(app.get("/pki/nothing.cer").await.status, StatusCode::NOT_FOUND);

    // Revoking a certificate puts it on the next CRL.
    let valid = demo_key("880314412019-signing.p12", "Aigerim-key-2026");
    assert_eq!(portal_server::signing::revoke(&app.state.db, &valid.summary().serial).await.unwrap(), 1);
    let again = <x509_cert::crl::CertificateList as der::Decode>::from_der(&app.get("/pki/issuing.crl").await.body).unwrap();
    assert_eq!(again.tbs_cert_list.revoked_certificates.unwrap().len(), 2);
}
