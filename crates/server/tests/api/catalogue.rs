use axum::http::{Method, StatusCode};

use crate::helpers::TestApp;

fn ids(body: &serde_json::Value) -> Vec<String> {
    body.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn lists_all_sixteen_services_in_catalogue_order_with_all_languages() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/services").await;
    assert_eq!(response.status, StatusCode::OK);
    let body = response.json();
    let list = body.as_array().unwrap();
    assert_eq!(list.len(), 16);
    assert_eq!(list[0]["id"], "school-enrollment");
    assert_eq!(list[15]["catalogue_number"], 16);
    for service in list {
        for lang in ["kk", "ru", "en"] {
            assert!(
                !service["short_name"][lang].as_str().unwrap().is_empty(),
                "{} {lang}",
                service["id"]
            );
        }
    }
    assert_eq!(list.iter().filter(|s| s["portal"] == true).count(), 12);
}

#[tokio::test]
async fn searches_words_in_any_language() {
    let app = TestApp::spawn().await;
    let english = ids(&app.get("/api/services?q=first%20grade").await.json());
    assert_eq!(english, vec!["school-enrollment"]);
    let russian = ids(&app
        .get(
            "/api/services?q=%D0%BF%D0%B5%D1%80%D0%B2%D1%8B%D0%B9%20%D0%BA%D0%BB%D0%B0%D1%81%D1%81",
        )
        .await
        .json());
    assert_eq!(russian, vec!["school-enrollment"], "«первый класс»");
    let nothing = app.get("/api/services?q=spaceship").await.json();
    assert_eq!(nothing.as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn filters_by_category() {
    let app = TestApp::spawn().await;
    let teachers = ids(&app.get("/api/services?category=teachers").await.json());
    assert_eq!(teachers, vec!["teacher-attestation-intake"]);
    let vocational = ids(&app
        .get("/api/services?category=vocational_education")
        .await
        .json());
    assert_eq!(vocational, vec!["tvet-incomplete-certificate"]);
    let schools = ids(&app.get("/api/services?category=schools").await.json());
    assert!(schools.contains(&"school-enrollment".to_string()));
    assert!(!schools.contains(&"adoption-lump-sum-payment".to_string()));
}

#[tokio::test]
async fn an_unknown_category_is_a_field_error_in_the_users_language() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/services?category=pets&lang=ru").await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.json();
    assert_eq!(body["code"], "error.invalid");
    assert_eq!(body["fields"][0]["field"], "category");
    assert_eq!(
        body["fields"][0]["code"],
        "error.catalogue.unknown_category"
    );
    assert_eq!(body["fields"][0]["message"], "Категории «pets» нет.");
    assert_eq!(response.header("content-language"), Some("ru"));
}

#[tokio::test]
async fn an_overlong_query_is_refused_with_the_limit() {
    let app = TestApp::spawn().await;
    let long = "a".repeat(201);
    let response = app
        .request(
            Method::GET,
            &format!("/api/services?q={long}"),
            &[("accept-language", "en")],
        )
        .await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        response.json()["fields"][0]["message"],
        "The search text must be 200 characters or fewer."
    );
}

#[tokio::test]
async fn a_malformed_query_string_is_a_bad_request() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/services?q=first&q=second").await;
    assert_eq!(response.status, StatusCode::BAD_REQUEST);
    assert_eq!(response.json()["code"], "error.bad_query");
}

#[tokio::test]
async fn returns_one_service_with_its_full_definition() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/services/tvet-incomplete-certificate").await;
    assert_eq!(response.status, StatusCode::OK);
    let body = response.json();
    assert_eq!(
        body["term"]["stated"],
        serde_json::json!({"value": 3, "unit": "working_days"})
    );
    assert_eq!(body["term"]["outside_provider_location"]["value"], 8);
    assert_eq!(
        body["refusal_grounds"]["items"].as_array().unwrap().len(),
        4
    );
    assert_eq!(
        body["channels"]["submit"],
        serde_json::json!(["provider_office", "state_corporation"])
    );
}

#[tokio::test]
async fn silence_of_the_seed_is_explicit() {
    let app = TestApp::spawn().await;
    let body = app.get("/api/services/guardianship-reference").await.json();
    assert_eq!(body["fee"], "not_in_seed");
    assert_eq!(body["recipients"], "not_in_seed");
    assert!(body["term"]["stated"].is_null());
    assert!(
        body["term"]["derived"].is_object(),
        "the estimate from the steps is given as derived"
    );
}

#[tokio::test]
async fn an_unknown_service_is_a_localised_404() {
    let app = TestApp::spawn().await;
    let response = app.get("/api/services/no-such-service?lang=kk").await;
    assert_eq!(response.status, StatusCode::NOT_FOUND);
    let body = response.json();
    assert_eq!(body["code"], "error.service_not_found");
    assert_eq!(body["message"], "Мұндай қызмет жоқ.");
}

#[tokio::test]
async fn unchanged_responses_revalidate_with_a_304() {
    let app = TestApp::spawn().await;
    let first = app.get("/api/services/school-enrollment").await;
    let etag = first.header("etag").unwrap().to_string();
    assert_eq!(first.header("cache-control"), Some("no-cache"));
    let second = app
        .request(
            Method::GET,
            "/api/services/school-enrollment",
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(second.status, StatusCode::NOT_MODIFIED);
    assert!(second.body.is_empty());

    let list = app.get("/api/services?category=schools").await;
    let list_etag = list.header("etag").unwrap().to_string();
    let other = app.get("/api/services?category=teachers").await;
    assert_ne!(
        other.header("etag").unwrap(),
        list_etag,
        "different filters, different ETags"
    );
}

#[tokio::test]
async fn json_responses_are_compressed_when_accepted() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::GET, "/api/services", &[("accept-encoding", "br")])
        .await;
    assert_eq!(response.header("content-encoding"), Some("br"));
    let mut plain = Vec::new();
    brotli_decompress(&response.body, &mut plain);
    let body: serde_json::Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(body.as_array().unwrap().len(), 16);
}

fn brotli_decompress(input: &[u8], out: &mut Vec<u8>) {
    brotli::BrotliDecompress(&mut &input[..], out).expect("valid brotli");
}

#[tokio::test]
async fn unknown_api_paths_get_json_404_not_the_app() {
    let app = TestApp::spawn().await;
    for path in ["/api/nope", "/api", "/api/services/x/y"] {
        let response = app.get(path).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.json()["code"], "error.not_found", "{path}");
    }
}
