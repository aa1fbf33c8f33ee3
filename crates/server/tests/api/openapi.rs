use crate::helpers::TestApp;

#[tokio::test]
async fn the_document_describes_every_api_route() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/openapi.json").await;
    assert_eq!(response.status, 200);
    let doc = response.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for expected in [
        "/api/health",
        "/api/openapi.json",
        "/api/services",
        "/api/services/{id}",
    ] {
        assert!(
            paths.contains(&expected),
            "{expected} missing from {paths:?}"
        );
    }
    for schema in ["ServiceSummary", "ServiceDefinition", "ErrorBody", "Health"] {
        assert!(
            doc["components"]["schemas"][schema].is_object(),
            "schema {schema} missing"
        );
    }
}

#[tokio::test]
async fn every_documented_path_is_served() {
    let app = TestApp::spawn().await;
    let doc = app.get("/api/openapi.json").await.json();
    for path in doc["paths"].as_object().unwrap().keys() {
        let concrete = path
            .replace("{id}", "school-enrollment")
            .replace("{code}", "00112233445566778899aabbccddeeff");
        let response = app.get(&concrete).await;
        // A route may answer 404 for an unknown resource, but never the catch-all's answer.
        let unrouted = response.status == 404 && response.json()["code"] == "error.not_found";
        assert!(!unrouted, "{path} is documented but not routed");
    }
}
