use axum::http::{Method, StatusCode};

use crate::helpers::TestApp;

#[tokio::test]
async fn client_routes_get_the_app_uncached() {
    let app = TestApp::spawn().await;
    for path in [
        "/",
        "/services",
        "/services/school-enrollment",
        "/cabinet/applications",
    ] {
        let response = app.get(path).await;
        assert_eq!(response.status, StatusCode::OK, "{path}");
        assert!(response.text().contains("<title>portal</title>"), "{path}");
        assert_eq!(response.header("cache-control"), Some("no-cache"), "{path}");
    }
}

#[tokio::test]
async fn hashed_assets_are_immutable() {
    let app = TestApp::spawn().await;
    let response = app.get("/portal-web-1a2b3c4d5e6f7a8b_bg.wasm").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(
        response.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(response.header("content-type"), Some("application/wasm"));
}

#[tokio::test]
async fn a_missing_asset_is_a_404_not_the_app() {
    let app = TestApp::spawn().await;
    let response = app.get("/portal-web-0000000000000000.js").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    assert!(!response.text().contains("<title>"));
}

#[tokio::test]
async fn path_traversal_is_refused() {
    let app = TestApp::spawn().await;
    for path in ["/../portal.db", "/%2e%2e/portal.db", "/..%2fportal.db"] {
        let response = app.get(path).await;
        assert_ne!(response.status, StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn precompressed_copies_are_served_when_accepted() {
    let app = TestApp::spawn().await;
    let dist = &app.state.config.dist_dir;
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>portal</title>".repeat(100),
    )
    .unwrap();
    portal_server::static_files::precompress(dist).unwrap();
    let response = app
        .request(Method::GET, "/services", &[("accept-encoding", "br, gzip")])
        .await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.header("content-encoding"), Some("br"));
    let gz = app
        .request(Method::GET, "/index.html", &[("accept-encoding", "gzip")])
        .await;
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
}
