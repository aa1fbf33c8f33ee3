use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{
    DEMO_ADMIN, DEMO_CITIZEN, DEMO_OFFICER_SCHOOL_201, Session, TestApp, next_iin,
};

fn organisation(id: &str, kind: &str) -> serde_json::Value {
    let text = |s: &str| json!({"kk": format!("{s} (kk)"), "ru": format!("{s} (ru)"), "en": s});
    let day =
        json!({"open": "09:00", "close": "18:00", "break_start": "13:00", "break_end": "14:00"});
    json!({
        "id": id,
        "kind": kind,
        "name": text("School No. 999"),
        "address": text("1 Test Street, Almaty"),
        "phone": "+7 727 000 00 00",
        "hours": {"days": [day, day, day, day, day, null, null]},
        "pickup_place": true,
        "territory": [text("Test Street")]
    })
}

fn officer(iin: &str, organisation_id: &str) -> serde_json::Value {
    json!({
        "iin": iin, "last_name": "Оразова", "first_name": "Дина", "organisation_id": organisation_id,
        "password": "Officer-first-pass-1"
    })
}

async fn demo() -> (TestApp, Session) {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    let admin = app.sign_in(DEMO_ADMIN.0, DEMO_ADMIN.1).await;
    (app, admin)
}

#[tokio::test]
async fn the_demo_world_is_seeded_once_and_every_identity_signs_in() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    let again = portal_server::demo::seed(&app.state.db, &app.state.config.demo_dir)
        .await
        .unwrap();
    assert_eq!(
        again,
        portal_server::demo::Seeded::default(),
        "a second seeding changes nothing"
    );
    let people = portal_server::demo::read_identities(&app.state.config.demo_dir).unwrap();
    assert!(people.len() >= 10);
    for person in people {
        let session = app.sign_in(&person.iin, &person.password).await;
        let info = app.get_as("/api/session", &session).await.json();
        assert_eq!(info["user"]["role"], person.role.code(), "{}", person.iin);
        assert_eq!(info["user"]["demo"], true);
        if let Some(org) = &person.organisation_id {
            assert_eq!(info["user"]["organisation"]["id"], org.as_str());
        }
    }
    let health = app.get("/api/health").await.json();
    assert_eq!(health["demo"], true);
}

#[tokio::test]
async fn an_administrator_adds_an_organisation_and_its_officer_who_then_signs_in() {
    let (app, admin) = demo().await;
    let created = app
        .send(
            Method::POST,
            "/api/admin/organisations",
            Some(organisation("almaty-school-999", "school")),
            Some(&admin),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["provider"], true);
    let list = app.get_as("/api/admin/organisations", &admin).await.json();
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|o| o["id"] == "almaty-school-999")
    );

    let iin = next_iin();
    let added = app
        .send(
            Method::POST,
            "/api/admin/officers",
            Some(officer(&iin, "almaty-school-999")),
            Some(&admin),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
    assert_eq!(added.json()["organisation"]["id"], "almaty-school-999");

    let new_officer = app.sign_in(&iin, "Officer-first-pass-1").await;
    let workspace = app.get_as("/api/workspace", &new_officer).await;
    assert_eq!(workspace.status, StatusCode::OK);
    assert_eq!(workspace.json()["id"], "almaty-school-999");
}

#[tokio::test]
async fn organisations_are_validated() {
    let (app, admin) = demo().await;
    let mut bad = organisation("Bad Id!", "school");
    bad["hours"]["days"][0]["close"] = "08:00".into();
    bad["name"]["kk"] = "".into();
    let response = app
        .send(
            Method::POST,
            "/api/admin/organisations",
            Some(bad),
            Some(&admin),
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = response.json()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, vec!["id", "name.kk", "hours"]);
    let mut office = organisation("almaty-office-1", "city_education_department");
    office["first_grade_places"] = json!(30);
    let not_a_school = app
        .send(
            Method::POST,
            "/api/admin/organisations?lang=en",
            Some(office),
            Some(&admin),
        )
        .await;
    assert_eq!(
        not_a_school.json()["fields"][0]["message"],
        "Only a school has first-grade places: a whole number from 1 to 2000."
    );
    let mut school = organisation("almaty-school-888", "school");
    school["first_grade_places"] = json!(120);
    let created = app
        .send(
            Method::POST,
            "/api/admin/organisations",
            Some(school),
            Some(&admin),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    assert_eq!(created.json()["first_grade_places"], 120);
    let duplicate = app
        .send(
            Method::POST,
            "/api/admin/organisations",
            Some(organisation("almaty-school-201", "school")),
            Some(&admin),
        )
        .await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    let unknown_kind = app
        .send(
            Method::POST,
            "/api/admin/organisations",
            Some(organisation("x-1", "zoo")),
            Some(&admin),
        )
        .await;
    assert_eq!(unknown_kind.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_administrator_sets_how_many_people_a_pickup_slot_serves() {
    let (app, admin) = demo().await;
    let set = |id: &str, body: serde_json::Value| {
        let (app, admin, uri) = (
            &app,
            &admin,
            format!("/api/admin/organisations/{id}/slot-capacity?lang=en"),
        );
        async move { app.send(Method::PUT, &uri, Some(body), Some(admin)).await }
    };
    let listed = |orgs: serde_json::Value| {
        orgs.as_array()
            .unwrap()
            .iter()
            .find(|o| o["id"] == "almaty-school-201")
            .unwrap()["slot_capacity"]
            .clone()
    };
    assert_eq!(
        listed(app.get_as("/api/admin/organisations", &admin).await.json()),
        2,
        "the default"
    );
    let saved = set("almaty-school-201", json!({"capacity": 5})).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    assert_eq!(saved.json()["slot_capacity"], 5);
    assert_eq!(
        listed(app.get_as("/api/admin/organisations", &admin).await.json()),
        5
    );
    let capacity: i64 = portal_server::on_db!(&app.state.db, |pool| sqlx::query_scalar(
        "SELECT slot_capacity FROM organisations WHERE id = 'almaty-school-201'"
    )
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(capacity, 5, "kept in the database");
    for bad in [0, 51] {
        let refused = set("almaty-school-201", json!({"capacity": bad})).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(refused.json()["fields"][0]["field"], "capacity");
        assert_eq!(
            refused.json()["fields"][0]["message"],
            "Enter a whole number from 1 to 50."
        );
    }
    assert_eq!(
        set("almaty-school-201", json!({"capacity": "many"}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        set("no-such-place", json!({"capacity": 3})).await.status,
        StatusCode::NOT_FOUND
    );
    let mut office = organisation("back-office-1", "school");
    office["pickup_place"] = json!(false);
    assert_eq!(
        app.send(
            Method::POST,
            "/api/admin/organisations",
            Some(office),
            Some(&admin)
        )
        .await
        .status,
        StatusCode::CREATED
    );
    let not_a_place = set("back-office-1", json!({"capacity": 3})).await;
    assert_eq!(
        not_a_place.json()["fields"][0]["code"],
        "error.organisation.not_pickup_place"
    );
}

#[tokio::test]
async fn officers_belong_to_a_provider_that_exists() {
    let (app, admin) = demo().await;
    let unknown = app
        .send(
            Method::POST,
            "/api/admin/officers",
            Some(officer(&next_iin(), "no-such-org")),
            Some(&admin),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        unknown.json()["fields"][0]["code"],
        "error.organisation.unknown"
    );
    let not_provider = app
        .send(
            Method::POST,
            "/api/admin/officers",
            Some(officer(&next_iin(), "gov4c-aktau")),
            Some(&admin),
        )
        .await;
    assert_eq!(
        not_provider.json()["fields"][0]["code"],
        "error.organisation.not_provider"
    );
    let taken = app
        .send(
            Method::POST,
            "/api/admin/officers",
            Some(officer(DEMO_CITIZEN.0, "almaty-school-201")),
            Some(&admin),
        )
        .await;
    assert_eq!(taken.status, StatusCode::CONFLICT);
}

/// Who may call what. Every documented operation must be listed here, so a new endpoint
/// cannot appear without its access rule being tested.
const ACCESS: &[(&str, &str, Access)] = &[
    ("GET", "/api/health", Access::Public),
    ("GET", "/api/openapi.json", Access::Public),
    ("GET", "/api/services", Access::Public),
    ("GET", "/api/services/{id}", Access::Public),
    ("POST", "/api/accounts", Access::Public),
    ("POST", "/api/session", Access::Public),
    ("POST", "/api/session/eds-challenge", Access::Public),
    ("POST", "/api/session/eds", Access::Public),
    ("POST", "/api/signatures/verification", Access::Public),
    ("GET", "/api/session", Access::AnyUser),
    ("DELETE", "/api/session", Access::AnyUser),
    ("POST", "/api/session/extend", Access::AnyUser),
    ("DELETE", "/api/sessions", Access::AnyUser),
    ("GET", "/api/profile", Access::AnyUser),
    ("PUT", "/api/profile", Access::AnyUser),
    ("GET", "/api/notifications", Access::AnyUser),
    ("POST", "/api/notifications/{id}/read", Access::AnyUser),
    ("POST", "/api/notifications/read", Access::AnyUser),
    ("GET", "/api/workspace", Access::Only("officer")),
    (
        "GET",
        "/api/admin/organisations",
        Access::Only("administrator"),
    ),
    (
        "POST",
        "/api/admin/organisations",
        Access::Only("administrator"),
    ),
    ("GET", "/api/admin/officers", Access::Only("administrator")),
    ("POST", "/api/admin/officers", Access::Only("administrator")),
    (
        "PUT",
        "/api/admin/organisations/{id}/slot-capacity",
        Access::Only("administrator"),
    ),
    (
        "PUT",
        "/api/admin/organisations/{id}/first-grade",
        Access::Only("administrator"),
    ),
    (
        "POST",
        "/api/workspace/applications/{id}/files",
        Access::Only("officer"),
    ),
    (
        "GET",
        "/api/workspace/applications/{id}/files/{file_id}",
        Access::Only("officer"),
    ),
    (
        "GET",
        "/api/applications/{id}/files/{file_id}",
        Access::Only("citizen"),
    ),
    ("GET", "/api/providers", Access::Public),
    ("GET", "/api/verify/{code}", Access::Public),
    ("GET", "/api/first-grade/window", Access::Public),
    ("GET", "/api/population/children", Access::Only("citizen")),
    (
        "POST",
        "/api/workspace/first-grade/enrolment",
        Access::Only("officer"),
    ),
    (
        "POST",
        "/api/applications/{id}/scheduled-submission",
        Access::Only("citizen"),
    ),
    (
        "DELETE",
        "/api/applications/{id}/scheduled-submission",
        Access::Only("citizen"),
    ),
    (
        "GET",
        "/api/admin/first-grade/{year}",
        Access::Only("administrator"),
    ),
    (
        "PUT",
        "/api/admin/first-grade/{year}",
        Access::Only("administrator"),
    ),
    ("GET", "/api/applications", Access::Only("citizen")),
    ("POST", "/api/applications", Access::Only("citizen")),
    ("GET", "/api/applications/{id}", Access::Only("citizen")),
    ("PUT", "/api/applications/{id}", Access::Only("citizen")),
    ("DELETE", "/api/applications/{id}", Access::Only("citizen")),
    (
        "POST",
        "/api/applications/{id}/submission",
        Access::Only("citizen"),
    ),
    (
        "POST",
        "/api/applications/{id}/signing",
        Access::Only("citizen"),
    ),
    (
        "GET",
        "/api/applications/{id}/receipt",
        Access::Only("citizen"),
    ),
    (
        "GET",
        "/api/applications/{id}/signature",
        Access::Only("citizen"),
    ),
    (
        "GET",
        "/api/applications/{id}/signed-document",
        Access::Only("citizen"),
    ),
    (
        "GET",
        "/api/workspace/applications/{id}/signature",
        Access::Only("officer"),
    ),
    (
        "GET",
        "/api/workspace/applications/{id}/signed-document",
        Access::Only("officer"),
    ),
    (
        "POST",
        "/api/applications/{id}/attachments",
        Access::Only("citizen"),
    ),
    (
        "GET",
        "/api/applications/{id}/attachments/{attachment_id}",
        Access::Only("citizen"),
    ),
    (
        "DELETE",
        "/api/applications/{id}/attachments/{attachment_id}",
        Access::Only("citizen"),
    ),
    (
        "PATCH",
        "/api/applications/{id}/attachments/{attachment_id}/content",
        Access::Only("citizen"),
    ),
    (
        "GET",
        "/api/applications/{id}/attachments/{attachment_id}/content",
        Access::Only("citizen"),
    ),
    (
        "GET",
        "/api/workspace/applications/{id}/attachments/{attachment_id}/content",
        Access::Only("officer"),
    ),
    ("GET", "/api/notifications/stream", Access::AnyUser),
    (
        "GET",
        "/api/workspace/applications",
        Access::Only("officer"),
    ),
    (
        "GET",
        "/api/workspace/applications/{id}",
        Access::Only("officer"),
    ),
    (
        "POST",
        "/api/workspace/applications/{id}/actions",
        Access::Only("officer"),
    ),
    (
        "GET",
        "/api/workspace/applications/{id}/slots",
        Access::Only("officer"),
    ),
    (
        "GET",
        "/api/workspace/applications/{id}/result",
        Access::Only("officer"),
    ),
    (
        "GET",
        "/api/applications/{id}/progress",
        Access::Only("citizen"),
    ),
    (
        "POST",
        "/api/applications/{id}/withdrawal",
        Access::Only("citizen"),
    ),
    (
        "GET",
        "/api/applications/{id}/pickup/slots",
        Access::Only("citizen"),
    ),
    (
        "PUT",
        "/api/applications/{id}/pickup",
        Access::Only("citizen"),
    ),
    (
        "GET",
        "/api/applications/{id}/pickup.ics",
        Access::Only("citizen"),
    ),
    (
        "GET",
        "/api/applications/{id}/result",
        Access::Only("citizen"),
    ),
    (
        "GET",
        "/api/applications/{id}/result/signature",
        Access::Only("citizen"),
    ),
    (
        "GET",
        "/api/admin/calendar/{year}",
        Access::Only("administrator"),
    ),
    (
        "PUT",
        "/api/admin/calendar/{year}",
        Access::Only("administrator"),
    ),
];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Access {
    Public,
    AnyUser,
    Only(&'static str),
}

#[tokio::test]
async fn every_operation_has_an_access_rule_and_keeps_it() {
    let (app, admin) = demo().await;
    let doc = app.get("/api/openapi.json").await.json();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    for (method, path) in &documented {
        assert!(
            ACCESS.iter().any(|(m, p, _)| m == method && p == path),
            "{method} {path} has no access rule in ACCESS"
        );
    }
    assert_eq!(
        documented.len(),
        ACCESS.len(),
        "ACCESS lists operations that are not documented"
    );

    drop(admin);
    let roles = [
        ("citizen", DEMO_CITIZEN),
        ("officer", DEMO_OFFICER_SCHOOL_201),
        ("administrator", DEMO_ADMIN),
    ];
    for (method, path, access) in ACCESS {
        let concrete = path
            .replace("{id}", "0123456789abcdef0123456789abcdef")
            .replace("{attachment_id}", "fedcba9876543210fedcba9876543210")
            .replace("{code}", "00112233445566778899aabbccddeeff")
            .replace("{year}", "2026");
        let method: Method = method.parse().unwrap();
        let body = matches!(method, Method::POST | Method::PUT).then(|| json!({}));
        if *access == Access::Public {
            continue;
        }
        let anonymous = app
            .send(method.clone(), &concrete, body.clone(), None)
            .await;
        assert_eq!(
            anonymous.status,
            StatusCode::UNAUTHORIZED,
            "anonymous {method} {path}"
        );
        for (role, (iin, password)) in roles {
            // A fresh session each time: some operations (signing out) end the one they use.
            let session = app.sign_in(iin, password).await;
            // An event stream never ends: only its status is read.
            let response = if path.ends_with("/stream") {
                app.status_of(method.clone(), &concrete, Some(&session))
                    .await
            } else {
                app.send(method.clone(), &concrete, body.clone(), Some(&session))
                    .await
            };
            let allowed = match access {
                Access::AnyUser => true,
                Access::Only(r) => *r == role,
                Access::Public => unreachable!(),
            };
            if allowed {
                assert_ne!(
                    response.status,
                    StatusCode::FORBIDDEN,
                    "{role} {method} {path}: {}",
                    response.text()
                );
                assert_ne!(
                    response.status,
                    StatusCode::UNAUTHORIZED,
                    "{role} {method} {path}"
                );
            } else {
                assert_eq!(
                    response.status,
                    StatusCode::FORBIDDEN,
                    "{role} {method} {path} must be refused"
                );
                assert_eq!(response.json()["code"], "error.forbidden");
            }
        }
    }
}

#[test]
fn the_readme_lists_every_demo_sign_in() {
    let readme = std::fs::read_to_string(crate::helpers::repo_root().join("README.md")).unwrap();
    let people =
        portal_server::demo::read_identities(&crate::helpers::repo_root().join("demo")).unwrap();
    for p in people {
        let row = format!("| {} | `{}` | `{}` |", p.role.code(), p.iin, p.password);
        assert!(
            readme.contains(&row),
            "README.md lacks the demo sign-in {row}"
        );
    }
}
