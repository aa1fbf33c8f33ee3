//! Several server instances on one database, as behind a load balancer: what one instance
//! did, the other knows, and what must be unique stays unique when both write at once.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;
use tower::ServiceExt;

use crate::applications::signed_enrolments;
use crate::helpers::{DEMO_OFFICER_SCHOOL_201, TestApp};
use crate::workflow::{act_ok, next_notification, submitted_enrolment};
use portal_domain::notifications::NotificationView;
use portal_domain::text::Text;
use portal_server::db::now_millis;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_made_on_one_instance_works_and_ends_on_the_other() {
    let a = TestApp::spawn().await;
    let b = a.another_instance().await;
    let citizen = a.citizen().await;
    let on_b = b.get_as("/api/session", &citizen).await;
    assert_eq!(on_b.status, StatusCode::OK, "{}", on_b.text());
    assert_eq!(on_b.json()["user"]["first_name"], "Сәуле");
    let out = b
        .send(Method::DELETE, "/api/session", None, Some(&citizen))
        .await;
    assert!(out.status.is_success(), "{}", out.text());
    assert_eq!(
        a.get_as("/api/session", &citizen).await.status,
        StatusCode::UNAUTHORIZED,
        "signed out everywhere"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parents_sending_through_two_instances_at_once_get_one_queue() {
    const PARENTS: usize = 16;
    let a = crate::applications::demo().await;
    let b = a.another_instance().await;
    let ready = signed_enrolments(&a, PARENTS).await;
    // Every parent at the same moment, alternately through each instance; each also sends twice
    // (a retry), which must not take a second place.
    let sent = futures_util::future::join_all(ready.iter().enumerate().flat_map(|(i, s)| {
        let (first, second) = if i % 2 == 0 { (&a, &b) } else { (&b, &a) };
        [
            first.submit(&s.parent, &s.id, s.version, &s.signature),
            second.submit(&s.parent, &s.id, s.version, &s.signature),
        ]
    }))
    .await;
    for response in &sent {
        assert!(
            response.status == StatusCode::CREATED || response.status == StatusCode::OK,
            "{} {}",
            response.status,
            response.text()
        );
    }
    let mut positions: Vec<i64> = portal_server::on_db!(&a.state.db, |pool| sqlx::query_scalar(
        "SELECT first_grade_position FROM applications WHERE first_grade_position IS NOT NULL"
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    positions.sort_unstable();
    assert_eq!(
        positions,
        (1..=PARENTS as i64).collect::<Vec<_>>(),
        "one place each, none shared, none skipped"
    );
    // Each parent sees their place through either instance.
    for s in &ready {
        let view = b
            .get_as(&format!("/api/applications/{}", s.id), &s.parent)
            .await
            .json();
        let place = view["submission"]["first_grade"]["position"].as_u64();
        assert!(
            place.is_some_and(|p| (1..=PARENTS as u64).contains(&p)),
            "{view}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_on_one_instance_reaches_the_stream_held_by_the_other() {
    let a = crate::applications::demo().await;
    if a.state.db.engine() != "postgres" {
        // One SQLite file serves one instance; the live relay between instances is PostgreSQL's.
        return;
    }
    let b = a.another_instance().await;
    let citizen = a.citizen().await;
    let id = submitted_enrolment(&a, &citizen).await;
    let request = Request::get("/api/notifications/stream")
        .header("cookie", &citizen.cookie)
        .body(Body::empty())
        .unwrap();
    let response = b.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut stream = response.into_body();
    // The listener on b is up once a notification published now reaches it.
    let officer = a
        .sign_in(DEMO_OFFICER_SCHOOL_201.0, DEMO_OFFICER_SCHOOL_201.1)
        .await;
    act_ok(
        &a,
        &officer,
        &id,
        json!({"expected": "submitted", "action": "register"}),
    )
    .await;
    // (The announcement of the sending may still be on its way too.)
    let registered = |n: &serde_json::Value| {
        n["title"]["en"]
            .as_str()
            .is_some_and(|t| t.ends_with("Registered"))
    };
    let mut pushed = next_notification(&mut stream).await;
    while pushed.as_ref().is_some_and(|n| !registered(n)) {
        pushed = next_notification(&mut stream).await;
    }
    let pushed = pushed.expect("the change made on a, live on b");
    assert_eq!(pushed["link"], format!("/applications/{id}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_reach_the_other_instance_in_the_order_they_were_made() {
    let a = TestApp::spawn().await;
    if a.state.db.engine() != "postgres" {
        return;
    }
    let b = a.another_instance().await;
    let citizen = a.citizen().await;
    let request = Request::get("/api/notifications/stream")
        .header("cookie", &citizen.cookie)
        .body(Body::empty())
        .unwrap();
    let mut stream = b.router.clone().oneshot(request).await.unwrap().into_body();
    let deliver = |title: String| {
        let state = a.state.clone();
        let user = citizen.user_id.clone();
        async move {
            portal_server::notifications::deliver(
                &state,
                &user,
                &Text::same(&title),
                &Text::same(""),
                None,
            )
            .await
            .unwrap();
        }
    };
    // b's listener is up once a notification made now reaches it.
    let mut probe = 0;
    loop {
        probe += 1;
        deliver(format!("probe {probe}")).await;
        let heard = tokio::time::timeout(
            std::time::Duration::from_secs(1),
            next_notification(&mut stream),
        )
        .await;
        if heard.is_ok_and(|n| n.is_some()) {
            break;
        }
        assert!(probe < 20, "b never heard a");
    }
    // Published in a burst (as when many changes commit at once): they queue up, go to the
    // database in batches, and still arrive in order.
    const MADE: usize = 60;
    for n in 0..MADE {
        let view = NotificationView {
            id: format!("n{n}"),
            created_at: now_millis(),
            title: Text::same(&format!("number {n}")),
            body: Text::same(""),
            link: None,
            read: false,
        };
        a.state.live.publish(&citizen.user_id, &view);
    }
    let mut heard = Vec::new();
    while heard.len() < MADE {
        let pushed = next_notification(&mut stream)
            .await
            .expect("every notification");
        let title = pushed["title"]["en"].as_str().unwrap().to_string();
        // A probe sent before the listener was up is not heard; one sent after is.
        if !title.starts_with("probe") {
            heard.push(title);
        }
    }
    let made: Vec<String> = (0..MADE).map(|n| format!("number {n}")).collect();
    assert_eq!(heard, made);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scheduled_are_sent_once_though_every_instance_runs_the_job() {
    const PARENTS: usize = 6;
    let a = crate::applications::demo().await;
    if a.state.db.engine() != "postgres" {
        // One SQLite file serves one instance: there is nobody to share the job with.
        return;
    }
    let b = a.another_instance().await;
    let ready = signed_enrolments(&a, PARENTS).await;
    let opens_at = a.open_first_grade_window_at(now_millis() + 10_000).await;
    for (i, s) in ready.iter().enumerate() {
        let through = if i % 2 == 0 { &a } else { &b };
        let scheduled = through
            .schedule(&s.parent, &s.id, s.version, &s.signature)
            .await;
        assert_eq!(
            scheduled.status,
            StatusCode::ACCEPTED,
            "{}",
            scheduled.text()
        );
    }
    let wait = opens_at - now_millis();
    assert!(wait > 0, "the test prepared too slowly");
    tokio::time::sleep(std::time::Duration::from_millis(wait as u64 + 50)).await;
    // Both instances' job loops wake at the opening.
    let now = now_millis();
    let (on_a, on_b) = tokio::join!(
        portal_server::first_grade::send_due_once(&a.state, now),
        portal_server::first_grade::send_due_once(&b.state, now)
    );
    let (on_a, on_b) = (on_a.unwrap(), on_b.unwrap());
    assert!(
        on_a.is_none() || on_b.is_none(),
        "{on_a:?} {on_b:?}: one at a time"
    );
    assert_eq!(on_a.or(on_b), Some(PARENTS));
    for s in &ready {
        let view = b
            .get_as(&format!("/api/applications/{}", s.id), &s.parent)
            .await
            .json();
        assert_eq!(view["status"], "submitted", "{view}");
        let told = b
            .get_as("/api/notifications?lang=en", &s.parent)
            .await
            .json();
        assert_eq!(told.as_array().map(Vec::len), Some(1), "told once: {told}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_on_separate_machines_share_the_files_and_the_certification_authority() {
    let pki_a = tempfile::tempdir().unwrap();
    let pki_b = tempfile::tempdir().unwrap();
    let pki = |dir: &tempfile::TempDir| dir.path().join("pki").display().to_string();
    let a = TestApp::with(&[("PORTAL_DEMO", "1"), ("PORTAL_PKI_DIR", &pki(&pki_a))]).await;
    if a.state.db.engine() != "postgres" {
        // One SQLite file serves one machine, and its CA is a directory beside it.
        return;
    }
    let b = a.on_another_host(&[("PORTAL_PKI_DIR", &pki(&pki_b))]).await;
    assert_ne!(a.state.config.data_dir, b.state.config.data_dir);

    // Neither had a CA of its own: the first made one in the database, the second uses it.
    let parts = |app: &TestApp| app.state.signing.authority.to_parts().unwrap();
    assert!(parts(&a) == parts(&b), "one CA for every instance");
    for dir in [&pki_a, &pki_b] {
        assert!(!dir.path().join("pki").exists(), "no CA files written");
    }
    // A third instance, started later, finds the same CA.
    let pki_c = tempfile::tempdir().unwrap();
    let c = a.on_another_host(&[("PORTAL_PKI_DIR", &pki(&pki_c))]).await;
    assert!(parts(&c) == parts(&a));

    // A file sent through one machine is downloaded through the other (from the bucket).
    let Some(_) = &a.state.config.s3 else {
        return;
    };
    let citizen = a.citizen().await;
    let id = crate::applications::new_draft(&a, &citizen, "school-enrollment").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let file = crate::applications::pdf_bytes(7_000_000);
    let (_, content) =
        crate::applications::announce(&a, &citizen, &id, "other", "scan.pdf", file.len()).await;
    // Half through each machine, as a resumed upload may go.
    let half = file.len() / 2;
    for (app, range) in [(&a, 0..half), (&b, half..file.len())] {
        let sent = app
            .send_bytes(
                Method::PATCH,
                &content,
                file[range.clone()].to_vec(),
                &[("upload-offset", &range.start.to_string())],
                &citizen,
            )
            .await;
        assert_eq!(sent.status, StatusCode::OK, "{}", sent.text());
    }
    let download = b.get_as(&content, &citizen).await;
    assert_eq!(download.status, StatusCode::OK);
    assert!(download.body == file, "the same bytes back");
    assert!(
        std::fs::read_dir(&b.state.config.data_dir)
            .unwrap()
            .all(|e| e.unwrap().file_name() != "attachments"),
        "nothing kept on the machine itself"
    );
}
