//! First grade through the API: the window, the age rule from the child's IIN, and one
//! application per child across all schools, also when two are sent at the same instant.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::applications::{enrolment_answers, ready_enrolment};
use crate::helpers::{Session, TestApp, TestResponse, iin_born};
use portal_domain::calendar::local_day_and_minute;
use portal_domain::eds::KeyPurpose;

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
    .await.map(|r| r.rows_affected())
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
    // A submission's own answer counts its place the same way, at its commit.
    let parent = app.citizen().await;
    let mut answers = with_child(&child_born(this_year() - 6));
    answers["school"] = json!("almaty-school-201");
    let (id, version) = ready_enrolment(&app, &parent, answers).await;
    let response = app.sign_and_submit(&parent, &id, version).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
    let answered = response.json()["submission"]["first_grade"].clone();
    assert_eq!(
        answered,
        json!({"school_year": this_year(), "position": 3, "places": 100})
    );
    let read = app
        .get_as(&format!("/api/applications/{id}"), &parent)
        .await;
    assert_eq!(read.json()["submission"]["first_grade"], answered);
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

#[tokio::test]
async fn signed_drafts_are_sent_by_the_portal_at_the_opening_in_the_order_scheduled() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    let year = this_year();
    let twin = child_born(year - 6);
    // Five parents prepare and sign before the window opens: the last two for the same child.
    let mut ready = Vec::new();
    for child in [
        child_born(year - 6),
        child_born(year - 6),
        child_born(year - 7),
        twin.clone(),
        twin.clone(),
    ] {
        let parent = app.citizen().await;
        let (id, version) = ready_enrolment(&app, &parent, with_child(&child)).await;
        let key = app.key_for(&parent.iin, portal_domain::eds::KeyPurpose::Signing);
        let signature = app.sign(&parent, &id, &key).await;
        ready.push((parent, id, version, signature));
    }
    // Room for the scheduling below on a slow, busy machine.
    let opens_at = app
        .open_first_grade_window_at(portal_server::db::now_millis() + 20_000)
        .await;
    let schedule = |i: usize| {
        let (parent, id, version, signature) = ready[i].clone();
        let app = &app;
        async move {
            app.send(
                Method::POST,
                &format!("/api/applications/{id}/scheduled-submission?lang=en"),
                Some(json!({"version": version, "consent": true, "signature": signature})),
                Some(&parent),
            )
            .await
        }
    };
    for i in 0..5 {
        let scheduled = schedule(i).await;
        assert_eq!(
            scheduled.status,
            StatusCode::ACCEPTED,
            "{}",
            scheduled.text()
        );
        assert_eq!(scheduled.json()["scheduled_for"], opens_at);
        assert_eq!(scheduled.json()["status"], "draft");
    }
    // The check at scheduling is kept, so that the opening re-checks only what can change.
    let held: Vec<(String, bool)> = portal_server::on_db!(&app.state.db, |pool| sqlx::query_as(
        "SELECT application_id, held_document IS NOT NULL AND held_certificate IS NOT NULL
         FROM scheduled_submissions"
    )
    .fetch_all(pool)
    .await
    .unwrap());
    assert_eq!(held.len(), 5);
    assert!(held.iter().all(|(_, kept)| *kept), "{held:?}");
    // Should what was kept not be the document the server rebuilds at the opening, the whole
    // signature is checked again (and here it is still good).
    let (_, second, _, _) = &ready[1];
    portal_server::on_db!(&app.state.db, |pool| sqlx::query(
        "UPDATE scheduled_submissions SET held_document = $1 WHERE application_id = $2"
    )
    .bind(b"another document".to_vec())
    .bind(second)
    .execute(pool)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
    // The third parent changes an answer: the signature no longer matches, the schedule goes.
    let (parent, id, version, _) = &ready[2];
    let mut changed = with_child(&child_born(year - 7));
    changed["study_form"] = json!("evening");
    assert_eq!(
        crate::applications::save(&app, parent, id, *version, changed)
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get_as(&format!("/api/applications/{id}"), parent)
            .await
            .json()["scheduled_for"],
        Value::Null
    );
    // Another class cannot be scheduled.
    let other = app.citizen().await;
    let mut third_grade = with_child(&child_born(year - 9));
    third_grade["grade"] = json!("3");
    let (other_id, other_version) = ready_enrolment(&app, &other, third_grade).await;
    let key = app.key_for(&other.iin, portal_domain::eds::KeyPurpose::Signing);
    let signature = app.sign(&other, &other_id, &key).await;
    let not_first = app
        .send(
            Method::POST,
            &format!("/api/applications/{other_id}/scheduled-submission"),
            Some(json!({"version": other_version, "consent": true, "signature": signature})),
            Some(&other),
        )
        .await;
    assert_eq!(not_first.status, StatusCode::CONFLICT);
    assert_eq!(not_first.json()["code"], "error.first_grade.schedule_only");

    // Before the opening nothing goes.
    assert_eq!(
        portal_server::first_grade::send_due(&app.state, portal_server::db::now_millis())
            .await
            .unwrap(),
        0
    );
    let wait = opens_at - portal_server::db::now_millis();
    assert!(
        wait > 0,
        "the test prepared too slowly to schedule before the opening"
    );
    tokio::time::sleep(std::time::Duration::from_millis(wait as u64 + 50)).await;
    let sent = portal_server::first_grade::send_due(&app.state, portal_server::db::now_millis())
        .await
        .unwrap();
    assert_eq!(sent, 3, "the first, the second and one of the twins' two");
    let view = |i: usize| {
        let (parent, id, _, _) = ready[i].clone();
        let app = &app;
        async move {
            app.get_as(&format!("/api/applications/{id}"), &parent)
                .await
                .json()
        }
    };
    let first = view(0).await;
    assert_eq!(first["status"], "submitted");
    assert_eq!(first["scheduled_for"], Value::Null);
    assert_eq!(first["submission"]["first_grade"]["position"], 1);
    assert_eq!(view(1).await["submission"]["first_grade"]["position"], 2);
    assert_eq!(
        view(2).await["status"],
        "draft",
        "the changed one waits for its parent"
    );
    assert_eq!(view(3).await["status"], "submitted", "scheduled first");
    let late_twin = view(4).await;
    assert_eq!(late_twin["status"], "draft");
    assert_eq!(late_twin["scheduled_for"], Value::Null);
    let told = app
        .get_as("/api/notifications?lang=en", &ready[4].0)
        .await
        .json();
    assert_eq!(
        told[0]["title"]["en"], "Your application could not be sent automatically",
        "{told}"
    );
    let sent_notice = app
        .get_as("/api/notifications?lang=en", &ready[0].0)
        .await
        .json();
    assert!(
        sent_notice[0]["title"]["en"]
            .as_str()
            .unwrap()
            .ends_with("sent"),
        "{sent_notice}"
    );
    // Once open, scheduling is refused: send it now.
    let (parent, id, _, _) = &ready[2];
    let version = app
        .get_as(&format!("/api/applications/{id}"), parent)
        .await
        .json()["version"]
        .as_i64()
        .unwrap();
    let key = app.key_for(&parent.iin, portal_domain::eds::KeyPurpose::Signing);
    let signature = app.sign(parent, id, &key).await;
    let open_now = app
        .send(
            Method::POST,
            &format!("/api/applications/{id}/scheduled-submission"),
            Some(json!({"version": version, "consent": true, "signature": signature})),
            Some(parent),
        )
        .await;
    assert_eq!(open_now.json()["code"], "error.first_grade.already_open");
    assert_eq!(
        app.submit(parent, id, version, &signature).await.status,
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn a_first_grade_draft_shows_the_schools_places_and_whether_the_address_is_its_territory() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1"), ("PORTAL_MAX_FILE_MB", "2")]).await;
    // One application already sent to school No. 201.
    let earlier = app.citizen().await;
    let (id, version) = ready_enrolment(&app, &earlier, enrolment_answers()).await;
    assert_eq!(
        app.sign_and_submit(&earlier, &id, version).await.status,
        StatusCode::CREATED
    );
    let parent = app.citizen().await;
    let (draft, version) = ready_enrolment(&app, &parent, enrolment_answers()).await;
    let seen = school_check(&app, &parent, &draft).await;
    assert_eq!(seen["places"], 100);
    assert_eq!(seen["applications"], 1);
    assert_eq!(seen["school"]["en"], "School-gymnasium No. 201 (demo)");
    assert_eq!(
        seen["in_territory"], false,
        "Abay Avenue is school No. 202's"
    );
    let mut answers = enrolment_answers();
    answers["residence"]["street"] = json!("ул. Тимирязева");
    let saved = crate::applications::save(&app, &parent, &draft, version, answers.clone()).await;
    assert_eq!(saved.status, StatusCode::OK);
    assert_eq!(
        school_check(&app, &parent, &draft).await["in_territory"],
        true
    );
    answers["grade"] = json!("4");
    crate::applications::save(&app, &parent, &draft, version + 1, answers).await;
    assert_eq!(
        school_check(&app, &parent, &draft).await,
        Value::Null,
        "only for first grade"
    );
}

async fn school_check(app: &TestApp, parent: &Session, draft: &str) -> Value {
    app.get_as(&format!("/api/applications/{draft}"), parent)
        .await
        .json()["first_grade_school"]
        .clone()
}

#[tokio::test]
async fn a_school_enrols_by_the_queue_while_places_last_and_refuses_the_rest() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    let mut sent = Vec::new();
    for _ in 0..4 {
        let parent = app.citizen().await;
        let (id, version) =
            ready_enrolment(&app, &parent, with_child(&child_born(this_year() - 6))).await;
        assert_eq!(
            app.sign_and_submit(&parent, &id, version).await.status,
            StatusCode::CREATED
        );
        sent.push((parent, id));
    }
    // A small school for the test: two places.
    let officer = school_201_with_places(&app, 2).await;
    // The first was already enrolled by hand.
    let act = |id: &str, body: Value| {
        let (app, officer, uri) = (
            &app,
            officer.clone(),
            format!("/api/workspace/applications/{id}/actions"),
        );
        async move {
            app.send(Method::POST, &uri, Some(body), Some(&officer))
                .await
        }
    };
    let first = sent[0].1.clone();
    act(
        &first,
        json!({"expected": "submitted", "action": "register"}),
    )
    .await;
    let me = app
        .get_as(&format!("/api/workspace/applications/{first}"), &officer)
        .await
        .json()["colleagues"][0]["id"]
        .clone();
    act(
        &first,
        json!({"expected": "registered", "action": "assign", "officer_id": me}),
    )
    .await;
    let approved = act(
        &first,
        json!({"expected": "in_review", "action": "approve", "decision": "Зачислить в 1 «А»"}),
    )
    .await;
    assert_eq!(approved.status, StatusCode::OK, "{}", approved.text());

    let enrol = |body: Value, who: Session| {
        let app = &app;
        async move {
            app.send(
                Method::POST,
                "/api/workspace/first-grade/enrolment?lang=en",
                Some(body),
                Some(&who),
            )
            .await
        }
    };
    let year = this_year();
    let no_text = enrol(
        json!({"school_year": year, "decision": " ", "refusal": "Мест нет"}),
        officer.clone(),
    )
    .await;
    assert_eq!(problem(&no_text).0, "decision");
    let department = app.sign_in("860119465056", "Zhanar-officer-2026").await;
    let not_a_school = enrol(
        json!({"school_year": year, "decision": "x", "refusal": "y"}),
        department,
    )
    .await;
    assert_eq!(not_a_school.status, StatusCode::CONFLICT);
    assert_eq!(
        not_a_school.json()["code"],
        "error.first_grade.no_places_set"
    );

    let decided = enrol(
        json!({"school_year": year, "decision": "Зачислить в 1 «Б» с 1 сентября.", "refusal": "Все места в первых классах заняты."}),
        officer.clone(),
    )
    .await;
    assert_eq!(decided.status, StatusCode::OK, "{}", decided.text());
    assert_eq!(
        decided.json(),
        json!({"places": 2, "enrolled": 1, "refused": 2})
    );
    let status = |i: usize| {
        let (parent, id) = sent[i].clone();
        let app = &app;
        async move {
            app.get_as(&format!("/api/applications/{id}"), &parent)
                .await
                .json()["status"]
                .clone()
        }
    };
    assert_eq!(status(0).await, "result_ready");
    assert_eq!(
        status(1).await,
        "result_ready",
        "next in the queue takes the last place"
    );
    assert_eq!(status(2).await, "refused");
    assert_eq!(status(3).await, "refused");
    let told = app
        .get_as("/api/notifications?lang=en", &sent[3].0)
        .await
        .json();
    assert!(
        told[0]["body"]["en"]
            .as_str()
            .unwrap()
            .contains("no free places in the school's first grade"),
        "{told}"
    );
    // The moves are on the record, as if made one by one.
    let timeline = app
        .get_as(
            &format!("/api/workspace/applications/{}", sent[3].1),
            &officer,
        )
        .await
        .json()["progress"]["timeline"]
        .clone();
    let actions: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["submit", "register", "assign", "refuse"]);
}

/// Sends, one after another, a first-grade application to `school` for each of `claims`
/// (the priority category claimed, with its proof): each parent and application.
async fn send_in_order(
    app: &TestApp,
    school: &str,
    claims: &[Option<&str>],
) -> Vec<(Session, String)> {
    let mut sent = Vec::new();
    for claimed in claims {
        let parent = app.citizen().await;
        let mut answers = with_child(&child_born(this_year() - 6));
        answers["school"] = json!(school);
        let mut files = vec![
            ("child-photo", "photo.pdf"),
            ("child-birth-certificate", "birth-certificate.pdf"),
        ];
        if let Some(category) = claimed {
            answers["priority"] = json!(category);
            files.push(("first-grade-priority-proof", "proof.pdf"));
        }
        let (id, version) =
            crate::applications::enrolment_draft(app, &parent, answers, &files).await;
        let submitted = app.sign_and_submit(&parent, &id, version).await;
        assert_eq!(
            submitted.status,
            StatusCode::CREATED,
            "{}",
            submitted.text()
        );
        sent.push((parent, id));
    }
    sent
}

/// The school of `officer` decides its first grade: what it says it did.
async fn enrol_by_the_queue(app: &TestApp, officer: &Session) -> Value {
    app.send(
        Method::POST,
        "/api/workspace/first-grade/enrolment",
        Some(json!({"school_year": this_year(), "decision": "Зачислить в 1 «А».", "refusal": "Мест нет."})),
        Some(officer),
    )
    .await
    .json()
}

/// Gives School No. 201 `places` first-grade places; its officer's session.
async fn school_201_with_places(app: &TestApp, places: i64) -> Session {
    portal_server::on_db!(&app.state.db, |pool| sqlx::query(
        "UPDATE organisations SET first_grade_places = $1 WHERE id = 'almaty-school-201'"
    )
    .bind(places)
    .execute(pool)
    .await
    .map(|r| r.rows_affected())
    .unwrap());
    // Written behind the server's back: its cached copy is not to be trusted.
    app.state.recent.organisations.forget_all();
    app.sign_in(
        crate::helpers::DEMO_OFFICER_SCHOOL_201.0,
        crate::helpers::DEMO_OFFICER_SCHOOL_201.1,
    )
    .await
}

/// A first-grade draft without attachments (no birth certificate copy).
async fn without_certificate(app: &TestApp, who: &Session, answers: Value) -> (String, i64) {
    crate::applications::enrolment_draft(app, who, answers, &[]).await
}

#[tokio::test]
async fn the_population_register_fills_in_children_and_knows_their_parents() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    let aigerim = app.sign_in("880314412019", "Aigerim-demo-2026").await;
    let children = app.get_as("/api/population/children", &aigerim).await;
    assert_eq!(children.status, StatusCode::OK);
    let children = children.json();
    assert_eq!(children.as_array().unwrap().len(), 2, "{children}");
    let aisha = children
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["first_name"] == "Айша")
        .unwrap()
        .clone();
    assert_eq!(aisha["birth_certificate"], true);
    assert!(
        aisha.get("parents").is_none(),
        "the other parent's IIN is not shown"
    );
    let stranger = app.citizen().await;
    assert_eq!(
        app.get_as("/api/population/children", &stranger)
            .await
            .json(),
        json!([])
    );

    // Someone who is not her parent cannot apply for her as their child…
    let mut for_aisha = enrolment_answers();
    for_aisha["subject_iin"] = aisha["iin"].clone();
    let (id, version) = without_certificate(&app, &stranger, for_aisha.clone()).await;
    let refused = app.sign_and_submit(&stranger, &id, version).await;
    let (field, code, _) = problem(&refused);
    assert_eq!(
        (field.as_str(), code.as_str()),
        ("subject_iin", "error.first_grade.not_parent")
    );
    // …her mother can, without a birth certificate copy: the register has it.
    let (id, version) = without_certificate(&app, &aigerim, for_aisha).await;
    let sent = app.sign_and_submit(&aigerim, &id, version).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());

    // A child the register does not know needs the certificate copy.
    let (id, version) = without_certificate(&app, &stranger, enrolment_answers()).await;
    let refused = app.sign_and_submit(&stranger, &id, version).await;
    let (field, code, _) = problem(&refused);
    assert_eq!(
        (field.as_str(), code.as_str()),
        (
            "birth_certificate_copy",
            "error.first_grade.birth_certificate"
        )
    );

    // Without a connected register the portal says so.
    let plain = TestApp::spawn().await;
    let someone = plain.citizen().await;
    let none = plain.get_as("/api/population/children", &someone).await;
    assert_eq!(none.status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn administrators_set_the_age_rule_of_a_school_year() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    let year = this_year();
    let public = app.get("/api/first-grade/window").await.json();
    assert_eq!(public["age"], json!({"youngest": 6, "oldest": 7}));
    let admin = app
        .sign_in(crate::helpers::DEMO_ADMIN.0, crate::helpers::DEMO_ADMIN.1)
        .await;
    let window = app
        .get_as(&format!("/api/admin/first-grade/{year}"), &admin)
        .await
        .json();
    let set = |youngest: u32, oldest: u32| {
        let body = json!({
            "opens_at": window["opens_at"], "closes_at": window["closes_at"],
            "age_youngest": youngest, "age_oldest": oldest,
        });
        let (app, admin, uri) = (
            &app,
            &admin,
            format!("/api/admin/first-grade/{year}?lang=en"),
        );
        async move { app.send(Method::PUT, &uri, Some(body), Some(admin)).await }
    };
    let (field, _, message) = problem(&set(3, 7).await);
    assert_eq!(
        (field.as_str(), message.as_str()),
        ("age_youngest", "Enter a whole number from 4 to 8.")
    );
    let (field, _, _) = problem(&set(7, 6).await);
    assert_eq!(field, "age_oldest");

    // From now on only children who turn 7 this year (and are at most 8 on 1 September).
    let saved = set(7, 8).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    assert_eq!(saved.json()["age"], json!({"youngest": 7, "oldest": 8}));
    assert_eq!(
        app.get("/api/first-grade/window").await.json()["age"],
        json!({"youngest": 7, "oldest": 8}),
        "parents see the rule"
    );
    let parent = app.citizen().await;
    let (six, v) = ready_enrolment(&app, &parent, with_child(&child_born(year - 6))).await;
    let key = app.key_for(&parent.iin, KeyPurpose::Signing);
    let signature = app.sign(&parent, &six, &key).await;
    let refused = app
        .send(
            Method::POST,
            &format!("/api/applications/{six}/submission?lang=en"),
            Some(json!({"version": v, "consent": true, "signature": signature})),
            Some(&parent),
        )
        .await;
    let (field, code, message) = problem(&refused);
    assert_eq!(
        (field.as_str(), code.as_str()),
        ("subject_iin", "error.first_grade.too_young")
    );
    assert_eq!(
        message,
        format!(
            "The child turns 7 only in {next}: apply for first grade in {next}.",
            next = year + 1
        )
    );
    let (eight, v) = ready_enrolment(&app, &parent, with_child(&child_born(year - 8))).await;
    assert_eq!(
        app.sign_and_submit(&parent, &eight, v).await.status,
        StatusCode::CREATED,
        "8 on 1 September is within the year's rule"
    );
}

/// School No. 201's demo categories, the highest first.
const SPECIAL_NEEDS: &str = "special-needs";
const SIBLING: &str = "sibling";
const SCHOOL_201: &str = "almaty-school-201";

#[tokio::test]
async fn a_claimed_priority_category_must_be_the_schools_and_proved() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    let schools = app.get("/api/providers").await.json();
    let school = schools
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "almaty-school-201")
        .unwrap();
    let ids: Vec<&str> = school["first_grade_priorities"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [SPECIAL_NEEDS, "without-parental-care", SIBLING]);
    assert!(
        school["first_grade_priorities"][0]["proof"]["en"]
            .as_str()
            .unwrap()
            .contains("consultation")
    );

    let parent = app.citizen().await;
    let mut answers = enrolment_answers();
    answers["priority"] = json!(SIBLING);
    let (id, v) = ready_enrolment(&app, &parent, answers.clone()).await;
    let unproved = app.sign_and_submit(&parent, &id, v).await;
    assert_eq!(
        problem(&unproved).0,
        "priority_proof",
        "{}",
        unproved.text()
    );

    // School No. 203 has no such category.
    answers["school"] = json!("almaty-school-203");
    let (id, v) = crate::applications::enrolment_draft(
        &app,
        &parent,
        answers,
        &[
            ("child-photo", "photo.pdf"),
            ("child-birth-certificate", "birth-certificate.pdf"),
            ("first-grade-priority-proof", "sibling.pdf"),
        ],
    )
    .await;
    let unknown = app.sign_and_submit(&parent, &id, v).await;
    let (field, code, _) = problem(&unknown);
    assert_eq!(
        (field.as_str(), code.as_str()),
        ("priority", "error.first_grade.priority_unknown")
    );
    assert_eq!(status_of(&app, &parent, &id).await, "draft");
}

#[tokio::test]
async fn proved_priority_categories_are_enrolled_first_in_the_schools_order() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    // Sent in this order: no category, a sibling, no category, special needs.
    let sent = send_in_order(
        &app,
        SCHOOL_201,
        &[None, Some(SIBLING), None, Some(SPECIAL_NEEDS)],
    )
    .await;
    let officer = school_201_with_places(&app, 3).await;
    // The officer sees the claimed category by name, with its proof.
    let case = app
        .get_as(
            &format!("/api/workspace/applications/{}", sent[1].1),
            &officer,
        )
        .await
        .json();
    let rows = crate::helpers::answer_rows(&case, "en");
    assert!(
        rows.contains(&(
            "The school's priority category".into(),
            "A brother or sister studies at this school".into()
        )),
        "{rows:?}"
    );
    assert!(
        rows.contains(&("Proof of the category".into(), "proof.pdf".into())),
        "{rows:?}"
    );

    assert_eq!(
        enrol_by_the_queue(&app, &officer).await,
        json!({"places": 3, "enrolled": 3, "refused": 1})
    );
    let mut statuses = Vec::new();
    for (parent, id) in &sent {
        statuses.push(status_of(&app, parent, id).await);
    }
    assert_eq!(
        statuses,
        ["result_ready", "result_ready", "refused", "result_ready"],
        "special needs, then the sibling, then the first in the queue; the third has no place"
    );
}

#[tokio::test]
async fn a_priority_proof_the_school_does_not_accept_leaves_the_child_in_the_queue_without_priority()
 {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    // Sent in this order: no category, then a sibling.
    let sent = send_in_order(&app, SCHOOL_201, &[None, Some(SIBLING)]).await;
    let officer = school_201_with_places(&app, 1).await;
    let refuse = |id: &str, reason: &str| {
        let (app, officer) = (&app, &officer);
        let uri = format!("/api/workspace/applications/{id}/actions?lang=en");
        let body = json!({"expected": "submitted", "action": "refuse_priority", "priority_reason": reason});
        async move {
            app.send(Method::POST, &uri, Some(body), Some(officer))
                .await
        }
    };
    let case = |id: &str| {
        let (app, officer) = (&app, &officer);
        let uri = format!("/api/workspace/applications/{id}");
        async move { app.get_as(&uri, officer).await.json() }
    };
    let allowed = |case: &Value| -> Vec<String> {
        case["progress"]["allowed"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect()
    };
    assert!(!allowed(&case(&sent[0].1).await).contains(&"refuse_priority".to_string()));
    assert!(allowed(&case(&sent[1].1).await).contains(&"refuse_priority".to_string()));

    let unclaimed = refuse(&sent[0].1, "Not proved.").await;
    assert_eq!(unclaimed.status, StatusCode::CONFLICT);
    assert_eq!(
        unclaimed.json()["code"],
        "error.workflow.priority_not_claimed"
    );
    let blank = refuse(&sent[1].1, "  ").await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(&blank).0, "priority_reason");

    let reason = "The certificate names another school.";
    let refused = refuse(&sent[1].1, reason).await;
    assert_eq!(refused.status, StatusCode::OK, "{}", refused.text());
    let after = refused.json();
    assert_eq!(
        after["application"]["status"], "submitted",
        "the state is kept"
    );
    assert!(!allowed(&after).contains(&"refuse_priority".to_string()));
    let last = after["progress"]["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["action"], "refuse_priority");
    assert_eq!(
        last["details"],
        json!([{"kk": reason.trim_end_matches('.'), "ru": reason.trim_end_matches('.'), "en": reason.trim_end_matches('.')}]),
        "{last}"
    );
    let again = refuse(&sent[1].1, reason).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.json()["code"], "error.workflow.priority_not_claimed");
    // The parent is told why, and that the place in the queue is kept.
    let notices = app
        .get_as("/api/notifications?lang=en", &sent[1].0)
        .await
        .json();
    let told = notices
        .as_array()
        .unwrap()
        .iter()
        .find(|n| {
            n["title"]["en"]
                .as_str()
                .unwrap_or_default()
                .contains("priority category not accepted")
        })
        .unwrap_or_else(|| panic!("{notices}"))
        .clone();
    let body = told["body"]["en"].as_str().unwrap();
    assert!(body.contains(reason.trim_end_matches('.')), "{body}");
    assert!(body.contains("keeps its place in the queue"), "{body}");

    // One place: without the priority, the first in the queue gets it.
    assert_eq!(
        enrol_by_the_queue(&app, &officer).await,
        json!({"places": 1, "enrolled": 1, "refused": 1})
    );
    assert_eq!(
        status_of(&app, &sent[0].0, &sent[0].1).await,
        "result_ready"
    );
    assert_eq!(status_of(&app, &sent[1].0, &sent[1].1).await, "refused");
}

#[tokio::test]
async fn administrators_set_a_schools_places_territory_and_priority_categories() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    let admin = app
        .sign_in(crate::helpers::DEMO_ADMIN.0, crate::helpers::DEMO_ADMIN.1)
        .await;
    let put = |id: &str, body: Value, who: &Session| {
        let (app, who) = (&app, who.clone());
        let uri = format!("/api/admin/organisations/{id}/first-grade?lang=en");
        async move { app.send(Method::PUT, &uri, Some(body), Some(&who)).await }
    };
    let category = |id: &str| {
        json!({
            "id": id,
            "name": {"kk": "Көпбалалы отбасы", "ru": "Многодетная семья", "en": "A large family"},
            "proof": {"kk": "Анықтама", "ru": "Справка", "en": "A certificate"}
        })
    };
    let settings = json!({
        "first_grade_places": 40,
        "territory": [{"kk": "Жандосов көшесі", "ru": "ул. Жандосова", "en": "Zhandosov Street"}],
        "first_grade_priorities": [category("large-family")]
    });
    let saved = put("almaty-school-203", settings.clone(), &admin).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    // Everyone sees it at once: the providers list parents choose from.
    let providers = app.get("/api/providers").await.json();
    let school = providers
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "almaty-school-203")
        .unwrap()
        .clone();
    assert_eq!(school["first_grade_places"], 40);
    assert_eq!(school["territory"], settings["territory"]);
    assert_eq!(school["first_grade_priorities"][0]["id"], "large-family");

    // A parent can now claim the new category at that school (sent, or this panics).
    send_in_order(&app, "almaty-school-203", &[Some("large-family")]).await;

    // Every field is checked, and each problem is named.
    let mut bad = settings.clone();
    bad["first_grade_places"] = json!(0);
    bad["first_grade_priorities"] = json!([category("large-family"), category("large-family")]);
    bad["territory"] = json!([{"kk": "Жандосов көшесі", "ru": "", "en": "Zhandosov Street"}]);
    let refused = put("almaty-school-203", bad, &admin).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<String> = refused.json()["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        fields,
        [
            "first_grade_places",
            "territory[0].ru",
            "first_grade_priorities[1].id"
        ]
    );
    let college = put("almaty-college-7", settings.clone(), &admin).await;
    assert_eq!(college.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        put("no-such-school", settings.clone(), &admin).await.status,
        StatusCode::NOT_FOUND
    );
    let unknown_field = put(
        "almaty-school-203",
        json!({"first_grade_places": 40, "extra": 1}),
        &admin,
    )
    .await;
    assert_eq!(
        unknown_field.status,
        StatusCode::BAD_REQUEST,
        "{}",
        unknown_field.text()
    );
    // Only an administrator: not the school's own officer.
    let officer = app
        .sign_in(
            crate::helpers::DEMO_OFFICER_SCHOOL_201.0,
            crate::helpers::DEMO_OFFICER_SCHOOL_201.1,
        )
        .await;
    assert_eq!(
        put("almaty-school-201", settings, &officer).await.status,
        StatusCode::FORBIDDEN
    );
    // Nothing refused was written.
    let kept = app.get("/api/providers").await.json();
    let school = kept
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == "almaty-school-203")
        .unwrap();
    assert_eq!(school["first_grade_places"], 40);
    assert_eq!(
        school["first_grade_priorities"].as_array().unwrap().len(),
        1
    );
}

#[tokio::test]
async fn parents_are_told_when_a_school_withdraws_the_priority_category_they_claimed() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    // Sent in this order: no category, a sibling, special needs; and a sibling claimed in a draft.
    let sent = send_in_order(
        &app,
        SCHOOL_201,
        &[None, Some(SIBLING), Some(SPECIAL_NEEDS)],
    )
    .await;
    let drafter = app.citizen().await;
    let mut answers = with_child(&child_born(this_year() - 6));
    answers["school"] = json!(SCHOOL_201);
    answers["priority"] = json!(SIBLING);
    let files = [
        ("child-photo", "photo.pdf"),
        ("child-birth-certificate", "birth-certificate.pdf"),
        ("first-grade-priority-proof", "proof.pdf"),
    ];
    let (draft, version) =
        crate::applications::enrolment_draft(&app, &drafter, answers, &files).await;

    // The administrator removes the sibling category from School No. 201.
    let providers = app.get("/api/providers").await.json();
    let school = providers
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["id"] == SCHOOL_201)
        .unwrap()
        .clone();
    let kept: Vec<Value> = school["first_grade_priorities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["id"] != SIBLING)
        .cloned()
        .collect();
    assert_eq!(
        kept.len() + 1,
        school["first_grade_priorities"].as_array().unwrap().len()
    );
    let admin = app
        .sign_in(crate::helpers::DEMO_ADMIN.0, crate::helpers::DEMO_ADMIN.1)
        .await;
    let saved = app
        .send(
            Method::PUT,
            &format!("/api/admin/organisations/{SCHOOL_201}/first-grade?lang=en"),
            Some(json!({
                "first_grade_places": school["first_grade_places"],
                "territory": school["territory"],
                "first_grade_priorities": kept,
            })),
            Some(&admin),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());

    let titles = |who: &Session| {
        let (app, who) = (&app, who.clone());
        async move {
            app.get_as("/api/notifications?lang=en", &who)
                .await
                .json()
                .as_array()
                .unwrap()
                .iter()
                .filter(|n| {
                    n["title"]["en"]
                        .as_str()
                        .unwrap_or_default()
                        .contains("no longer offered")
                })
                .map(|n| {
                    let text = |k: &str| n[k]["en"].as_str().unwrap_or_default().to_string();
                    (text("title"), text("body"))
                })
                .collect::<Vec<_>>()
        }
    };
    let sibling_sent = titles(&sent[1].0).await;
    assert_eq!(sibling_sent.len(), 1, "{sibling_sent:?}");
    assert!(
        sibling_sent[0].1.contains("keeps its place in the queue"),
        "{sibling_sent:?}"
    );
    assert!(
        sibling_sent[0]
            .1
            .contains("A brother or sister studies at this school"),
        "{sibling_sent:?}"
    );
    let sibling_draft = titles(&drafter).await;
    assert_eq!(sibling_draft.len(), 1, "{sibling_draft:?}");
    assert!(
        sibling_draft[0].1.contains("cannot be sent"),
        "{sibling_draft:?}"
    );
    for (parent, _) in [&sent[0], &sent[2]] {
        assert!(
            titles(parent).await.is_empty(),
            "nothing they claimed was withdrawn"
        );
    }

    // The draft cannot be sent with the withdrawn category; nothing of it is lost.
    let refused = app.sign_and_submit(&drafter, &draft, version).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text()
    );
    let (field, code, _) = problem(&refused);
    assert_eq!(
        (field.as_str(), code.as_str()),
        ("priority", "error.first_grade.priority_unknown")
    );
    assert_eq!(status_of(&app, &drafter, &draft).await, "draft");

    // Two places: special needs first, then the queue's order, in which the former sibling
    // (with the category it would have had the second place) now comes after the first sent.
    let officer = school_201_with_places(&app, 2).await;
    assert_eq!(
        enrol_by_the_queue(&app, &officer).await,
        json!({"places": 2, "enrolled": 2, "refused": 1})
    );
    let mut statuses = Vec::new();
    for (parent, id) in &sent {
        statuses.push(status_of(&app, parent, id).await);
    }
    assert_eq!(statuses, ["result_ready", "refused", "result_ready"]);
}

#[tokio::test]
async fn a_schedule_follows_the_opening_when_it_is_brought_forward() {
    let app = TestApp::with(&[("PORTAL_DEMO", "1")]).await;
    let parent = app.citizen().await;
    let (id, version) =
        ready_enrolment(&app, &parent, with_child(&child_born(this_year() - 6))).await;
    let key = app.key_for(&parent.iin, KeyPurpose::Signing);
    let signature = app.sign(&parent, &id, &key).await;
    let now = portal_server::db::now_millis();
    app.open_first_grade_window_at(now + 3_600_000).await;
    let scheduled = app.schedule(&parent, &id, version, &signature).await;
    assert_eq!(
        scheduled.status,
        StatusCode::ACCEPTED,
        "{}",
        scheduled.text()
    );
    // The government brings the opening forward by almost an hour.
    let opens_at = app.open_first_grade_window_at(now + 4_000).await;
    let shown = app
        .get_as(&format!("/api/applications/{id}"), &parent)
        .await;
    assert_eq!(shown.json()["scheduled_for"], opens_at);
    let wait = opens_at - portal_server::db::now_millis();
    tokio::time::sleep(std::time::Duration::from_millis(wait.max(0) as u64 + 50)).await;
    let sent = portal_server::first_grade::send_due(&app.state, portal_server::db::now_millis())
        .await
        .unwrap();
    assert_eq!(sent, 1);
    assert_eq!(status_of(&app, &parent, &id).await, "submitted");
}
