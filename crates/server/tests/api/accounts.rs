use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Session, TestApp, next_iin, registration};

#[tokio::test]
async fn registering_creates_a_citizen_and_signs_them_in() {
    let app = TestApp::spawn().await;
    let iin = next_iin();
    let response = app
        .send(
            Method::POST,
            "/api/accounts",
            Some(registration(&iin)),
            None,
        )
        .await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let cookie = response.header("set-cookie").unwrap();
    assert!(cookie.starts_with("portal_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(!cookie.contains("Secure"), "plain http: no Secure flag");
    let body = response.json();
    assert_eq!(body["user"]["role"], "citizen");
    assert_eq!(body["user"]["iin_masked"], format!("{}******", &iin[..6]));
    assert_eq!(body["idle_timeout_seconds"], 20 * 60);
    assert!(body["csrf_token"].as_str().unwrap().len() >= 32);

    let session = Session::from_response(&response, &iin);
    let me = app.get_as("/api/session", &session).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["user"]["first_name"], "Сәуле");
}

#[tokio::test]
async fn registration_errors_name_each_field_in_the_users_language() {
    let app = TestApp::spawn().await;
    let body = json!({
        "iin": "900101300127", "password": "short", "last_name": "", "first_name": "R2D2",
        "email": "not-an-address", "phone": "12", "preferred_lang": "ru"
    });
    let response = app
        .send(Method::POST, "/api/accounts?lang=ru", Some(body), None)
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<(String, String)> = response.json()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        fields,
        vec![
            ("iin".into(), "error.iin.checksum".into()),
            ("last_name".into(), "error.name.empty".into()),
            ("first_name".into(), "error.name.characters".into()),
            ("email".into(), "error.email.invalid".into()),
            ("phone".into(), "error.phone.invalid".into()),
            ("password".into(), "error.password.too_short".into()),
        ]
    );
    assert_eq!(
        response.json()["fields"][0]["message"],
        "Такой ИИН недействителен: вероятно, одна из цифр введена с ошибкой."
    );
}

#[tokio::test]
async fn each_invalid_iin_class_gets_its_own_message() {
    let app = TestApp::spawn().await;
    for (iin, code) in [
        ("", "error.iin.empty"),
        ("9001013001", "error.iin.length"),
        ("90010130012x", "error.iin.not_digits"),
        ("901301300126", "error.iin.birth_date"),
        ("900101900126", "error.iin.century_sex"),
        ("900101300127", "error.iin.checksum"),
    ] {
        let mut body = registration(iin);
        body["iin"] = iin.into();
        let response = app
            .send(Method::POST, "/api/accounts", Some(body), None)
            .await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{iin}");
        assert_eq!(response.json()["fields"][0]["code"], code, "{iin}");
    }
}

#[tokio::test]
async fn common_passwords_and_the_iin_as_password_are_refused() {
    let app = TestApp::spawn().await;
    let iin = next_iin();
    for (password, code) in [
        ("qwertyuiop", "error.password.common"),
        ("Password1", "error.password.common"),
        (&format!("x{iin}"), "error.password.contains_iin"),
    ] {
        let mut body = registration(&iin);
        body["password"] = password.into();
        let response = app
            .send(Method::POST, "/api/accounts", Some(body), None)
            .await;
        assert_eq!(
            response.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{password}"
        );
        assert_eq!(response.json()["fields"][0]["code"], code, "{password}");
    }
}

#[tokio::test]
async fn an_iin_registers_once() {
    let app = TestApp::spawn().await;
    let iin = next_iin();
    assert_eq!(
        app.send(
            Method::POST,
            "/api/accounts",
            Some(registration(&iin)),
            None
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let again = app
        .send(
            Method::POST,
            "/api/accounts",
            Some(registration(&iin)),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["code"], "error.register.exists");
}

#[tokio::test]
async fn a_registration_cannot_choose_its_role() {
    let app = TestApp::spawn().await;
    let mut body = registration(&next_iin());
    body["role"] = "administrator".into();
    let response = app
        .send(Method::POST, "/api/accounts", Some(body), None)
        .await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.json()["code"], "error.bad_json");
}

#[tokio::test]
async fn registrations_per_address_are_limited() {
    let app = TestApp::with(&[
        ("PORTAL_REGISTRATIONS_PER_HOUR", "2"),
        ("PORTAL_TRUST_PROXY", "1"),
    ])
    .await;
    let from = |address: &'static str| move |iin: String| (iin, address);
    let send = |(iin, address): (String, &'static str)| {
        let app = &app;
        async move {
            let req = axum::http::Request::builder()
                .method(Method::POST)
                .uri("/api/accounts")
                .header("content-type", "application/json")
                .header("x-forwarded-for", address)
                .body(axum::body::Body::from(registration(&iin).to_string()))
                .unwrap();
            tower::ServiceExt::oneshot(app.router.clone(), req)
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(
        send(from("10.0.0.1")(next_iin())).await,
        StatusCode::CREATED
    );
    assert_eq!(
        send(from("10.0.0.1")(next_iin())).await,
        StatusCode::CREATED
    );
    assert_eq!(
        send(from("10.0.0.1")(next_iin())).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        send(from("10.0.0.2")(next_iin())).await,
        StatusCode::CREATED,
        "another address is not affected"
    );
}

#[tokio::test]
async fn sign_in_succeeds_and_rotates_the_session_id() {
    let app = TestApp::spawn().await;
    let first = app.citizen().await;
    let response = app
        .send(
            Method::POST,
            "/api/session",
            Some(json!({"iin": first.iin, "password": "Көктем-жаңбыры-7"})),
            Some(&first),
        )
        .await;
    assert_eq!(response.status, StatusCode::OK);
    let second = Session::from_response(&response, &first.iin);
    assert_ne!(
        second.cookie, first.cookie,
        "a new session id on every sign-in"
    );
    assert_ne!(second.csrf, first.csrf);
    assert_eq!(
        app.get_as("/api/session", &first).await.status,
        StatusCode::UNAUTHORIZED,
        "the previous session ended"
    );
    assert_eq!(
        app.get_as("/api/session", &second).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn unknown_iin_and_wrong_password_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let citizen = app.citizen().await;
    let wrong_password = app
        .send(
            Method::POST,
            "/api/session",
            Some(json!({"iin": citizen.iin, "password": "not the password"})),
            None,
        )
        .await;
    let unknown_iin = app
        .send(
            Method::POST,
            "/api/session",
            Some(json!({"iin": next_iin(), "password": "not the password"})),
            None,
        )
        .await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown_iin.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.body, unknown_iin.body);
    assert_eq!(wrong_password.json()["code"], "error.login.invalid");
    assert!(wrong_password.header("set-cookie").is_none());
}

#[tokio::test]
async fn ten_failures_lock_the_iin_for_an_hour_even_for_the_right_password() {
    let app = TestApp::spawn().await;
    let citizen = app.citizen().await;
    for attempt in 1..=10 {
        let r = app
            .send(
                Method::POST,
                "/api/session",
                Some(json!({"iin": citizen.iin, "password": "guess"})),
                None,
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let locked = app
        .send(
            Method::POST,
            "/api/session?lang=en",
            Some(json!({"iin": citizen.iin, "password": "Көктем-жаңбыры-7"})),
            None,
        )
        .await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(locked.json()["code"], "error.login.locked");
    let retry: u32 = locked.header("retry-after").unwrap().parse().unwrap();
    assert!((3500..=3601).contains(&retry), "{retry}");
    assert_eq!(locked.json()["retry_after_seconds"], retry);

    let unknown = next_iin();
    for _ in 1..=10 {
        app.send(
            Method::POST,
            "/api/session",
            Some(json!({"iin": unknown, "password": "guess"})),
            None,
        )
        .await;
    }
    let unknown_locked = app
        .send(
            Method::POST,
            "/api/session",
            Some(json!({"iin": unknown, "password": "guess"})),
            None,
        )
        .await;
    assert_eq!(
        unknown_locked.status,
        StatusCode::TOO_MANY_REQUESTS,
        "an unknown IIN locks the same way: no enumeration"
    );

    let other = app.citizen().await;
    let fine = app
        .send(
            Method::POST,
            "/api/session",
            Some(json!({"iin": other.iin, "password": "Көктем-жаңбыры-7"})),
            None,
        )
        .await;
    assert_eq!(
        fine.status,
        StatusCode::OK,
        "other accounts are not affected"
    );
}

#[tokio::test]
async fn failures_from_one_address_are_limited_across_iins() {
    let app = TestApp::with(&[("PORTAL_TRUST_PROXY", "1")]).await;
    let attempt = |iin: String| {
        let app = &app;
        async move {
            let req = axum::http::Request::builder()
                .method(Method::POST)
                .uri("/api/session")
                .header("content-type", "application/json")
                .header("x-forwarded-for", "192.0.2.7")
                .body(axum::body::Body::from(
                    json!({"iin": iin, "password": "guess"}).to_string(),
                ))
                .unwrap();
            tower::ServiceExt::oneshot(app.router.clone(), req)
                .await
                .unwrap()
                .status()
        }
    };
    for _ in 0..50 {
        assert_eq!(attempt(next_iin()).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(attempt(next_iin()).await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn sign_out_ends_the_session() {
    let app = TestApp::spawn().await;
    let session = app.citizen().await;
    let out = app
        .send(Method::DELETE, "/api/session", None, Some(&session))
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.header("set-cookie").unwrap().contains("Max-Age=0"));
    let after = app.get_as("/api/session", &session).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.json()["code"], "error.session_expired");
}

#[tokio::test]
async fn sign_out_everywhere_ends_every_session_of_the_account() {
    let app = TestApp::spawn().await;
    let phone = app.citizen().await;
    let laptop = app.sign_in(&phone.iin, "Көктем-жаңбыры-7").await;
    let stranger = app.citizen().await;
    assert_eq!(
        app.send(Method::DELETE, "/api/sessions", None, Some(&laptop))
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get_as("/api/session", &phone).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_as("/api/session", &laptop).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get_as("/api/session", &stranger).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn an_idle_session_expires_and_says_so() {
    let app = TestApp::spawn().await;
    let session = app.citizen().await;
    portal_server::on_db!(&app.state.db, |pool| sqlx::query(
        "UPDATE sessions SET idle_expires_at = 0"
    )
    .execute(pool)
    .await
    .map(drop))
    .unwrap();
    let response = app.get_as("/api/session", &session).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED);
    assert_eq!(response.json()["code"], "error.session_expired");
    let count: (i64,) = portal_server::on_db!(&app.state.db, |pool| sqlx::query_as(
        "SELECT COUNT(*) FROM sessions"
    )
    .fetch_one(pool)
    .await)
    .unwrap();
    assert_eq!(count.0, 0, "the ended session is removed");
}

#[tokio::test]
async fn authenticated_responses_say_how_long_the_session_has_left() {
    let app = TestApp::spawn().await;
    let session = app.citizen().await;
    let seen = app.get_as("/api/profile", &session).await;
    let left: u32 = seen
        .header("x-session-expires-in")
        .expect("the header on an authenticated answer")
        .parse()
        .unwrap();
    assert!((1195..=1200).contains(&left), "{left}");
    assert!(
        app.get("/api/health")
            .await
            .header("x-session-expires-in")
            .is_none(),
        "a public answer extends nothing"
    );
}

#[tokio::test]
async fn extending_pushes_the_idle_deadline() {
    let app = TestApp::with(&[("PORTAL_SESSION_IDLE_MINUTES", "5")]).await;
    let session = app.citizen().await;
    portal_server::on_db!(&app.state.db, |pool| sqlx::query(
        "UPDATE sessions SET idle_expires_at = idle_expires_at - 240000"
    )
    .execute(pool)
    .await
    .map(drop))
    .unwrap();
    let before = app.get_as("/api/session", &session).await.json()["expires_in_seconds"]
        .as_u64()
        .unwrap();
    assert!(before <= 61, "{before}");
    let extended = app
        .send(Method::POST, "/api/session/extend", None, Some(&session))
        .await;
    assert_eq!(extended.status, StatusCode::OK);
    assert!(extended.json()["expires_in_seconds"].as_u64().unwrap() >= 299);
}

#[tokio::test]
async fn a_request_after_a_quiet_while_moves_the_idle_deadline_on_and_stores_it() {
    let app = TestApp::with(&[("PORTAL_SESSION_IDLE_MINUTES", "5")]).await;
    let session = app.citizen().await;
    // A minute of quiet: a minute left of five.
    portal_server::on_db!(&app.state.db, |pool| sqlx::query(
        "UPDATE sessions SET last_seen_at = last_seen_at - 60000, idle_expires_at = idle_expires_at - 240000"
    )
    .execute(pool)
    .await
    .map(drop))
    .unwrap();
    let seen = app.get_as("/api/profile", &session).await;
    let left: u32 = seen
        .header("x-session-expires-in")
        .unwrap()
        .parse()
        .unwrap();
    assert!(left >= 299, "the answer counts from now: {left}");
    // The request does not wait for the stored deadline; it lands soon after.
    let stored_left = || async {
        let (idle,): (i64,) = portal_server::on_db!(&app.state.db, |pool| sqlx::query_as(
            "SELECT idle_expires_at FROM sessions"
        )
        .fetch_one(pool)
        .await)
        .unwrap();
        idle - portal_server::db::now_millis()
    };
    let mut waited = 0;
    while stored_left().await < 290_000 {
        assert!(waited < 500, "the extension was never stored");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        waited += 1;
    }
}

#[tokio::test]
async fn state_changing_requests_need_the_sessions_csrf_token() {
    let app = TestApp::spawn().await;
    let session = app.citizen().await;
    let mut forged = session.clone();
    forged.csrf = "0".repeat(64);
    let refused = app
        .send(Method::POST, "/api/session/extend", None, Some(&forged))
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(refused.json()["code"], "error.csrf");
    let mut missing = session.clone();
    missing.csrf = String::new();
    assert_eq!(
        app.send(Method::DELETE, "/api/session", None, Some(&missing))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get_as("/api/session", &session).await.status,
        StatusCode::OK,
        "the session survived the forged requests"
    );
    assert_eq!(
        app.send(Method::POST, "/api/session/extend", None, Some(&session))
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn cross_site_requests_are_refused_even_without_a_session() {
    let app = TestApp::spawn().await;
    let citizen = app.citizen().await;
    let body = json!({"iin": citizen.iin, "password": "Көктем-жаңбыры-7"}).to_string();
    for (name, value) in [
        ("sec-fetch-site", "cross-site"),
        ("origin", "https://evil.example"),
    ] {
        let req = axum::http::Request::builder()
            .method(Method::POST)
            .uri("/api/session")
            .header("content-type", "application/json")
            .header("host", "portal.test")
            .header(name, value)
            .body(axum::body::Body::from(body.clone()))
            .unwrap();
        let response = tower::ServiceExt::oneshot(app.router.clone(), req)
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{name}: {value}");
    }
    let same = axum::http::Request::builder()
        .method(Method::POST)
        .uri("/api/session")
        .header("content-type", "application/json")
        .header("host", "portal.test")
        .header("origin", "http://portal.test")
        .header("sec-fetch-site", "same-origin")
        .body(axum::body::Body::from(body))
        .unwrap();
    assert_eq!(
        tower::ServiceExt::oneshot(app.router.clone(), same)
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let app = TestApp::spawn().await;
    for path in [
        "/api/health",
        "/api/services",
        "/api/no-such",
        "/services",
        "/portal-web-1a2b3c4d5e6f7a8b_bg.wasm",
    ] {
        let response = app.get(path).await;
        let csp = response
            .header("content-security-policy")
            .unwrap_or_else(|| panic!("no CSP on {path}"));
        assert!(
            csp.contains("script-src 'self' 'wasm-unsafe-eval' 'sha256-"),
            "{path}: {csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
        assert!(!csp.contains("unsafe-inline"), "{path}");
        assert_eq!(
            response.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            response.header("referrer-policy"),
            Some("strict-origin-when-cross-origin"),
            "{path}"
        );
        assert!(
            response.header("strict-transport-security").is_none(),
            "no HSTS over plain http"
        );
    }
}

#[tokio::test]
async fn behind_https_cookies_are_secure_and_hsts_is_sent() {
    let app = TestApp::with(&[("PORTAL_PUBLIC_URL", "https://portal.example.kz")]).await;
    let response = app
        .send(
            Method::POST,
            "/api/accounts",
            Some(registration(&next_iin())),
            None,
        )
        .await;
    let cookie = response.header("set-cookie").unwrap();
    assert!(
        cookie.starts_with("__Host-portal_session=") && cookie.contains("; Secure"),
        "{cookie}"
    );
    assert_eq!(
        response.header("strict-transport-security"),
        Some("max-age=31536000; includeSubDomains")
    );
}

#[tokio::test]
async fn the_profile_shows_and_changes_contact_details() {
    let app = TestApp::spawn().await;
    let session = app.citizen().await;
    let profile = app.get_as("/api/profile", &session).await.json();
    assert_eq!(profile["email"], "saule@example.com");
    assert_eq!(profile["notifications"]["email"], true);
    let update = json!({"email": "", "phone": "8 701 555 12 34", "preferred_lang": "kk", "notifications": {"email": false, "browser": true}});
    let changed = app
        .send(Method::PUT, "/api/profile", Some(update), Some(&session))
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text());
    let body = changed.json();
    assert_eq!(body["phone"], "+77015551234");
    assert!(body["email"].is_null());
    assert_eq!(body["user"]["preferred_lang"], "kk");
    assert_eq!(body["notifications"]["browser"], true);

    let no_address = json!({"email": "", "phone": "87015551234", "preferred_lang": "kk", "notifications": {"email": true, "browser": false}});
    let refused = app
        .send(
            Method::PUT,
            "/api/profile",
            Some(no_address),
            Some(&session),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(refused.json()["fields"][0]["field"], "notifications.email");
}

#[tokio::test]
async fn notifications_are_private_to_their_user() {
    let app = TestApp::spawn().await;
    let alice = app.citizen().await;
    let bob = app.citizen().await;
    let text = portal_domain::text::Text {
        kk: "Хабар".into(),
        ru: "Сообщение".into(),
        en: "Message".into(),
    };
    let id = portal_server::notifications::deliver(
        &app.state,
        &alice.user_id,
        &text,
        &text,
        Some("/cabinet"),
    )
    .await
    .unwrap();
    let alices = app.get_as("/api/notifications", &alice).await.json();
    assert_eq!(alices.as_array().unwrap().len(), 1);
    assert_eq!(alices[0]["read"], false);
    assert_eq!(
        app.get_as("/api/notifications", &bob)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    let bobs_try = app
        .send(
            Method::POST,
            &format!("/api/notifications/{id}/read"),
            None,
            Some(&bob),
        )
        .await;
    assert_eq!(
        bobs_try.status,
        StatusCode::NOT_FOUND,
        "another user's notification does not exist for them"
    );
    assert_eq!(
        app.send(
            Method::POST,
            &format!("/api/notifications/{id}/read"),
            None,
            Some(&alice)
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get_as("/api/notifications", &alice).await.json()[0]["read"],
        true
    );
}
