//! Signing and submitting through the API with the demo people's committed key files: every
//! refusal names its reason, and the accepted signature is kept with its evidence.

use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use portal_domain::eds::{KeyFile, KeyPurpose};
use portal_server::signing::pki::now_seconds;

use crate::applications::{
    attach, demo, enrolment_answers, field_codes, pdf_bytes, ready_enrolment,
};
use crate::helpers::{Session, TestApp, repo_root};

const AIGERIM: (&str, &str) = ("880314412019", "Aigerim-demo-2026");

fn demo_key(file: &str, password: &str) -> KeyFile {
    let bytes = std::fs::read(repo_root().join("demo/keys").join(file)).unwrap();
    KeyFile::open(&bytes, password).unwrap()
}

/// Aigerim's complete first-grade draft: its id and version.
async fn ready_draft(app: &TestApp, who: &Session) -> (String, i64) {
    ready_enrolment(app, who, enrolment_answers()).await
}

async fn refusal(app: &TestApp, who: &Session, id: &str, version: i64, key: &KeyFile) -> String {
    let signature = app.sign(who, id, key).await;
    let response = app.submit(who, id, version, &signature).await;
    assert_eq!(
        response.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        response.text()
    );
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
        (
            "880314412019-expired.p12",
            "Aigerim-old-2024",
            "error.eds.expired",
        ),
        (
            "880314412019-revoked.p12",
            "Aigerim-lost-2026",
            "error.eds.revoked",
        ),
        (
            "880314412019-authentication.p12",
            "Aigerim-key-2026",
            "error.eds.wrong_key_usage",
        ),
        (
            "851102322024-signing.p12",
            "Dmitriy-key-2026",
            "error.eds.wrong_iin",
        ),
    ];
    for (file, password, code) in cases {
        assert_eq!(
            refusal(&app, &aigerim, &id, version, &demo_key(file, password)).await,
            code,
            "{file}"
        );
    }
    // The message carries the regulation's wording and the reason, in the person's language.
    let signature = app
        .sign(
            &aigerim,
            &id,
            &demo_key("880314412019-revoked.p12", "Aigerim-lost-2026"),
        )
        .await;
    let body = serde_json::json!({"version": version, "consent": true, "signature": signature});
    let response = app
        .send(
            Method::POST,
            &format!("/api/applications/{id}/submission?lang=ru"),
            Some(body),
            Some(&aigerim),
        )
        .await;
    let message = response.json()["fields"][0]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.starts_with("В приеме заявления отказано, так как ЭЦП не подтверждена"),
        "{message}"
    );
    assert!(message.contains("отозван"), "{message}");

    let key = demo_key("880314412019-signing.p12", "Aigerim-key-2026");
    let signature = app.sign(&aigerim, &id, &key).await;
    let sent = app.submit(&aigerim, &id, version, &signature).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
    let stored: (Vec<u8>, String, String, Option<String>) = portal_server::on_db!(&app.state.db, |pool| sqlx::query_as(
        "SELECT cms, signer_iin, signer_serial, crl_number FROM application_signatures WHERE application_id = $1"
    )
    .bind(&id)
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(
        stored.0,
        BASE64.decode(&signature).unwrap(),
        "the signature is kept as sent"
    );
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
    let premature = app
        .submit(&aigerim, &id, version, &BASE64.encode(b"anything"))
        .await;
    assert_eq!(
        field_codes(&premature),
        vec![(
            "signature".to_string(),
            "error.eds.challenge_expired".to_string()
        )]
    );

    let signature = app.sign(&aigerim, &id, &key).await;
    // A file replaced after signing: the draft changes, so the signed document no longer matches.
    assert_eq!(
        attach(&app, &aigerim, &id, "other", "extra.pdf", pdf_bytes(500))
            .await
            .status,
        StatusCode::OK
    );
    let version = app
        .get_as(&format!("/api/applications/{id}"), &aigerim)
        .await
        .json()["version"]
        .as_i64()
        .unwrap();
    let changed = app.submit(&aigerim, &id, version, &signature).await;
    assert_eq!(
        field_codes(&changed),
        vec![(
            "signature".to_string(),
            "error.eds.content_changed".to_string()
        )]
    );

    let garbage = app
        .submit(&aigerim, &id, version, "%%% not base64 %%%")
        .await;
    assert_eq!(
        field_codes(&garbage),
        vec![("signature".to_string(), "error.eds.malformed".to_string())]
    );
    let truncated =
        BASE64.encode(&BASE64.decode(app.sign(&aigerim, &id, &key).await).unwrap()[..300]);
    assert_eq!(
        field_codes(&app.submit(&aigerim, &id, version, &truncated).await),
        vec![("signature".to_string(), "error.eds.malformed".to_string())]
    );

    // Someone else's draft cannot even be asked to be signed.
    let other = app.citizen().await;
    assert_eq!(
        app.send(
            Method::POST,
            &format!("/api/applications/{id}/signing"),
            None,
            Some(&other)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_key_not_yet_valid_and_a_key_of_a_fake_ca_are_refused() {
    let app = demo().await;
    let citizen = app.citizen().await;
    let (id, version) = ready_draft(&app, &citizen).await;
    let future = app.key_issued(
        &citizen.iin,
        KeyPurpose::Signing,
        now_seconds() + 86_400 * 3,
        365,
    );
    assert_eq!(
        refusal(&app, &citizen, &id, version, &future).await,
        "error.eds.not_yet_valid"
    );

    let dir = tempfile::tempdir().unwrap();
    let fake = portal_server::signing::pki::Authority::create(dir.path(), "Portal test").unwrap();
    let person = portal_server::signing::pki::Person {
        iin: &citizen.iin,
        last_name: "Тестова",
        first_name: "Алия",
    };
    let issued = fake
        .issue(
            &person,
            KeyPurpose::Signing,
            now_seconds() - 60,
            30,
            "http://127.0.0.1:1/x.crl",
        )
        .unwrap();
    let forged = KeyFile::open(&fake.pkcs12(&issued, "pw").unwrap(), "pw").unwrap();
    assert_eq!(
        refusal(&app, &citizen, &id, version, &forged).await,
        "error.eds.untrusted"
    );
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
        .map(|r| {
            r.serial_number
                .as_bytes()
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect()
        })
        .collect();
    assert_eq!(serials, vec![revoked.summary().serial.clone()]);
    assert_eq!(app.get("/pki/root.cer").await.status, StatusCode::OK);
    assert_eq!(
        app.get("/pki/nothing.cer").await.status,
        StatusCode::NOT_FOUND
    );

    // Revoking a certificate puts it on the next CRL.
    let valid = demo_key("880314412019-signing.p12", "Aigerim-key-2026");
    assert_eq!(
        portal_server::signing::revoke(&app.state.db, &valid.summary().serial)
            .await
            .unwrap(),
        1
    );
    let again = <x509_cert::crl::CertificateList as der::Decode>::from_der(
        &app.get("/pki/issuing.crl").await.body,
    )
    .unwrap();
    assert_eq!(again.tbs_cert_list.revoked_certificates.unwrap().len(), 2);
}

/// Signs a fresh sign-in challenge with `key`: the request body for `POST /api/session/eds`.
async fn eds_login_body(app: &TestApp, key: &KeyFile) -> serde_json::Value {
    let challenge = app
        .send(Method::POST, "/api/session/eds-challenge", None, None)
        .await;
    assert_eq!(challenge.status, StatusCode::OK, "{}", challenge.text());
    let challenge = challenge.json();
    let document = challenge["document"].as_str().unwrap();
    let signature = BASE64.encode(
        key.sign_detached(document.as_bytes(), now_seconds())
            .unwrap(),
    );
    serde_json::json!({"nonce": challenge["nonce"], "signature": signature})
}

#[tokio::test]
async fn signing_in_with_the_authentication_key_opens_a_session_once() {
    let app = demo().await;
    let key = demo_key("880314412019-authentication.p12", "Aigerim-key-2026");
    let body = eds_login_body(&app, &key).await;
    let signed_in = app
        .send(Method::POST, "/api/session/eds", Some(body.clone()), None)
        .await;
    assert_eq!(signed_in.status, StatusCode::OK, "{}", signed_in.text());
    let session = Session::from_response(&signed_in, AIGERIM.0);
    let me = app.get_as("/api/session", &session).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["user"]["iin_masked"], "880314******");

    // The same signed challenge again: it was used up.
    let replay = app
        .send(Method::POST, "/api/session/eds", Some(body), None)
        .await;
    assert_eq!(
        field_codes(&replay),
        vec![(
            "signature".to_string(),
            "error.eds.challenge_expired".to_string()
        )]
    );

    let cases = [
        (
            demo_key("880314412019-signing.p12", "Aigerim-key-2026"),
            "error.eds.not_authentication",
        ),
        (
            app.key_for(&crate::helpers::next_iin(), KeyPurpose::Authentication),
            "error.eds.no_account",
        ),
        (
            app.key_issued(
                AIGERIM.0,
                KeyPurpose::Authentication,
                now_seconds() - 86_400 * 400,
                30,
            ),
            "error.eds.expired",
        ),
    ];
    for (key, code) in cases {
        let refused = app
            .send(
                Method::POST,
                "/api/session/eds",
                Some(eds_login_body(&app, &key).await),
                None,
            )
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{code}: {}",
            refused.text()
        );
        assert_eq!(
            field_codes(&refused),
            vec![("signature".to_string(), code.to_string())]
        );
        assert!(refused.header("set-cookie").is_none(), "{code}: no session");
    }
    // A certificate of a CA nobody trusts opens nothing either.
    let dir = tempfile::tempdir().unwrap();
    let fake = portal_server::signing::pki::Authority::create(dir.path(), "Portal test").unwrap();
    let person = portal_server::signing::pki::Person {
        iin: AIGERIM.0,
        last_name: "Сәрсенова",
        first_name: "Айгерім",
    };
    let issued = fake
        .issue(
            &person,
            KeyPurpose::Authentication,
            now_seconds() - 60,
            30,
            "http://127.0.0.1:1/x.crl",
        )
        .unwrap();
    let forged = KeyFile::open(&fake.pkcs12(&issued, "pw").unwrap(), "pw").unwrap();
    let refused = app
        .send(
            Method::POST,
            "/api/session/eds",
            Some(eds_login_body(&app, &forged).await),
            None,
        )
        .await;
    assert_eq!(
        field_codes(&refused),
        vec![("signature".to_string(), "error.eds.untrusted".to_string())]
    );
}

#[tokio::test]
async fn the_signed_document_downloads_for_applicant_and_provider_and_verifies_again() {
    let app = demo().await;
    let aigerim = app.sign_in(AIGERIM.0, AIGERIM.1).await;
    let (id, version) = ready_draft(&app, &aigerim).await;
    let key = demo_key("880314412019-signing.p12", "Aigerim-key-2026");
    let signature = app.sign(&aigerim, &id, &key).await;
    let sent = app.submit(&aigerim, &id, version, &signature).await;
    assert_eq!(sent.status, StatusCode::CREATED);

    let view = app
        .get_as(&format!("/api/applications/{id}"), &aigerim)
        .await
        .json();
    assert_eq!(
        sent.json(),
        view,
        "the answer to sending is the application as stored"
    );
    // The applicant is told, in the same transaction as the sending.
    let number = view["submission"]["number"].as_str().unwrap();
    let told = app.get_as("/api/notifications", &aigerim).await.json();
    assert_eq!(told.as_array().unwrap().len(), 1, "{told}");
    assert_eq!(
        told[0]["title"]["en"],
        format!("Application No. {number} sent")
    );
    assert_eq!(
        told[0]["body"]["en"],
        "Your application for “School enrolment, including first grade” was sent to School-gymnasium No. 201 (demo). We will tell you when its status changes."
    );
    assert_eq!(told[0]["link"], format!("/applications/{id}"));
    let info = &view["submission"]["signature"];
    assert_eq!(info["outcome"], "valid");
    assert_eq!(info["iin"], AIGERIM.0);
    assert_eq!(info["serial"], key.summary().serial.as_str());

    let cms = app
        .get_as(&format!("/api/applications/{id}/signature"), &aigerim)
        .await;
    assert_eq!(cms.status, StatusCode::OK);
    assert_eq!(
        cms.header("content-type"),
        Some("application/pkcs7-signature")
    );
    assert_eq!(cms.body, BASE64.decode(&signature).unwrap());
    let document = app
        .get_as(&format!("/api/applications/{id}/signed-document"), &aigerim)
        .await;
    assert_eq!(document.status, StatusCode::OK);
    let signed: serde_json::Value = serde_json::from_slice(&document.body).unwrap();
    assert_eq!(signed["application_id"], id.as_str());
    assert_eq!(signed["applicant_iin"], AIGERIM.0);

    // The school's officer gets the same files; another school's officer and another citizen do not.
    let officer = app
        .sign_in(
            crate::helpers::DEMO_OFFICER_SCHOOL_201.0,
            crate::helpers::DEMO_OFFICER_SCHOOL_201.1,
        )
        .await;
    let by_officer = app
        .get_as(
            &format!("/api/workspace/applications/{id}/signature"),
            &officer,
        )
        .await;
    assert_eq!(by_officer.body, cms.body);
    assert_eq!(
        app.get_as(
            &format!("/api/workspace/applications/{id}/signed-document"),
            &officer
        )
        .await
        .body,
        document.body
    );
    let other_school = app.sign_in("800707362020", "Askhat-officer-2026").await;
    assert_eq!(
        app.get_as(
            &format!("/api/workspace/applications/{id}/signature"),
            &other_school
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let stranger = app.citizen().await;
    assert_eq!(
        app.get_as(
            &format!("/api/applications/{id}/signed-document"),
            &stranger
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_as(&format!("/api/applications/{id}/signature"), &officer)
            .await
            .status,
        StatusCode::FORBIDDEN,
        "the citizen route is for citizens"
    );

    // Anyone can verify the two files again, without signing in.
    let check = |document: &[u8], cms: &[u8]| serde_json::json!({"document": BASE64.encode(document), "signature": BASE64.encode(cms)});
    let valid = app
        .send(
            Method::POST,
            "/api/signatures/verification",
            Some(check(&document.body, &cms.body)),
            None,
        )
        .await;
    assert_eq!(valid.status, StatusCode::OK, "{}", valid.text());
    assert_eq!(valid.json()["outcome"], "valid");
    assert_eq!(valid.json()["kind"], "application");
    assert_eq!(valid.json()["signer"]["iin"], AIGERIM.0);
    let tampered = String::from_utf8(document.body.clone())
        .unwrap()
        .replace("Серікова", "Серикова");
    assert_ne!(tampered.as_bytes(), document.body.as_slice());
    let changed = app
        .send(
            Method::POST,
            "/api/signatures/verification?lang=en",
            Some(check(tampered.as_bytes(), &cms.body)),
            None,
        )
        .await
        .json();
    assert_eq!(changed["outcome"], "invalid");
    assert!(
        changed["reason"]
            .as_str()
            .unwrap()
            .contains("changed after it was signed"),
        "{changed}"
    );
    let not_ours = app
        .send(
            Method::POST,
            "/api/signatures/verification",
            Some(check(b"{\"hello\":1}", &cms.body)),
            None,
        )
        .await;
    assert_eq!(
        field_codes(&not_ours),
        vec![(
            "document".to_string(),
            "error.signed_document_unknown".to_string()
        )]
    );
    // Revoked after signing: still valid, because the certificate was good when it signed.
    portal_server::signing::revoke(&app.state.db, &key.summary().serial)
        .await
        .unwrap();
    let later = app
        .send(
            Method::POST,
            "/api/signatures/verification",
            Some(check(&document.body, &cms.body)),
            None,
        )
        .await
        .json();
    assert_eq!(later["outcome"], "valid", "{later}");
}

/// A CRL mirror the test switches on and off: while off it answers 503, as an unreachable
/// certification authority would; while on it passes the portal's own CRL through.
struct CrlMirror {
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl CrlMirror {
    fn set_up(&self, up: bool) {
        self.up.store(up, std::sync::atomic::Ordering::SeqCst);
    }
}

async fn app_behind_crl_mirror() -> (TestApp, CrlMirror) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/issuing.crl", listener.local_addr().unwrap());
    let app = TestApp::with(&[("PORTAL_DEMO", "1"), ("PORTAL_CRL_URL", &url)]).await;
    let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (router, flag) = (app.router.clone(), up.clone());
    let mirror = axum::Router::new().route(
        "/issuing.crl",
        axum::routing::get(move || {
            let (router, flag) = (router.clone(), flag.clone());
            async move {
                use tower::ServiceExt;
                if !flag.load(std::sync::atomic::Ordering::SeqCst) {
                    return axum::http::StatusCode::SERVICE_UNAVAILABLE.into_response();
                }
                let request = axum::http::Request::get("/pki/issuing.crl")
                    .body(axum::body::Body::empty())
                    .unwrap();
                router.oneshot(request).await.unwrap().into_response()
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, mirror).await.unwrap() });
    (app, CrlMirror { up })
}

use axum::response::IntoResponse;

#[tokio::test]
async fn an_unreachable_crl_holds_the_application_until_a_recheck_decides() {
    let (app, mirror) = app_behind_crl_mirror().await;
    let aigerim = app.sign_in(AIGERIM.0, AIGERIM.1).await;
    let (id, version) = ready_draft(&app, &aigerim).await;
    let signature = app
        .sign(
            &aigerim,
            &id,
            &demo_key("880314412019-signing.p12", "Aigerim-key-2026"),
        )
        .await;
    let sent = app.submit(&aigerim, &id, version, &signature).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
    assert_eq!(
        sent.json()["status"],
        "signature_pending",
        "never treated as valid meanwhile"
    );
    assert_eq!(sent.json()["submission"]["signature"]["outcome"], "pending");
    let notices = app
        .get_as("/api/notifications?lang=en", &aigerim)
        .await
        .json();
    assert!(
        notices.to_string().contains("signature check pending"),
        "{notices}"
    );

    // Still unreachable: nothing changes, and the next check waits.
    let recheck = |at| portal_server::signing::recheck::recheck_due(&app.state, at);
    let later = now_seconds() + 3600;
    assert_eq!(recheck(later).await.unwrap().still_unknown, 1);
    assert_eq!(
        recheck(now_seconds()).await.unwrap().still_unknown,
        0,
        "not due again yet"
    );
    assert_eq!(
        app.get_as(&format!("/api/applications/{id}"), &aigerim)
            .await
            .json()["status"],
        "signature_pending"
    );

    mirror.set_up(true);
    let done = recheck(later + 86_400).await.unwrap();
    assert_eq!(done.confirmed, 1, "{done:?}");
    let view = app
        .get_as(&format!("/api/applications/{id}"), &aigerim)
        .await
        .json();
    assert_eq!(view["status"], "submitted");
    assert_eq!(view["submission"]["signature"]["outcome"], "valid");
    assert!(
        app.get_as("/api/notifications?lang=en", &aigerim)
            .await
            .text()
            .contains("signature confirmed")
    );
    assert_eq!(
        recheck(later + 2 * 86_400).await.unwrap(),
        Default::default(),
        "decided once"
    );
}

#[tokio::test]
async fn a_revoked_key_held_for_a_recheck_is_refused_when_the_crl_comes_back() {
    let (app, mirror) = app_behind_crl_mirror().await;
    let aigerim = app.sign_in(AIGERIM.0, AIGERIM.1).await;
    let (id, version) = ready_draft(&app, &aigerim).await;
    let signature = app
        .sign(
            &aigerim,
            &id,
            &demo_key("880314412019-revoked.p12", "Aigerim-lost-2026"),
        )
        .await;
    assert_eq!(
        app.submit(&aigerim, &id, version, &signature).await.json()["status"],
        "signature_pending"
    );
    mirror.set_up(true);
    let done = portal_server::signing::recheck::recheck_due(&app.state, now_seconds() + 86_400)
        .await
        .unwrap();
    assert_eq!(done.rejected, 1, "{done:?}");
    let view = app
        .get_as(&format!("/api/applications/{id}?lang=ru"), &aigerim)
        .await
        .json();
    assert_eq!(view["status"], "signature_rejected");
    assert_eq!(view["submission"]["signature"]["outcome"], "invalid");
    assert!(
        view["submission"]["signature"]["reason"]["ru"]
            .as_str()
            .unwrap()
            .contains("отозван"),
        "{view}"
    );
    let notices = app
        .get_as("/api/notifications?lang=ru", &aigerim)
        .await
        .text();
    assert!(notices.contains("ЭЦП не подтверждена"), "{notices}");
}
