//! First grade through the API: the window, the age rule from the child's IIN, and one
//! application per child across all schools, also when two are sent at the same instant.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::applications::{enrolment_answers, ready_enrolment};
use crate::helpers::{Session, TestApp, TestResponse, iin_born};
use portal_domain::calendar::local_day_and_minute;

fn with_child(iin: &str) -> Value {
    let mut answers = enrolment_answers();
    answers["subject_iin"] = json!(iin);
    answers
}

fn problem(response: &TestResponse) -> (String, String, String) {
    let body = response.json();
    let field = &body["fields"][0];
    (
        field["field"].as_str().unwrap_or_default().to_string(),
        field["code"].as_str().unwrap_or_default().to_string(),
        field["message"].as_str().unwrap_or_default().to_string(),
    )
}

async fn status_of(app: &TestApp, who: &Session, id: &str) -> Value {
    app.get_as(&format!("/api/applications/{id}"), who)
        .await
        .json()["status"]
        .clone()
}

/// An IIN of a child born on `year`-01-15 (a girl, so the century digit is 6).
fn child_born(year: i32) -> String {
    assert!(year >= 2000);
    iin_born(&format!("{:02}01156", year - 2000))
}

fn this_year() -> i32 {
    local_day_and_minute(portal_server::db::now_millis())
        .0
        .year()
}

#[tokio::test]
async fn before_the_window_opens_the_application_waits_signed_and_unsent() {
    // A one-day window tomorrow: today it is not open yet.
    let tomorrow = local_day_and_minute(portal_server::db::now_millis())
        .0
        .add_days(1);
    let day = format!("{:02}-{:02}", tomorrow.month(), tomorrow.day());
    let window = format!("{day}..{day}");
    let app = TestApp::with(&[("PORTAL_DEMO", "1"), ("PORTAL_FIRST_GRADE_WINDOW", &window)]).await;
    let parent = app.citizen().await;
    let (id, version) = ready_enrolment(&app, &parent, enrolment_answers()).await;
    let sent = app.sign_and_submit(&parent, &id, version).await;
    assert_eq!(
        sent.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        sent.text()
    );
    let (field, code, message) = problem(&sent);
    assert_eq!(
        (field.as_str(), code.as_str()),
        ("grade", "error.first_grade.not_open")
    );
    let opens = format!(
        "{:02}.{:02}.{} 00:00",
        tomorrow.day(),
        tomorrow.month(),
        tomorrow.year()
    );
    assert!(
        message.contains(&opens),
        "the opening moment is named: {message}"
    );
    assert_eq!(
        status_of(&app, &parent, &id).await,
        "draft",
        "the draft is kept"
    );
}

#[tokio::test]
async fn the_child_must_be_of_first_grade_age() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    let parent = app.citizen().await;
    let year = this_year();

    let (young, v) = ready_enrolment(&app, &parent, with_child(&child_born(year - 5))).await;
    let refused = app.sign_and_submit(&parent, &young, v).await;
    let (field, code, message) = problem(&refused);
    assert_eq!(
        (field.as_str(), code.as_str()),
        ("subject_iin", "error.first_grade.too_young")
    );
    assert!(message.contains(&(year + 1).to_string()), "{message}");

    let (old, v) = ready_enrolment(&app, &parent, with_child(&child_born(year - 9))).await;
    let refused = app.sign_and_submit(&parent, &old, v).await;
    let (field, code, message) = problem(&refused);
    assert_eq!(
        (field.as_str(), code.as_str()),
        ("subject_iin", "error.first_grade.too_old")
    );
    assert!(message.contains('9'), "{message}");

    // The same older child may apply for another class: the first-grade rules do not apply.
    let mut answers = with_child(&child_born(year - 9));
    answers["grade"] = json!("3");
    let (third, v) = ready_enrolment(&app, &parent, answers).await;
    assert_eq!(
        app.sign_and_submit(&parent, &third, v).await.status,
        StatusCode::CREATED
    );

    let (six, v) = ready_enrolment(&app, &parent, with_child(&child_born(year - 6))).await;
    assert_eq!(
        app.sign_and_submit(&parent, &six, v).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn one_first_grade_application_per_child_across_schools() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    let parent = app.citizen().await;
    let child = child_born(this_year() - 6);
    let (first, v) = ready_enrolment(&app, &parent, with_child(&child)).await;
    let sent = app.sign_and_submit(&parent, &first, v).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
    let number = sent.json()["submission"]["number"]
        .as_str()
        .unwrap()
        .to_string();

    // The other parent tries another school for the same child.
    let other_parent = app.citizen().await;
    let mut elsewhere = with_child(&child);
    elsewhere["school"] = json!("almaty-school-202");
    let (second, v) = ready_enrolment(&app, &other_parent, elsewhere).await;
    let refused = app.sign_and_submit(&other_parent, &second, v).await;
    let (field, code, message) = problem(&refused);
    assert_eq!(
        (field.as_str(), code.as_str()),
        ("subject_iin", "error.first_grade.duplicate")
    );
    assert!(
        message.contains(&number),
        "the existing application is named: {message}"
    );
    assert_eq!(status_of(&app, &other_parent, &second).await, "draft");

    // Once the first is withdrawn, the second can go.
    let withdrawn = app
        .send(
            Method::POST,
            &format!("/api/applications/{first}/withdrawal"),
            None,
            Some(&parent),
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.text());
    let version = app
        .get_as(&format!("/api/applications/{second}"), &other_parent)
        .await
        .json()["version"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.sign_and_submit(&other_parent, &second, version)
            .await
            .status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn two_applications_for_one_child_sent_at_the_same_instant_make_one() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    let child = child_born(this_year() - 7);
    const N: usize = 6;
    let mut ready = Vec::new();
    for _ in 0..N {
        let parent = app.citizen().await;
        let (id, version) = ready_enrolment(&app, &parent, with_child(&child)).await;
        let key = app.key_for(&parent.iin, portal_domain::eds::KeyPurpose::Signing);
        let signature = app.sign(&parent, &id, &key).await;
        ready.push((parent, id, version, signature));
    }
    let sends = ready
        .iter()
        .map(|(parent, id, version, signature)| app.submit(parent, id, *version, signature));
    let responses = futures_util::future::join_all(sends).await;
    let created = responses
        .iter()
        .filter(|r| r.status == StatusCode::CREATED)
        .count();
    let duplicates = responses
        .iter()
        .filter(|r| problem(r).1 == "error.first_grade.duplicate")
        .count();
    assert_eq!(
        (created, duplicates),
        (1, N - 1),
        "{:?}",
        responses
            .iter()
            .map(|r| (r.status, r.text()))
            .collect::<Vec<_>>()
    );
    let active: i64 = portal_server::on_db!(&app.state.db, |pool| sqlx::query_scalar(
        "SELECT COUNT(*) FROM applications WHERE first_grade_child = $1 AND status <> 'draft'"
    )
    .bind(&child)
    .fetch_one(pool)
    .await
    .unwrap());
    assert_eq!(active, 1);
    // The database itself refuses a second active one, whatever the code above it does.
    let forced = portal_server::on_db!(&app.state.db, |pool| {
        sqlx::query(
        "UPDATE applications SET status = 'submitted', first_grade_child = $1 WHERE first_grade_child IS NULL AND service_id = 'school-enrollment' AND status = 'draft'"
    )
    .bind(&child)
    .execute(pool)
    .await
    });
    assert!(
        forced
            .unwrap_err()
            .as_database_error()
            .is_some_and(|e| e.is_unique_violation()),
        "a unique index guards one application per child"
    );
}

#[tokio::test]
async fn each_application_shows_its_place_in_the_schools_queue() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    let mut sent = Vec::new();
    for school in [
        "almaty-school-201",
        "almaty-school-201",
        "almaty-school-202",
        "almaty-school-201",
    ] {
        let parent = app.citizen().await;
        let mut answers = with_child(&child_born(this_year() - 6));
        answers["school"] = json!(school);
        let (id, version) = ready_enrolment(&app, &parent, answers).await;
        let response = app.sign_and_submit(&parent, &id, version).await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        sent.push((parent, id));
    }
    let place = |i: usize| {
        let (parent, id) = &sent[i];
        let (app, parent, id) = (&app, parent.clone(), id.clone());
        async move {
            app.get_as(&format!("/api/applications/{id}"), &parent)
                .await
                .json()["submission"]["first_grade"]
                .clone()
        }
    };
    assert_eq!(
        place(0).await,
        json!({"school_year": this_year(), "position": 1, "places": 100})
    );
    assert_eq!(place(1).await["position"], 2);
    assert_eq!(
        place(2).await["position"],
        1,
        "another school has its own queue"
    );
    assert_eq!(place(2).await["places"], 75);
    assert_eq!(place(3).await["position"], 3);
    // The first withdraws: those after it move up; the order among them stays.
    let (parent, first) = &sent[0];
    let withdrawn = app
        .send(
            Method::POST,
            &format!("/api/applications/{first}/withdrawal"),
            None,
            Some(parent),
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::OK);
    assert_eq!(
        place(0).await,
        Value::Null,
        "a withdrawn application holds no place"
    );
    assert_eq!(place(1).await["position"], 1);
    assert_eq!(place(3).await["position"], 2);
}

#[tokio::test]
async fn administrators_set_the_window_to_the_minute_and_everyone_sees_it() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    let year = this_year();
    let public = app.get("/api/first-grade/window").await.json();
    assert_eq!(
        (&public["school_year"], &public["open"], &public["edited"]),
        (&json!(year), &json!(true), &json!(false)),
        "the demo's default: open all year"
    );
    let admin = app
        .sign_in(crate::helpers::DEMO_ADMIN.0, crate::helpers::DEMO_ADMIN.1)
        .await;
    let set = |body: Value| {
        let (app, admin, uri) = (
            &app,
            &admin,
            format!("/api/admin/first-grade/{year}?lang=en"),
        );
        async move { app.send(Method::PUT, &uri, Some(body), Some(admin)).await }
    };
    let now = portal_server::db::now_millis();
    let backwards = set(json!({"opens_at": now + 3_600_000, "closes_at": now})).await;
    let (field, _, message) = problem(&backwards);
    assert_eq!(field, "closes_at");
    assert_eq!(message, "The window must close after it opens.");
    assert_eq!(
        set(json!({"opens_at": now, "closes_at": now + 1, "extra": 1}))
            .await
            .status,
        StatusCode::BAD_REQUEST
    );
    // It opens in ten minutes: sending now is refused, naming that minute.
    let opens_at = now + 600_000;
    let saved = set(json!({"opens_at": opens_at, "closes_at": opens_at + 3_600_000})).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    assert_eq!(saved.json()["edited"], true);
    let public = app.get("/api/first-grade/window").await.json();
    assert_eq!(public["open"], false);
    assert_eq!(public["opens_at"], opens_at);
    let parent = app.citizen().await;
    let (id, version) = ready_enrolment(&app, &parent, enrolment_answers()).await;
    let refused = app.sign_and_submit(&parent, &id, version).await;
    let (field, code, message) = problem(&refused);
    assert_eq!(
        (field.as_str(), code.as_str()),
        ("grade", "error.first_grade.not_open")
    );
    assert!(
        message.contains(&portal_server::pdf::local_date_time(opens_at)),
        "{message}"
    );
    assert_eq!(
        app.get_as(&format!("/api/admin/first-grade/{year}"), &admin)
            .await
            .json()["opens_at"],
        opens_at
    );
    assert_eq!(
        app.get_as("/api/admin/first-grade/1999", &admin)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}
