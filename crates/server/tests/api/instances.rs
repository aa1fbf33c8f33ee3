//! Several server instances on one database, as behind a load balancer: what one instance
//! did, the other knows, and what must be unique stays unique when both write at once.

use crate::applications::signed_enrolments;
use crate::helpers::TestApp;
use axum::http::{Method, StatusCode};

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
