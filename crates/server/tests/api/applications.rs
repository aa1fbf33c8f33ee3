use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{DEMO_OFFICER_SCHOOL_201, Session, TestApp, TestResponse, iin_born};
use portal_domain::eds::KeyPurpose;

pub(crate) async fn demo() -> TestApp {
    TestApp::with(&[
        ("PORTAL_DEMO", "1"),
        ("PORTAL_MAX_FILE_MB", "2"),
        ("PORTAL_MAX_APPLICATION_MB", "3"),
    ])
    .await
}

pub(crate) async fn new_draft(app: &TestApp, who: &Session, service: &str) -> Value {
    let created = app
        .send(
            Method::POST,
            "/api/applications",
            Some(json!({"service_id": service})),
            Some(who),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    created.json()
}

/// A complete set of answers for first-grade enrolment, for a child born in 2019.
/// A complete first-grade draft of `who` with `answers`, the child's photo and a copy of the
/// birth certificate (the test children are not in the demo population register): its id and
/// version, ready to sign.
pub(crate) async fn ready_enrolment(app: &TestApp, who: &Session, answers: Value) -> (String, i64) {
    enrolment_draft(
        app,
        who,
        answers,
        &[
            ("child-photo", "photo.pdf"),
            ("child-birth-certificate", "birth-certificate.pdf"),
        ],
    )
    .await
}

/// A first-grade draft of `who` with `answers` and a small PDF in each of `files` (slot, file
/// name): its id and version.
pub(crate) async fn enrolment_draft(
    app: &TestApp,
    who: &Session,
    answers: Value,
    files: &[(&str, &str)],
) -> (String, i64) {
    let id = new_draft(app, who, "school-enrollment").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(save(app, who, &id, 1, answers).await.status, StatusCode::OK);
    for (slot, name) in files {
        assert_eq!(
            attach(app, who, &id, slot, name, pdf_bytes(1000))
                .await
                .status,
            StatusCode::OK
        );
    }
    let version = app
        .get_as(&format!("/api/applications/{id}"), who)
        .await
        .json()["version"]
        .as_i64()
        .unwrap();
    (id, version)
}

/// A parent with a signed first-grade draft, ready to send.
pub(crate) struct SignedEnrolment {
    pub parent: Session,
    pub id: String,
    pub version: i64,
    pub signature: String,
}

/// `n` new parents, each with a complete first-grade draft signed with their own key.
pub(crate) async fn signed_enrolments(app: &TestApp, n: usize) -> Vec<SignedEnrolment> {
    let mut ready = Vec::with_capacity(n);
    for _ in 0..n {
        let parent = app.citizen().await;
        let (id, version) = ready_enrolment(app, &parent, enrolment_answers()).await;
        let key = app.key_for(&parent.iin, KeyPurpose::Signing);
        let signature = app.sign(&parent, &id, &key).await;
        ready.push(SignedEnrolment {
            parent,
            id,
            version,
            signature,
        });
    }
    ready
}

/// A girl's IIN, born on 15 May of the year she turns 6: of first-grade age in any year.
pub(crate) fn first_grader_iin() -> String {
    let year = portal_domain::calendar::local_day_and_minute(portal_server::db::now_millis())
        .0
        .year()
        - 6;
    iin_born(&format!("{:02}05156", year - 2000))
}

pub(crate) fn enrolment_answers() -> Value {
    json!({
        "on_behalf": "child",
        "subject_iin": first_grader_iin(),
        "subject_last_name": "Серікова",
        "subject_first_name": "Айша",
        "school": "almaty-school-201",
        "grade": "1",
        "study_form": "full_time",
        "priority": "none",
        "residence": {"locality": "Алматы", "street": "Абай даңғылы", "house": "10", "apartment": "5"}
    })
}

pub(crate) async fn save(
    app: &TestApp,
    who: &Session,
    id: &str,
    version: i64,
    answers: Value,
) -> TestResponse {
    app.send(
        Method::PUT,
        &format!("/api/applications/{id}"),
        Some(json!({"version": version, "answers": answers})),
        Some(who),
    )
    .await
}

pub(crate) fn field_codes(response: &crate::helpers::TestResponse) -> Vec<(String, String)> {
    response.json()["fields"]
        .as_array()
        .unwrap_or(&vec![])
        .iter()
        .map(|f| {
            (
                f["field"].as_str().unwrap().to_string(),
                f["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

pub(crate) fn pdf_bytes(len: usize) -> Vec<u8> {
    let mut bytes = b"%PDF-1.7\n".to_vec();
    bytes.extend((0..len.saturating_sub(bytes.len())).map(|i| (i * 7 % 251) as u8));
    bytes
}

/// Announces and uploads `bytes` in one request; returns the attachment.
pub(crate) async fn attach(
    app: &TestApp,
    who: &Session,
    id: &str,
    slot: &str,
    name: &str,
    bytes: Vec<u8>,
) -> TestResponse {
    let announced = app
        .send(
            Method::POST,
            &format!("/api/applications/{id}/attachments"),
            Some(json!({"slot": slot, "file_name": name, "size": bytes.len()})),
            Some(who),
        )
        .await;
    assert_eq!(
        announced.status,
        StatusCode::CREATED,
        "{}",
        announced.text()
    );
    let attachment = announced.json()["id"].as_str().unwrap().to_string();
    app.send_bytes(
        Method::PATCH,
        &format!("/api/applications/{id}/attachments/{attachment}/content"),
        bytes,
        &[("upload-offset", "0")],
        who,
    )
    .await
}

#[tokio::test]
async fn a_draft_is_saved_read_back_listed_and_deleted() {
    let app = demo().await;
    let citizen = app.citizen().await;
    let draft = new_draft(&app, &citizen, "school-enrollment").await;
    let id = draft["id"].as_str().unwrap();
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["version"], 1);
    assert_eq!(draft["limits"]["max_file_bytes"], 2 << 20);

    // Half-finished answers are fine in a draft.
    let saved = save(
        &app,
        &citizen,
        id,
        1,
        json!({"on_behalf": "child", "school": "almaty-school-202"}),
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    assert_eq!(saved.json()["version"], 2);
    let read = app
        .get_as(&format!("/api/applications/{id}"), &citizen)
        .await
        .json();
    assert_eq!(read["answers"]["school"], "almaty-school-202");

    let second = new_draft(&app, &citizen, "school-enrollment").await;
    let list = app.get_as("/api/applications", &citizen).await.json();
    assert_eq!(
        list.as_array().unwrap().len(),
        2,
        "several drafts of one service may exist"
    );
    assert_eq!(list[0]["status"], "draft");
    assert!(list[0]["service_name"]["kk"].as_str().unwrap().len() > 3);

    let deleted = app
        .send(
            Method::DELETE,
            &format!("/api/applications/{}", second["id"].as_str().unwrap()),
            None,
            Some(&citizen),
        )
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get_as("/api/applications", &citizen)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn services_without_the_portal_channel_take_no_applications() {
    let app = demo().await;
    let citizen = app.citizen().await;
    for service in ["no-such-service", "../etc"] {
        let r = app
            .send(
                Method::POST,
                "/api/applications",
                Some(json!({"service_id": service})),
                Some(&citizen),
            )
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{service}");
        assert_eq!(r.json()["code"], "error.application.not_online");
    }
    let extra = app
        .send(
            Method::POST,
            "/api/applications",
            Some(json!({"service_id": "school-enrollment", "admin": true})),
            Some(&citizen),
        )
        .await;
    assert_eq!(extra.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn bad_answers_are_refused_field_by_field_and_nothing_saved_is_lost() {
    let app = demo().await;
    let citizen = app.citizen().await;
    let id = new_draft(&app, &citizen, "school-enrollment").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        save(
            &app,
            &citizen,
            &id,
            1,
            json!({"on_behalf": "child", "grade": "1"})
        )
        .await
        .status,
        StatusCode::OK
    );

    let mut bad = enrolment_answers();
    bad["subject_iin"] = json!("190515612345"); // wrong control digit
    bad["grade"] = json!("12"); // out of range
    bad["favourite_colour"] = json!("blue"); // not in the form
    bad["study_form"] = json!("distance"); // not a choice
    bad["residence"] = json!({"locality": "Алматы", "street": "x".repeat(201), "house": "1"});
    let refused = save(&app, &citizen, &id, 2, bad).await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text()
    );
    let codes = field_codes(&refused);
    for expected in [
        ("favourite_colour", "error.form.unknown_field"),
        ("subject_iin", "error.iin.checksum"),
        ("grade", "error.form.number_range"),
        ("study_form", "error.form.not_a_choice"),
        ("residence.street", "error.form.too_long"),
    ] {
        assert!(
            codes.contains(&(expected.0.to_string(), expected.1.to_string())),
            "{expected:?} in {codes:?}"
        );
    }
    let body = refused.json();
    let message = &body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "grade")
        .unwrap()["message"];
    assert!(
        message.as_str().unwrap().contains("11"),
        "the message names the range: {message}"
    );

    // A representative's power of attorney cannot be dated in the future.
    let mut future = enrolment_answers();
    future["on_behalf"] = json!("representative");
    future["poa_number"] = json!("12-345");
    future["poa_date"] = json!("2999-01-01");
    let refused = save(&app, &citizen, &id, 2, future).await;
    assert!(
        field_codes(&refused).contains(&("poa_date".into(), "error.form.date_too_late".into())),
        "{}",
        refused.text()
    );

    // A school that does not exist, or an organisation that is not a school.
    for school in ["almaty-school-999", "almaty-education-department"] {
        let mut wrong = enrolment_answers();
        wrong["school"] = json!(school);
        let refused = save(&app, &citizen, &id, 2, wrong).await;
        assert_eq!(
            field_codes(&refused),
            vec![(
                "school".to_string(),
                "error.organisation.unknown".to_string()
            )],
            "{school}"
        );
    }

    // None of that touched what was saved.
    let read = app
        .get_as(&format!("/api/applications/{id}"), &citizen)
        .await
        .json();
    assert_eq!(read["version"], 2);
    assert_eq!(read["answers"], json!({"on_behalf": "child", "grade": "1"}));
}

#[tokio::test]
async fn a_stale_edit_is_a_conflict_not_an_overwrite() {
    let app = demo().await;
    let citizen = app.citizen().await;
    let id = new_draft(&app, &citizen, "school-enrollment").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        save(&app, &citizen, &id, 1, json!({"grade": "1"}))
            .await
            .status,
        StatusCode::OK
    );
    // Another device still holds version 1.
    let stale = save(&app, &citizen, &id, 1, json!({"grade": "2"})).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(stale.json()["code"], "error.application.conflict");
    assert_eq!(
        app.get_as(&format!("/api/applications/{id}"), &citizen)
            .await
            .json()["answers"]["grade"],
        "1"
    );
}

#[tokio::test]
async fn another_persons_application_does_not_exist_for_you() {
    let app = demo().await;
    let owner = app.citizen().await;
    let stranger = app.citizen().await;
    let id = new_draft(&app, &owner, "school-enrollment").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let uploaded = attach(
        &app,
        &owner,
        &id,
        "child-photo",
        "photo.pdf",
        pdf_bytes(100),
    )
    .await
    .json();
    let attachment = uploaded["id"].as_str().unwrap();
    // Not even the school's officer sees a draft.
    let officer = app
        .sign_in(DEMO_OFFICER_SCHOOL_201.0, DEMO_OFFICER_SCHOOL_201.1)
        .await;
    let r = app
        .get_as(
            &format!("/api/workspace/applications/{id}/attachments/{attachment}/content"),
            &officer,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let paths = [
        (Method::GET, format!("/api/applications/{id}"), None),
        (
            Method::PUT,
            format!("/api/applications/{id}"),
            Some(json!({"version": 1, "answers": {}})),
        ),
        (Method::DELETE, format!("/api/applications/{id}"), None),
        (
            Method::POST,
            format!("/api/applications/{id}/submission"),
            Some(json!({"version": 1, "consent": true})),
        ),
        (Method::GET, format!("/api/applications/{id}/receipt"), None),
        (
            Method::POST,
            format!("/api/applications/{id}/attachments"),
            Some(json!({"slot": "other", "file_name": "a.pdf", "size": 10})),
        ),
        (
            Method::GET,
            format!("/api/applications/{id}/attachments/{attachment}"),
            None,
        ),
        (
            Method::GET,
            format!("/api/applications/{id}/attachments/{attachment}/content"),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/applications/{id}/attachments/{attachment}"),
            None,
        ),
    ];
    for (method, path, body) in paths {
        let r = app.send(method.clone(), &path, body, Some(&stranger)).await;
        assert_eq!(
            r.status,
            StatusCode::NOT_FOUND,
            "{method} {path}: {}",
            r.text()
        );
    }
    let r = app
        .send_bytes(
            Method::PATCH,
            &format!("/api/applications/{id}/attachments/{attachment}/content"),
            b"%PDF-".to_vec(),
            &[("upload-offset", "0")],
            &stranger,
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(
        app.get_as("/api/applications", &stranger)
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The owner still has everything.
    assert_eq!(
        app.get_as(&format!("/api/applications/{id}"), &owner)
            .await
            .json()["attachments"][0]["id"],
        attachment
    );
}

#[tokio::test]
async fn an_upload_resumes_after_a_break_and_comes_back_byte_for_byte() {
    let app = demo().await;
    let citizen = app.citizen().await;
    let id = new_draft(&app, &citizen, "school-enrollment").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let file = pdf_bytes(300_000);
    let (attachment, content) = announce(
        &app,
        &citizen,
        &id,
        "child-health-record-063",
        "Форма 063.pdf",
        file.len(),
    )
    .await;

    let first = app
        .send_bytes(
            Method::PATCH,
            &content,
            file[..100_000].to_vec(),
            &[("upload-offset", "0")],
            &citizen,
        )
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text());
    assert_eq!(first.json()["received"], 100_000);
    assert_eq!(first.json()["complete"], false);

    // The browser lost track: sending from the wrong place writes nothing.
    let wrong = app
        .send_bytes(
            Method::PATCH,
            &content,
            file[50_000..].to_vec(),
            &[("upload-offset", "50000")],
            &citizen,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::CONFLICT);
    assert_eq!(wrong.json()["code"], "error.upload.offset");
    let missing = app
        .send_bytes(
            Method::PATCH,
            &content,
            file[100_000..].to_vec(),
            &[],
            &citizen,
        )
        .await;
    assert_eq!(missing.status, StatusCode::BAD_REQUEST);

    // It asks where to continue, and does.
    let progress = app
        .get_as(
            &format!("/api/applications/{id}/attachments/{attachment}"),
            &citizen,
        )
        .await
        .json();
    let offset = progress["received"].as_u64().unwrap();
    assert_eq!(offset, 100_000);
    let rest = app
        .send_bytes(
            Method::PATCH,
            &content,
            file[offset as usize..].to_vec(),
            &[("upload-offset", &offset.to_string())],
            &citizen,
        )
        .await;
    assert_eq!(rest.status, StatusCode::OK, "{}", rest.text());
    let done = rest.json();
    assert_eq!(done["complete"], true);
    assert_eq!(done["content_type"], "application/pdf");
    use sha2::Digest;
    let expected: String = sha2::Sha256::digest(&file)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(done["sha256"], expected);

    let download = app.get_as(&content, &citizen).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.body, file);
    assert_eq!(download.header("content-type"), Some("application/pdf"));
    assert_eq!(download.header("x-content-type-options"), Some("nosniff"));
    let disposition = download.header("content-disposition").unwrap();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("filename*=UTF-8''%D0%A4"),
        "{disposition}"
    );

    // A part of it, as a resuming download asks.
    let ranged = |range: &'static str| {
        let (app, content, citizen) = (&app, &content, &citizen);
        async move {
            app.send_bytes(Method::GET, content, vec![], &[("range", range)], citizen)
                .await
        }
    };
    let part = ranged("bytes=1000-1999").await;
    assert_eq!(part.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(part.body, file[1000..2000]);
    assert_eq!(
        part.header("content-range"),
        Some(format!("bytes 1000-1999/{}", file.len()).as_str())
    );
    let beyond = ranged("bytes=400000-").await;
    assert_eq!(beyond.status, StatusCode::RANGE_NOT_SATISFIABLE);

    // Stored under our own name, outside the published directory; the upload's parts are gone.
    let blobs = &app.state.blobs;
    let stored = portal_server::attachments::storage::key(&attachment);
    assert_eq!(blobs.read(&stored).await.unwrap().unwrap(), file);
    if app.state.config.s3.is_none() {
        let on_disk = app.state.config.data_dir.join(stored.as_ref());
        assert_eq!(std::fs::read(&on_disk).unwrap(), file);
        assert!(!on_disk.starts_with(&app.state.config.dist_dir));
    }
    let uploads = blobs.list(&"uploads".into()).await.unwrap();
    assert!(uploads.is_empty(), "left behind: {uploads:?}");

    let removed = app
        .send(
            Method::DELETE,
            &format!("/api/applications/{id}/attachments/{attachment}"),
            None,
            Some(&citizen),
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT);
    assert_eq!(
        blobs.read(&stored).await.unwrap(),
        None,
        "the file goes with the attachment"
    );
}

/// Announces an attachment of `size` bytes; its id and the address its bytes go to.
pub(crate) async fn announce(
    app: &TestApp,
    citizen: &Session,
    id: &str,
    slot: &str,
    name: &str,
    size: usize,
) -> (String, String) {
    let announced = app
        .send(
            Method::POST,
            &format!("/api/applications/{id}/attachments"),
            Some(json!({"slot": slot, "file_name": name, "size": size})),
            Some(citizen),
        )
        .await;
    assert_eq!(
        announced.status,
        StatusCode::CREATED,
        "{}",
        announced.text()
    );
    let attachment = announced.json()["id"].as_str().unwrap().to_string();
    let content = format!("/api/applications/{id}/attachments/{attachment}/content");
    (attachment, content)
}

/// Sends `file` as a new attachment in pieces that end at `cuts`; the answer to each piece.
async fn upload_in_pieces(
    app: &TestApp,
    citizen: &Session,
    id: &str,
    name: &str,
    file: &[u8],
    cuts: &[usize],
) -> Vec<TestResponse> {
    let (_, content) = announce(app, citizen, id, "other", name, file.len()).await;
    let mut answers = Vec::new();
    let mut start = 0;
    for &end in cuts.iter().chain([file.len()].iter()) {
        let answer = app
            .send_bytes(
                Method::PATCH,
                &content,
                file[start..end].to_vec(),
                &[("upload-offset", &start.to_string())],
                citizen,
            )
            .await;
        let failed = answer.status != StatusCode::OK;
        answers.push(answer);
        if failed {
            break;
        }
        start = end;
    }
    answers
}

#[tokio::test]
async fn the_first_bytes_are_judged_however_the_requests_cut_them() {
    let app = demo().await;
    let citizen = app.citizen().await;
    let id = new_draft(&app, &citizen, "school-enrollment").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let file = pdf_bytes(5_000);
    let answers = upload_in_pieces(&app, &citizen, &id, "a.pdf", &file, &[3, 6, 2_000]).await;
    assert!(answers.iter().all(|a| a.status == StatusCode::OK));
    let done = answers.last().unwrap().json();
    assert_eq!(done["complete"], true);
    assert_eq!(done["content_type"], "application/pdf");
    let attachment = done["id"].as_str().unwrap();
    let download = app
        .get_as(
            &format!("/api/applications/{id}/attachments/{attachment}/content"),
            &citizen,
        )
        .await;
    assert_eq!(download.body, file);

    // An executable announced as a PDF is refused once its first bytes are all in, and forgotten.
    let mut fake = b"MZ\x90\0\x03\0\0\0".to_vec();
    fake.extend_from_slice(&[0u8; 3_000]);
    let answers = upload_in_pieces(&app, &citizen, &id, "b.pdf", &fake, &[3, 6]).await;
    assert_eq!(
        answers.len(),
        3,
        "the third piece completes the first eight bytes"
    );
    let refused = answers.last().unwrap();
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.text()
    );
    assert_eq!(
        field_codes(refused),
        vec![("file".to_string(), "error.upload.file_type".to_string())]
    );
    let uploads = app.state.blobs.list(&"uploads".into()).await.unwrap();
    assert!(uploads.is_empty(), "left behind: {uploads:?}");
    let view = app
        .get_as(&format!("/api/applications/{id}"), &citizen)
        .await
        .json();
    assert_eq!(view["attachments"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn files_are_judged_by_content_size_name_and_slot() {
    let app = demo().await;
    let citizen = app.citizen().await;
    let id = new_draft(&app, &citizen, "school-enrollment").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let announce = |slot: &str, name: &str, size: u64| {
        let body = json!({"slot": slot, "file_name": name, "size": size});
        let path = format!("/api/applications/{id}/attachments");
        let citizen = citizen.clone();
        let app = &app;
        async move {
            app.send(Method::POST, &path, Some(body), Some(&citizen))
                .await
        }
    };

    // An executable named like a PDF is refused at its first bytes, and forgotten.
    let mut exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00".to_vec();
    exe.resize(5000, 0);
    let r = attach(&app, &citizen, &id, "other", "birth-certificate.pdf", exe).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(
        field_codes(&r),
        vec![("file".to_string(), "error.upload.file_type".to_string())]
    );
    assert!(
        app.get_as(&format!("/api/applications/{id}"), &citizen)
            .await
            .json()["attachments"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // HTML is not a document either, whatever it claims.
    let r = attach(
        &app,
        &citizen,
        &id,
        "other",
        "scan.png",
        b"<html><script>alert(1)</script></html>".to_vec(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    // JPEG and PNG by content are fine, whatever their names.
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, b'J', b'F', b'I', b'F'];
    jpeg.resize(2000, 7);
    let r = attach(&app, &citizen, &id, "child-photo", "photo", jpeg).await;
    assert_eq!(r.json()["content_type"], "image/jpeg", "{}", r.text());

    // Names with paths or control characters.
    for (name, code) in [
        ("../../etc/passwd", "error.file_name.path"),
        ("..\\..\\boot.ini", "error.file_name.path"),
        ("a\u{0}.pdf", "error.file_name.characters"),
        ("", "error.file_name.empty"),
    ] {
        let r = announce("other", name, 100).await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{name:?}");
        assert_eq!(
            field_codes(&r),
            vec![("file_name".to_string(), code.to_string())],
            "{name:?}"
        );
    }
    // Sizes: per file (2 MB here), empty, and the application's total (3 MB here).
    let r = announce("other", "big.pdf", (2 << 20) + 1).await;
    assert_eq!(
        field_codes(&r),
        vec![("size".to_string(), "error.upload.too_big".to_string())]
    );
    assert!(
        r.json()["fields"][0]["message"]
            .as_str()
            .unwrap()
            .contains("2 MB")
    );
    assert_eq!(
        field_codes(&announce("other", "empty.pdf", 0).await),
        vec![("size".to_string(), "error.upload.empty".to_string())]
    );
    assert_eq!(
        announce("other", "a.pdf", 2 << 20).await.status,
        StatusCode::CREATED
    );
    let r = announce("other", "b.pdf", 1 << 20).await;
    assert_eq!(
        field_codes(&r),
        vec![(
            "size".to_string(),
            "error.upload.application_full".to_string()
        )]
    );
    // Slots: unknown, and full (one photo only).
    assert_eq!(
        field_codes(&announce("passport-of-mars", "a.pdf", 10).await),
        vec![("slot".to_string(), "error.upload.slot".to_string())]
    );
    assert_eq!(
        field_codes(&announce("child-photo", "b.jpg", 10).await),
        vec![("slot".to_string(), "error.form.too_many_files".to_string())]
    );

    // More bytes than announced.
    let small = announce("child-health-record-063", "small.pdf", 10)
        .await
        .json();
    let r = app
        .send_bytes(
            Method::PATCH,
            &format!(
                "/api/applications/{id}/attachments/{}/content",
                small["id"].as_str().unwrap()
            ),
            pdf_bytes(20),
            &[("upload-offset", "0")],
            &citizen,
        )
        .await;
    assert_eq!(r.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(r.json()["code"], "error.upload.overflow");
}

#[tokio::test]
async fn submission_needs_everything_and_consent_then_numbers_once() {
    let app = demo().await;
    let citizen = app.citizen().await;
    let id = new_draft(&app, &citizen, "school-enrollment").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let key = app.key_for(&citizen.iin, KeyPurpose::Signing);
    let signature = std::cell::RefCell::new(String::new());
    let submit = |version: i64, consent: bool| {
        let path = format!("/api/applications/{id}/submission");
        let citizen = citizen.clone();
        let app = &app;
        let signature = signature.borrow().clone();
        async move {
            app.send(
                Method::POST,
                &path,
                Some(json!({"version": version, "consent": consent, "signature": signature})),
                Some(&citizen),
            )
            .await
        }
    };

    let incomplete = submit(1, true).await;
    assert_eq!(incomplete.status, StatusCode::UNPROCESSABLE_ENTITY);
    let codes = field_codes(&incomplete);
    for field in [
        "on_behalf",
        "school",
        "grade",
        "study_form",
        "residence.locality",
    ] {
        assert!(
            codes.iter().any(|(f, _)| f == field),
            "{field} is required: {codes:?}"
        );
    }

    assert_eq!(
        save(&app, &citizen, &id, 1, enrolment_answers())
            .await
            .status,
        StatusCode::OK
    );
    let photo = attach(
        &app,
        &citizen,
        &id,
        "child-photo",
        "photo.pdf",
        pdf_bytes(1000),
    )
    .await;
    assert_eq!(photo.status, StatusCode::OK);
    // The test child is not in the demo population register: the certificate copy is needed.
    let certificate = attach(
        &app,
        &citizen,
        &id,
        "child-birth-certificate",
        "birth-certificate.pdf",
        pdf_bytes(1000),
    )
    .await;
    assert_eq!(certificate.status, StatusCode::OK);
    let version = app
        .get_as(&format!("/api/applications/{id}"), &citizen)
        .await
        .json()["version"]
        .as_i64()
        .unwrap();

    let unsigned = submit(version, true).await;
    assert_eq!(
        field_codes(&unsigned),
        vec![("signature".to_string(), "error.eds.required".to_string())]
    );
    *signature.borrow_mut() = app.sign(&citizen, &id, &key).await;

    let no_consent = submit(version, false).await;
    assert_eq!(
        field_codes(&no_consent),
        vec![(
            "consent".to_string(),
            "error.application.consent".to_string()
        )]
    );
    let stale = submit(version - 1, true).await;
    assert_eq!(stale.status, StatusCode::CONFLICT);

    // Two devices press "Send" at the same moment: one application, one number.
    let (a, b) = tokio::join!(submit(version, true), submit(version, true));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(
        statuses,
        [StatusCode::OK, StatusCode::CREATED],
        "{} / {}",
        a.text(),
        b.text()
    );
    let (a, b) = (a.json(), b.json());
    let number = a["submission"]["number"].as_str().unwrap().to_string();
    assert_eq!(b["submission"]["number"], number.as_str());
    assert!(
        portal_domain::application::is_application_number(&number),
        "{number}"
    );
    assert_eq!(a["status"], "submitted");
    assert_eq!(a["submission"]["organisation_id"], "almaty-school-201");
    assert!(
        a["submission"]["expected_result_date"].is_string(),
        "five working days: {a}"
    );
    assert_eq!(
        a["answers"]["photo"],
        json!([photo.json()["id"]]),
        "the file field lists its attachment"
    );

    // The school's officer can read the photo; an officer of another school cannot know it exists.
    let photo_path = format!(
        "/api/workspace/applications/{id}/attachments/{}/content",
        photo.json()["id"].as_str().unwrap()
    );
    let officer = app
        .sign_in(DEMO_OFFICER_SCHOOL_201.0, DEMO_OFFICER_SCHOOL_201.1)
        .await;
    let download = app.get_as(&photo_path, &officer).await;
    assert_eq!(download.status, StatusCode::OK);
    assert_eq!(download.body, pdf_bytes(1000));
    assert!(
        download
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment;")
    );
    let other_school = app.sign_in("800707362020", "Askhat-officer-2026").await;
    assert_eq!(
        app.get_as(&photo_path, &other_school).await.status,
        StatusCode::NOT_FOUND
    );

    // A later retry is answered the same way, and the application no longer changes.
    let again = submit(version, true).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["submission"]["number"], number.as_str());
    let late_edit = save(&app, &citizen, &id, version + 1, enrolment_answers()).await;
    assert_eq!(late_edit.status, StatusCode::CONFLICT);
    assert_eq!(late_edit.json()["code"], "error.application.not_draft");
    assert_eq!(
        app.send(
            Method::DELETE,
            &format!("/api/applications/{id}"),
            None,
            Some(&citizen)
        )
        .await
        .status,
        StatusCode::CONFLICT
    );

    // The list, the notification, the receipt and its public verification.
    let list = app.get_as("/api/applications", &citizen).await.json();
    assert_eq!(list[0]["number"], number.as_str());
    let notifications = app.get_as("/api/notifications", &citizen).await.json();
    assert!(
        notifications[0]["title"]["ru"]
            .as_str()
            .unwrap()
            .contains(&number)
    );
    let receipt = app
        .get_as(&format!("/api/applications/{id}/receipt?lang=kk"), &citizen)
        .await;
    assert_eq!(receipt.status, StatusCode::OK);
    assert_eq!(receipt.header("content-type"), Some("application/pdf"));
    assert!(receipt.body.starts_with(b"%PDF-"));
    assert!(
        receipt
            .header("content-disposition")
            .unwrap()
            .contains(&number)
    );
    let url = a["submission"]["verification_url"].as_str().unwrap();
    let code = url.rsplit('/').next().unwrap();
    let verified = app.get(&format!("/api/verify/{code}")).await;
    assert_eq!(verified.status, StatusCode::OK);
    assert_eq!(verified.json()["number"], number.as_str());
    assert!(
        !verified.text().contains(&citizen.iin),
        "no personal data on the public page"
    );
    assert_eq!(
        app.get("/api/verify/00000000000000000000000000000000")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_draft_has_no_receipt() {
    let app = demo().await;
    let citizen = app.citizen().await;
    let id = new_draft(&app, &citizen, "school-enrollment").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        app.get_as(&format!("/api/applications/{id}/receipt"), &citizen)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn every_portal_service_can_be_drafted() {
    let app = demo().await;
    let citizen = app.citizen().await;
    let services = app.get("/api/services").await.json();
    let mut drafted = 0;
    for s in services.as_array().unwrap() {
        let id = s["id"].as_str().unwrap();
        let full = app.get(&format!("/api/services/{id}")).await.json();
        let online = full["channels"]["submit"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "portal");
        let r = app
            .send(
                Method::POST,
                "/api/applications",
                Some(json!({"service_id": id})),
                Some(&citizen),
            )
            .await;
        if online {
            assert_eq!(r.status, StatusCode::CREATED, "{id}: {}", r.text());
            drafted += 1;
        } else {
            assert_eq!(
                r.status,
                StatusCode::NOT_FOUND,
                "{id} has no portal channel"
            );
        }
    }
    assert_eq!(drafted, 12, "the catalogue's 12 portal services");
}

/// clamd with a database holding only the EICAR test signature, on a Unix socket; stopped on drop.
struct Clamd {
    child: std::process::Child,
    dir: tempfile::TempDir,
}

impl Clamd {
    const EICAR: &'static str =
        r"X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";

    fn start() -> Clamd {
        let clamd = ["/usr/sbin/clamd", "/usr/bin/clamd"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists());
        let clamd = clamd
            .expect("clamd is not installed: run scripts/bootstrap --test (Debian clamav-daemon)");
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("db");
        std::fs::create_dir(&db).unwrap();
        // A body signature: the EICAR string anywhere in a file of any type.
        let hex: String = Self::EICAR.bytes().map(|b| format!("{b:02x}")).collect();
        std::fs::write(
            db.join("eicar.ndb"),
            format!("Eicar-Test-Signature:0:*:{hex}\n"),
        )
        .unwrap();
        let socket = dir.path().join("clamd.sock");
        let config = dir.path().join("clamd.conf");
        std::fs::write(
            &config,
            format!(
                "Foreground yes\nLocalSocket {}\nDatabaseDirectory {}\nLogFile {}\nStreamMaxLength 50M\n",
                socket.display(),
                db.display(),
                dir.path().join("clamd.log").display()
            ),
        )
        .unwrap();
        let child = std::process::Command::new(clamd)
            .arg(format!("--config-file={}", config.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("clamd starts");
        for _ in 0..300 {
            if socket.exists() {
                return Clamd { child, dir };
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!(
            "clamd did not open its socket: {}",
            std::fs::read_to_string(dir.path().join("clamd.log")).unwrap_or_default()
        );
    }

    fn socket(&self) -> String {
        self.dir.path().join("clamd.sock").display().to_string()
    }
}

impl Drop for Clamd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn with_clamd_a_virus_is_refused_and_forgotten_and_clean_files_pass() {
    let clamd = Clamd::start();
    let app = TestApp::with(&[("PORTAL_DEMO", "1"), ("PORTAL_CLAMD", &clamd.socket())]).await;
    let citizen = app.citizen().await;
    let id = new_draft(&app, &citizen, "school-enrollment").await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let mut infected = b"%PDF-1.4\n".to_vec();
    infected.extend_from_slice(Clamd::EICAR.as_bytes());
    let r = attach(&app, &citizen, &id, "other", "scan.pdf", infected).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    assert_eq!(
        field_codes(&r),
        vec![("file".to_string(), "error.upload.virus".to_string())]
    );
    let view = app
        .get_as(&format!("/api/applications/{id}"), &citizen)
        .await
        .json();
    assert!(view["attachments"].as_array().unwrap().is_empty());
    for prefix in ["attachments", "uploads"] {
        let left = app.state.blobs.list(&prefix.into()).await.unwrap();
        assert!(left.is_empty(), "the infected file is deleted: {left:?}");
    }

    let clean = attach(&app, &citizen, &id, "other", "scan.pdf", pdf_bytes(50_000)).await;
    assert_eq!(clean.status, StatusCode::OK, "{}", clean.text());
    assert_eq!(clean.json()["complete"], true);
}

#[tokio::test]
async fn when_clamd_is_down_nothing_unscanned_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let nowhere = dir.path().join("no-clamd.sock").display().to_string();
    let app = TestApp::with(&[("PORTAL_DEMO", "1"), ("PORTAL_CLAMD", &nowhere)]).await;
    let citizen = app.citizen().await;
    let id = new_draft(&app, &citizen, "school-enrollment").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = attach(&app, &citizen, &id, "other", "scan.pdf", pdf_bytes(1000)).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.json()["code"], "error.upload.scanner_down");
    let view = app
        .get_as(&format!("/api/applications/{id}"), &citizen)
        .await
        .json();
    assert_eq!(view["attachments"][0]["complete"], false);
    assert_eq!(
        view["attachments"][0]["received"], 0,
        "the last part is sent again once the scanner is back"
    );
}

/// Valid answers for every visible field of a form, as a careful applicant would give them;
/// required file fields get a PDF uploaded into their slot.
pub(crate) async fn fill_in(
    app: &TestApp,
    who: &Session,
    id: &str,
    form: &portal_domain::form::FormDefinition,
    providers: &[Value],
) -> Value {
    use portal_domain::form::{Answer, FieldKind};
    fn simple(kind: &FieldKind, providers: &[Value]) -> Option<Value> {
        Some(match kind {
            FieldKind::Text { min_length, .. } => {
                json!("Тест".repeat((*min_length as usize).div_ceil(4).max(1)))
            }
            // The least number, but the class fits the 16-year-old the IINs below are for:
            // a first grade brings in the first-grade rules, tested on their own.
            FieldKind::Number { min, max } => json!(((*min).max(10).min(*max)).to_string()),
            FieldKind::Date { min, max } => {
                let today =
                    portal_domain::calendar::local_day_and_minute(portal_server::db::now_millis())
                        .0;
                let day = min
                    .map(|m| m.resolve(today))
                    .or(max.map(|m| m.resolve(today)))
                    .unwrap_or(today);
                json!(day.to_string())
            }
            FieldKind::Iin => json!(iin_born("1003046")),
            FieldKind::Name => json!("Айгүл"),
            FieldKind::Phone => json!("+7 701 123 45 67"),
            FieldKind::Email => json!("test@example.kz"),
            FieldKind::Select { options } | FieldKind::Radio { options } => {
                json!(options[options.len() - 1].value)
            }
            FieldKind::Checkbox => json!(true),
            FieldKind::Checkboxes { options, min, .. } => json!(
                options
                    .iter()
                    .take((*min).max(1) as usize)
                    .map(|o| o.value.clone())
                    .collect::<Vec<_>>()
            ),
            FieldKind::Address => {
                json!({"locality": "Алматы", "street": "Абай даңғылы", "house": "1", "apartment": ""})
            }
            FieldKind::Organisation { kind } => {
                let code = serde_json::to_value(kind).unwrap();
                json!(providers.iter().find(|o| o["kind"] == code)?["id"])
            }
            FieldKind::PriorityCategory { .. } => json!(portal_domain::form::NO_PRIORITY),
            FieldKind::Group { .. } | FieldKind::File { .. } => return None,
        })
    }
    let mut answers = serde_json::Map::new();
    for page in form.all_pages() {
        let typed: portal_domain::form::Answers =
            serde_json::from_value(Value::Object(answers.clone())).unwrap();
        if !page.visible_if.as_ref().is_none_or(|c| c.holds(&typed)) {
            continue;
        }
        for field in &page.fields {
            let typed: portal_domain::form::Answers =
                serde_json::from_value(Value::Object(answers.clone())).unwrap();
            if !field.visible_if.as_ref().is_none_or(|c| c.holds(&typed)) {
                continue;
            }
            match &field.kind {
                FieldKind::Group {
                    min_items, fields, ..
                } => {
                    let items: Vec<Value> = (0..(*min_items).max(1))
                        .map(|_| {
                            Value::Object(
                                fields
                                    .iter()
                                    .filter_map(|f| {
                                        simple(&f.kind, providers).map(|v| (f.id.clone(), v))
                                    })
                                    .collect(),
                            )
                        })
                        .collect();
                    answers.insert(field.id.clone(), json!(items));
                }
                FieldKind::File { document, .. } if field.required => {
                    let r = attach(app, who, id, document, "copy.pdf", pdf_bytes(2000)).await;
                    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
                }
                FieldKind::File { .. } => {}
                kind => {
                    let value = simple(kind, providers)
                        .unwrap_or_else(|| panic!("no demo organisation for {}", field.id));
                    answers.insert(field.id.clone(), value);
                }
            }
        }
    }
    let _ = Answer::Flag(true);
    Value::Object(answers)
}

#[tokio::test]
async fn every_portal_service_can_be_completed_and_submitted() {
    let app = demo().await;
    let providers = app.get("/api/providers").await.json();
    let providers = providers.as_array().unwrap();
    let mut submitted = Vec::new();
    for service in app.state.catalogue.services() {
        let Some(form) = service
            .definition
            .form
            .clone()
            .filter(|_| service.definition.has_portal_channel())
        else {
            continue;
        };
        let citizen = app.citizen().await;
        let id = new_draft(&app, &citizen, &service.definition.id).await["id"]
            .as_str()
            .unwrap()
            .to_string();
        let answers = fill_in(&app, &citizen, &id, &form, providers).await;
        let saved = save(&app, &citizen, &id, 1, answers).await;
        assert_eq!(
            saved.status,
            StatusCode::OK,
            "{}: {}",
            service.definition.id,
            saved.text()
        );
        let version = saved.json()["version"].as_i64().unwrap();
        let sent = app.sign_and_submit(&citizen, &id, version).await;
        assert_eq!(
            sent.status,
            StatusCode::CREATED,
            "{}: {}",
            service.definition.id,
            sent.text()
        );
        for lang in ["kk", "ru", "en"] {
            let receipt = app
                .get_as(
                    &format!("/api/applications/{id}/receipt?lang={lang}"),
                    &citizen,
                )
                .await;
            assert_eq!(
                receipt.status,
                StatusCode::OK,
                "{} receipt in {lang}",
                service.definition.id
            );
        }
        submitted.push(service.definition.id.clone());
    }
    assert_eq!(submitted.len(), 12, "{submitted:?}");
}
