use axum::http::StatusCode;

use crate::helpers::TestApp;

#[tokio::test]
async fn health_is_ok_with_a_reachable_database() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/health").await;
    assert_eq!(response.status, StatusCode::OK);
    let body = response.json();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["services"], 16);
}

#[tokio::test]
async fn health_reports_a_closed_database_as_degraded() {
    let app = TestApp::spawn().await;
    portal_server::on_db!(&app.state.db, |pool| pool.close().await);
    let response = app.get("/api/health").await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.json()["status"], "degraded");
}

#[tokio::test]
async fn definitions_are_recorded_with_their_hash() {
    let app = TestApp::spawn().await;
    let rows: Vec<(String, String)> = portal_server::on_db!(&app.state.db, |pool| sqlx::query_as(
        "SELECT service_id, sha256 FROM service_definition_versions ORDER BY service_id",
    )
    .fetch_all(pool)
    .await)
    .unwrap();
    assert_eq!(rows.len(), 16);
    let enrolment = app.state.catalogue.get("school-enrollment").unwrap();
    assert!(
        rows.iter()
            .any(|(id, sha)| id == "school-enrollment" && *sha == enrolment.sha256)
    );
}
