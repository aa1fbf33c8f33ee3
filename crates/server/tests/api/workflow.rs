//! Processing through the API: officers carry applications through the regulated lifecycle;
//! applicants follow it, pick pickup times, download the signed result; history is tamper-evident.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::applications::{
    demo, enrolment_answers, fill_in, new_draft, pdf_bytes, ready_enrolment, save,
};
use crate::helpers::{DEMO_ADMIN, DEMO_OFFICER_SCHOOL_201, Session, TestApp, TestResponse};
use portal_server::on_db;

const OTHER_SCHOOL_OFFICER: (&str, &str) = ("800707362020", "Askhat-officer-2026");

/// A first-grade application to school No. 201 by `who`, signed and submitted: its id.
pub(crate) async fn submitted_enrolment(app: &TestApp, who: &Session) -> String {
    let (id, version) = ready_enrolment(app, who, enrolment_answers()).await;
    let sent = app.sign_and_submit(who, &id, version).await;
    assert_eq!(sent.status, StatusCode::CREATED, "{}", sent.text());
    id
}

async fn act(app: &TestApp, officer: &Session, id: &str, body: Value) -> TestResponse {
    app.send(
        Method::POST,
        &format!("/api/workspace/applications/{id}/actions"),
        Some(body),
        Some(officer),
    )
    .await
}

pub(crate) async fn act_ok(app: &TestApp, officer: &Session, id: &str, body: Value) -> Value {
    let response = act(app, officer, id, body.clone()).await;
    assert_eq!(
        response.status,
        StatusCode::OK,
        "{body}: {}",
        response.text()
    );
    response.json()
}

/// Registers, assigns and approves a submitted application: its result is then ready.
async fn approve(app: &TestApp, officer: &Session, id: &str) {
    act_ok(
        app,
        officer,
        id,
        json!({"expected": "submitted", "action": "register"}),
    )
    .await;
    let me = app
        .get_as(&format!("/api/workspace/applications/{id}"), officer)
        .await
        .json()["colleagues"][0]["id"]
        .clone();
    act_ok(
        app,
        officer,
        id,
        json!({"expected": "registered", "action": "assign", "officer_id": me}),
    )
    .await;
    act_ok(
        app,
        officer,
        id,
        json!({"expected": "in_review", "action": "approve", "decision": "Зачислить"}),
    )
    .await;
}

fn code(response: &TestResponse) -> String {
    let body = response.json();
    body["fields"][0]["code"]
        .as_str()
        .or(body["code"].as_str())
        .unwrap_or_default()
        .to_string()
}

async fn latest_notification(app: &TestApp, who: &Session) -> Value {
    app.get_as("/api/notifications?lang=en", who).await.json()[0].clone()
}

#[tokio::test]
async fn an_officer_carries_an_application_from_submission_to_issue() {
    let app = demo().await;
    let citizen = app.citizen().await;
    let id = submitted_enrolment(&app, &citizen).await;
    let number = app
        .get_as(&format!("/api/applications/{id}"), &citizen)
        .await
        .json()["submission"]["number"]
        .as_str()
        .unwrap()
        .to_string();
    let officer = app
        .sign_in(DEMO_OFFICER_SCHOOL_201.0, DEMO_OFFICER_SCHOOL_201.1)
        .await;

    // The queue: found by number and by IIN, filtered by status and service.
    let queue = |q: &str| {
        let uri = format!("/api/workspace/applications?{q}");
        let (app, officer) = (&app, &officer);
        async move { app.get_as(&uri, officer).await }
    };
    let by_number = queue(&format!("q={number}")).await.json();
    assert_eq!(by_number.as_array().unwrap().len(), 1, "{by_number}");
    assert_eq!(by_number[0]["id"], id.as_str());
    assert_eq!(by_number[0]["status"], "submitted");
    assert_eq!(
        queue(&format!("q={}", &citizen.iin[..8])).await.json()[0]["id"],
        id.as_str()
    );
    assert_eq!(
        queue("q=999999999999")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        queue("q=%27%20OR%201%3D1")
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        0,
        "only digits search"
    );
    assert!(
        queue("status=registered")
            .await
            .json()
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"] != id.as_str())
    );
    assert!(
        queue("service=school-enrollment&status=submitted")
            .await
            .json()
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id.as_str())
    );
    assert!(
        queue("due=overdue")
            .await
            .json()
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"] != id.as_str()),
        "just submitted"
    );

    // The case file: the form, the signature, the timeline, the steps' deadlines.
    let case = app
        .get_as(&format!("/api/workspace/applications/{id}"), &officer)
        .await
        .json();
    assert_eq!(case["applicant"]["iin"], citizen.iin.as_str());
    assert_eq!(
        case["application"]["submission"]["signature"]["outcome"],
        "valid"
    );
    assert_eq!(case["progress"]["timeline"][0]["action"], "submit");
    // The answers as the form asks them: labels, choices and organisations by name.
    let rows = crate::helpers::answer_rows(&case, "ru");
    let value_of = |needle: &str| {
        rows.iter()
            .find(|(_, v)| v.contains(needle))
            .unwrap_or_else(|| panic!("no answer with {needle}: {rows:?}"))
            .clone()
    };
    assert!(
        value_of("Абай даңғылы")
            .1
            .starts_with("Алматы, Абай даңғылы, 10")
    );
    assert!(
        value_of("201").1.contains("школа") || value_of("201").1.contains("Школа"),
        "the school by its name: {rows:?}"
    );
    assert!(
        rows.iter().all(|(label, value)| !label.is_empty()
            && !value.starts_with('{')
            && !value.starts_with('"')),
        "labelled, not raw JSON: {rows:?}"
    );
    assert_eq!(
        case["progress"]["allowed"],
        json!(["register", "refuse_to_accept"])
    );
    assert!(case["progress"]["due"].is_string());
    assert_eq!(case["history_intact"], true);

    // Acting on a status that is not the current one is refused as a conflict.
    let stale = act(
        &app,
        &officer,
        &id,
        json!({"expected": "registered", "action": "assign", "officer_id": "x"}),
    )
    .await;
    assert_eq!(stale.status, StatusCode::CONFLICT);
    assert_eq!(code(&stale), "error.workflow.changed");
    let too_early = act(
        &app,
        &officer,
        &id,
        json!({"expected": "submitted", "action": "approve", "decision": "ok"}),
    )
    .await;
    assert_eq!(
        (too_early.status, code(&too_early)),
        (StatusCode::CONFLICT, "error.workflow.not_now".to_string())
    );

    let registered = act_ok(
        &app,
        &officer,
        &id,
        json!({"expected": "submitted", "action": "register"}),
    )
    .await;
    assert_eq!(registered["application"]["status"], "registered");
    let notice = latest_notification(&app, &citizen).await;
    assert_eq!(
        notice["title"]["en"],
        format!("Application No. {number}: Registered")
    );
    assert!(
        notice["body"]["ru"]
            .as_str()
            .unwrap()
            .contains("зарегистрировал"),
        "{notice}"
    );
    assert_eq!(notice["read"], false);
    let withdraw = app
        .send(
            Method::POST,
            &format!("/api/applications/{id}/withdrawal"),
            None,
            Some(&citizen),
        )
        .await;
    assert_eq!(
        (withdraw.status, code(&withdraw)),
        (StatusCode::CONFLICT, "error.workflow.not_now".to_string()),
        "only before registration"
    );

    let me = registered["colleagues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str().unwrap().contains("Төлегенова"))
        .unwrap()["id"]
        .clone();
    let bad_assignee = act(
        &app,
        &officer,
        &id,
        json!({"expected": "registered", "action": "assign", "officer_id": "nobody"}),
    )
    .await;
    assert_eq!(code(&bad_assignee), "error.workflow.unknown_officer");
    let assigned = act_ok(
        &app,
        &officer,
        &id,
        json!({"expected": "registered", "action": "assign", "officer_id": me}),
    )
    .await;
    assert_eq!(assigned["application"]["status"], "in_review");
    assert_eq!(assigned["assignee"]["id"], me);
    let no_inspection = act(&app, &officer, &id, json!({"expected": "in_review", "action": "record_inspection", "visited_on": "2026-01-01", "findings": "x"})).await;
    assert_eq!(
        code(&no_inspection),
        "error.workflow.not_now",
        "this service has no home inspection"
    );
    let empty = act(
        &app,
        &officer,
        &id,
        json!({"expected": "in_review", "action": "approve", "decision": "   "}),
    )
    .await;
    assert_eq!(
        (empty.status, code(&empty)),
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            "error.workflow.decision_required".to_string()
        )
    );

    let approved = act_ok(&app, &officer, &id, json!({"expected": "in_review", "action": "approve", "decision": "Зачислить в 1 «А» класс."})).await;
    assert_eq!(approved["application"]["status"], "result_ready");
    // A paper result gets the first free pickup time at once; the notice carries date, time and place.
    let pickup = approved["progress"]["pickup"].clone();
    assert!(pickup["starts_at"].is_i64(), "{approved}");
    let notice = latest_notification(&app, &citizen).await;
    let body = notice["body"]["en"].as_str().unwrap();
    let (day, minute) =
        portal_domain::calendar::local_day_and_minute(pickup["starts_at"].as_i64().unwrap());
    assert!(
        body.contains(&format!(
            "{:02}.{:02}.{}",
            day.day(),
            day.month(),
            day.year()
        )),
        "{body}"
    );
    assert!(
        body.contains(&format!("{:02}:{:02}", minute / 60, minute % 60)),
        "{body}"
    );
    assert!(body.contains("Timiryazev"), "the place's address: {body}");

    // The applicant sees it all and moves the pickup to another time.
    let progress = app
        .get_as(&format!("/api/applications/{id}/progress"), &citizen)
        .await
        .json();
    let actions: Vec<&str> = progress["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["submit", "register", "assign", "approve", "set_pickup"]
    );
    assert_eq!(progress["allowed"], json!(["set_pickup"]));
    assert_eq!(progress["result"]["decision"], "approved");
    assert!(
        progress["deadlines"]
            .as_array()
            .unwrap()
            .iter()
            .all(|d| d["done"] == true || d["overdue"] == false)
    );
    let slots = app
        .get_as(&format!("/api/applications/{id}/pickup/slots"), &citizen)
        .await
        .json();
    let other = slots
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] != pickup["slot"] && s["free"].as_u64() > Some(0))
        .unwrap()["id"]
        .clone();
    let moved = app
        .send(
            Method::PUT,
            &format!("/api/applications/{id}/pickup"),
            Some(json!({"slot": other})),
            Some(&citizen),
        )
        .await;
    assert_eq!(moved.status, StatusCode::OK, "{}", moved.text());
    assert_eq!(moved.json()["slot"], other);
    let nonsense = app
        .send(
            Method::PUT,
            &format!("/api/applications/{id}/pickup"),
            Some(json!({"slot": "123"})),
            Some(&citizen),
        )
        .await;
    assert_eq!(code(&nonsense), "error.workflow.slot_past");
    let off_hours = (other.as_str().unwrap().parse::<i64>().unwrap() + 60_000).to_string();
    let unknown = app
        .send(
            Method::PUT,
            &format!("/api/applications/{id}/pickup"),
            Some(json!({"slot": off_hours})),
            Some(&citizen),
        )
        .await;
    assert_eq!(code(&unknown), "error.workflow.slot_unknown");
    let ics = app
        .get_as(
            &format!("/api/applications/{id}/pickup.ics?lang=ru"),
            &citizen,
        )
        .await;
    assert_eq!(
        ics.header("content-type"),
        Some("text/calendar; charset=utf-8")
    );
    let text = ics.text();
    assert!(
        text.starts_with("BEGIN:VCALENDAR\r\n") && text.contains("BEGIN:VEVENT\r\n"),
        "{text}"
    );
    assert!(
        text.replace("\r\n ", "")
            .contains(&format!("DESCRIPTION:Заявление № {number}")),
        "{text}"
    );

    // The signed result: a PDF, its CMS, verifiable by anyone and by its QR address.
    let pdf = app
        .get_as(&format!("/api/applications/{id}/result"), &citizen)
        .await;
    assert_eq!(pdf.status, StatusCode::OK);
    assert!(pdf.body.starts_with(b"%PDF-"));
    let cms = app
        .get_as(
            &format!("/api/applications/{id}/result/signature"),
            &citizen,
        )
        .await;
    let check =
        json!({"document": BASE64.encode(&pdf.body), "signature": BASE64.encode(&cms.body)});
    let verified = app
        .send(
            Method::POST,
            "/api/signatures/verification",
            Some(check),
            None,
        )
        .await
        .json();
    assert_eq!(verified["outcome"], "valid", "{verified}");
    assert_eq!(verified["kind"], "result");
    assert!(
        verified["signer"]["holder"]
            .as_str()
            .unwrap()
            .contains("201"),
        "signed by the school: {verified}"
    );
    let url = progress["result"]["verification_url"].as_str().unwrap();
    let code_part = url.rsplit('/').next().unwrap();
    let public = app.get(&format!("/api/verify/{code_part}")).await.json();
    assert_eq!(public["kind"], "approved");
    assert_eq!(public["number"], format!("{number}-R"));
    assert_eq!(public["signature_valid"], true);
    assert!(
        !public.to_string().contains(&citizen.iin),
        "no personal data"
    );
    assert_eq!(
        app.get(&format!("/api/verify/{code_part}?number={number}-R"))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/api/verify/{code_part}?number=000000-000000-0"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_as(
            &format!("/api/workspace/applications/{id}/result"),
            &officer
        )
        .await
        .body,
        pdf.body
    );

    let no_recipient = act(&app, &officer, &id, json!({"expected": "result_ready", "action": "mark_issued", "shown": "identity_document", "recipient": ""})).await;
    assert_eq!(code(&no_recipient), "error.workflow.recipient_required");
    let issued = act_ok(&app, &officer, &id, json!({"expected": "result_ready", "action": "mark_issued", "shown": "notarised_power_of_attorney", "recipient": "Серіков Асқар"})).await;
    assert_eq!(issued["application"]["status"], "issued");
    assert_eq!(issued["progress"]["allowed"], json!([]));
    assert_eq!(issued["history_intact"], true);
    assert_eq!(
        app.get_as(&format!("/api/applications/{id}/progress"), &citizen)
            .await
            .json()["timeline"]
            .as_array()
            .unwrap()
            .len(),
        7
    );

    // History is append-only in the database, and editing it around the database is detected.
    let edit = on_db!(&app.state.db, |pool| sqlx::query(
        "UPDATE application_events SET details = '{}' WHERE application_id = $1 AND seq = 2"
    )
    .bind(&id)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()));
    assert!(edit.unwrap_err().to_string().contains("append-only"));
    // Someone with the database's keys lifts the guard first.
    let unguard = match app.state.db.engine() {
        "postgres" => "ALTER TABLE application_events DISABLE TRIGGER USER",
        _ => "DROP TRIGGER application_events_no_update",
    };
    on_db!(&app.state.db, |pool| {
        async {
        sqlx::query(unguard).execute(pool).await.unwrap();
        sqlx::query("UPDATE application_events SET details = '{\"reason\":\"rewritten\"}' WHERE application_id = $1 AND seq = 5").bind(&id).execute(pool).await.unwrap();
    }
    .await
    });
    let case = app
        .get_as(&format!("/api/workspace/applications/{id}"), &officer)
        .await
        .json();
    assert_eq!(case["history_intact"], false);
}

#[tokio::test]
async fn a_home_inspection_comes_before_the_decision_and_a_refusal_cites_its_grounds() {
    let app = demo().await;
    let providers = app.get("/api/providers").await.json();
    let service = app
        .state
        .catalogue
        .get("patronage-placement")
        .unwrap()
        .definition
        .clone();
    let citizen = app.citizen().await;
    let id = new_draft(&app, &citizen, "patronage-placement").await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let answers = fill_in(
        &app,
        &citizen,
        &id,
        service.form.as_ref().unwrap(),
        providers.as_array().unwrap(),
    )
    .await;
    let version = save(&app, &citizen, &id, 1, answers).await.json()["version"]
        .as_i64()
        .unwrap();
    assert_eq!(
        app.sign_and_submit(&citizen, &id, version).await.status,
        StatusCode::CREATED
    );
    let organisation = app
        .get_as(&format!("/api/applications/{id}"), &citizen)
        .await
        .json()["submission"]["organisation_id"]
        .clone();
    assert_eq!(organisation, "almaty-education-department");
    let officer = app.sign_in("860119465056", "Zhanar-officer-2026").await;
    let case = act_ok(
        &app,
        &officer,
        &id,
        json!({"expected": "submitted", "action": "register"}),
    )
    .await;
    assert_eq!(case["home_inspection"], true);
    let me = case["colleagues"][0]["id"].clone();
    let case = act_ok(
        &app,
        &officer,
        &id,
        json!({"expected": "registered", "action": "assign", "officer_id": me}),
    )
    .await;
    assert_eq!(
        case["progress"]["allowed"],
        json!(["assign", "record_inspection", "refuse"])
    );
    let skip = act(
        &app,
        &officer,
        &id,
        json!({"expected": "in_review", "action": "approve", "decision": "Заключить договор"}),
    )
    .await;
    assert_eq!(
        code(&skip),
        "error.workflow.not_now",
        "no decision before the inspection act"
    );
    let future = act(&app, &officer, &id, json!({"expected": "in_review", "action": "record_inspection", "visited_on": "2099-01-01", "findings": "ok"})).await;
    assert_eq!(code(&future), "error.workflow.visit_date");
    let today = portal_domain::calendar::local_day_and_minute(portal_server::db::now_millis())
        .0
        .to_string();
    // The scanned act goes with the move: uploaded first, then named by it.
    let upload = |name: &str, bytes: Vec<u8>, who: &Session| {
        let uri = format!(
            "/api/workspace/applications/{id}/files?name={}",
            urlencode(name)
        );
        let (app, who) = (&app, who.clone());
        async move {
            app.send_bytes(
                Method::POST,
                &uri,
                bytes,
                &[("content-type", "application/octet-stream")],
                &who,
            )
            .await
        }
    };
    let not_pdf = upload("act.pdf", b"MZ\x90\x00 not a document".to_vec(), &officer).await;
    assert_eq!(
        code(&not_pdf),
        "error.upload.file_type",
        "{}",
        not_pdf.text()
    );
    let empty = upload("act.pdf", vec![], &officer).await;
    assert_eq!(code(&empty), "error.upload.empty");
    let bad_name = upload("../act.pdf", pdf_bytes(500), &officer).await;
    assert_eq!(bad_name.status, StatusCode::UNPROCESSABLE_ENTITY);
    let other_org = app
        .sign_in(DEMO_OFFICER_SCHOOL_201.0, DEMO_OFFICER_SCHOOL_201.1)
        .await;
    assert_eq!(
        upload("act.pdf", pdf_bytes(500), &other_org).await.status,
        StatusCode::NOT_FOUND,
        "another organisation's officer cannot add to the case"
    );
    let act_file = upload("Акт обследования.pdf", pdf_bytes(4000), &officer).await;
    assert_eq!(act_file.status, StatusCode::CREATED, "{}", act_file.text());
    let act_file = act_file.json();
    let file_id = act_file["id"].as_str().unwrap().to_string();
    assert_eq!(act_file["content_type"], "application/pdf");
    assert_eq!(act_file["size"], 4000);
    let citizen_file = format!("/api/applications/{id}/files/{file_id}");
    assert_eq!(
        app.get_as(&citizen_file, &citizen).await.status,
        StatusCode::NOT_FOUND,
        "an upload no move named yet stays with the provider"
    );
    let unknown_file = act(&app, &officer, &id, json!({"expected": "in_review", "action": "record_inspection", "visited_on": today, "findings": "ok", "files": ["0123456789abcdef0123456789abcdef"]})).await;
    assert_eq!(code(&unknown_file), "error.workflow.unknown_file");
    let case = act_ok(&app, &officer, &id, json!({"expected": "in_review", "action": "record_inspection", "visited_on": today, "findings": "Две комнаты, условия соответствуют.", "files": [file_id]})).await;
    assert_eq!(case["application"]["status"], "home_inspection");
    let recorded = case["progress"]["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(recorded["action"], "record_inspection");
    assert_eq!(recorded["files"][0]["file_name"], "Акт обследования.pdf");
    assert_eq!(recorded["files"][0]["sha256"], act_file["sha256"]);
    let downloaded = app.get_as(&citizen_file, &citizen).await;
    assert_eq!(downloaded.status, StatusCode::OK);
    assert_eq!(downloaded.body, pdf_bytes(4000));
    assert!(
        downloaded
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment"),
        "served as a download"
    );
    let stranger = app.citizen().await;
    assert_eq!(
        app.get_as(&citizen_file, &stranger).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get_as(
            &format!("/api/workspace/applications/{id}/files/{file_id}"),
            &officer
        )
        .await
        .body,
        pdf_bytes(4000)
    );
    let case = app
        .get_as(&format!("/api/workspace/applications/{id}"), &officer)
        .await
        .json();
    assert_eq!(
        case["history_intact"], true,
        "the file's hash is in the chain"
    );
    assert_eq!(case["progress"]["allowed"], json!(["approve", "refuse"]));

    let no_grounds = act(
        &app,
        &officer,
        &id,
        json!({"expected": "home_inspection", "action": "refuse", "grounds": [], "reason": "x"}),
    )
    .await;
    assert_eq!(code(&no_grounds), "error.workflow.grounds_required");
    let made_up = act(&app, &officer, &id, json!({"expected": "home_inspection", "action": "refuse", "grounds": ["because"], "reason": "x"})).await;
    assert_eq!(code(&made_up), "error.workflow.unknown_ground");
    let extra_field = act(&app, &officer, &id, json!({"expected": "home_inspection", "action": "refuse", "grounds": ["law-court-decision"], "reason": "x", "x": 1})).await;
    assert_eq!(
        extra_field.status,
        StatusCode::BAD_REQUEST,
        "unknown fields are refused"
    );
    let reused = act(&app, &officer, &id, json!({"expected": "home_inspection", "action": "refuse", "grounds": ["law-requirements-not-met"], "reason": "x", "files": [file_id]})).await;
    assert_eq!(
        code(&reused),
        "error.workflow.unknown_file",
        "a file belongs to one move"
    );
    let refused = act_ok(
        &app,
        &officer,
        &id,
        json!({"expected": "home_inspection", "action": "refuse", "grounds": ["law-requirements-not-met"], "reason": "Нет справки о доходах."}),
    )
    .await;
    assert_eq!(refused["application"]["status"], "refused");
    assert_eq!(refused["progress"]["result"]["decision"], "refused");
    let notice = latest_notification(&app, &citizen).await;
    assert!(
        notice["body"]["ru"]
            .as_str()
            .unwrap()
            .contains("Нет справки о доходах"),
        "{notice}"
    );
    assert!(
        notice["body"]["en"]
            .as_str()
            .unwrap()
            .contains("do not meet the requirements"),
        "{notice}"
    );
    let url = refused["progress"]["result"]["verification_url"]
        .as_str()
        .unwrap()
        .to_string();
    let public = app
        .get(&format!("/api/verify/{}", url.rsplit('/').next().unwrap()))
        .await
        .json();
    assert_eq!(public["kind"], "refused");
    assert_eq!(public["status"], "refused");
    assert_eq!(
        app.get_as(&format!("/api/applications/{id}/pickup/slots"), &citizen)
            .await
            .status,
        StatusCode::OK
    );
    let no_pickup = app
        .send(
            Method::PUT,
            &format!("/api/applications/{id}/pickup"),
            Some(json!({"slot": "1"})),
            Some(&citizen),
        )
        .await;
    assert_eq!(
        no_pickup.status,
        StatusCode::CONFLICT,
        "nothing to collect after a refusal"
    );
}

#[tokio::test]
async fn withdrawal_before_registration_and_refusal_to_accept_end_the_application() {
    let app = demo().await;
    let citizen = app.citizen().await;
    let officer = app
        .sign_in(DEMO_OFFICER_SCHOOL_201.0, DEMO_OFFICER_SCHOOL_201.1)
        .await;

    let first = submitted_enrolment(&app, &citizen).await;
    let withdrawn = app
        .send(
            Method::POST,
            &format!("/api/applications/{first}/withdrawal"),
            None,
            Some(&citizen),
        )
        .await;
    assert_eq!(withdrawn.status, StatusCode::OK, "{}", withdrawn.text());
    assert_eq!(withdrawn.json()["timeline"][1]["action"], "withdraw");
    let late = act(
        &app,
        &officer,
        &first,
        json!({"expected": "submitted", "action": "register"}),
    )
    .await;
    assert_eq!(late.status, StatusCode::CONFLICT);
    assert_eq!(
        app.get_as(&format!("/api/applications/{first}"), &citizen)
            .await
            .json()["status"],
        "withdrawn"
    );

    let second = submitted_enrolment(&app, &citizen).await;
    let unknown = act(&app, &officer, &second, json!({"expected": "submitted", "action": "refuse_to_accept", "missing": ["passport"], "reason": "x"})).await;
    assert_eq!(code(&unknown), "error.workflow.unknown_document");
    let none = act(&app, &officer, &second, json!({"expected": "submitted", "action": "refuse_to_accept", "missing": [], "reason": "x"})).await;
    assert_eq!(code(&none), "error.workflow.missing_required");
    let long = act(&app, &officer, &second, json!({"expected": "submitted", "action": "refuse_to_accept", "missing": ["child-health-record-063"], "reason": "x".repeat(2001)})).await;
    assert_eq!(code(&long), "error.workflow.text_too_long");
    let refused = act_ok(
        &app,
        &officer,
        &second,
        json!({"expected": "submitted", "action": "refuse_to_accept", "missing": ["child-health-record-063"], "reason": "Справка просрочена"}),
    )
    .await;
    assert_eq!(refused["application"]["status"], "refused_to_accept");
    assert_eq!(
        refused["progress"]["result"]["decision"],
        "refused_to_accept"
    );
    let notice = latest_notification(&app, &citizen).await;
    assert!(
        notice["body"]["ru"]
            .as_str()
            .unwrap()
            .contains("Справка просрочена"),
        "{notice}"
    );
    let again = app
        .send(
            Method::POST,
            &format!("/api/applications/{second}/withdrawal"),
            None,
            Some(&citizen),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn each_side_sees_only_its_own_applications() {
    let app = demo().await;
    let alice = app.citizen().await;
    let bob = app.citizen().await;
    let id = submitted_enrolment(&app, &alice).await;
    let officer = app
        .sign_in(DEMO_OFFICER_SCHOOL_201.0, DEMO_OFFICER_SCHOOL_201.1)
        .await;
    let other_school = app
        .sign_in(OTHER_SCHOOL_OFFICER.0, OTHER_SCHOOL_OFFICER.1)
        .await;
    let admin = app.sign_in(DEMO_ADMIN.0, DEMO_ADMIN.1).await;

    for path in [
        "progress",
        "pickup/slots",
        "pickup.ics",
        "result",
        "result/signature",
    ] {
        let response = app
            .get_as(&format!("/api/applications/{id}/{path}"), &bob)
            .await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "citizen B, {path}");
    }
    assert_eq!(
        app.send(
            Method::POST,
            &format!("/api/applications/{id}/withdrawal"),
            None,
            Some(&bob)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.send(
            Method::PUT,
            &format!("/api/applications/{id}/pickup"),
            Some(json!({"slot": "1"})),
            Some(&bob)
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    for path in ["", "/slots", "/result"] {
        let response = app
            .get_as(
                &format!("/api/workspace/applications/{id}{path}"),
                &other_school,
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::NOT_FOUND,
            "officer of another school, {path}"
        );
    }
    assert_eq!(
        act(
            &app,
            &other_school,
            &id,
            json!({"expected": "submitted", "action": "register"})
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let theirs = app
        .get_as("/api/workspace/applications", &other_school)
        .await
        .json();
    assert!(
        theirs
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["id"] != id.as_str()),
        "not in another school's queue"
    );
    assert!(
        app.get_as("/api/workspace/applications", &officer)
            .await
            .json()
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["id"] == id.as_str())
    );

    // Roles: a citizen cannot act as an officer, nor an officer or administrator as the applicant.
    assert_eq!(
        act(
            &app,
            &alice,
            &id,
            json!({"expected": "submitted", "action": "register"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        act(
            &app,
            &admin,
            &id,
            json!({"expected": "submitted", "action": "register"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(
            Method::POST,
            &format!("/api/applications/{id}/withdrawal"),
            None,
            Some(&officer)
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get_as(&format!("/api/applications/{id}/progress"), &admin)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    // The applicant's own moves are checked by role too: an officer's move in the applicant's name is not possible.
    assert_eq!(
        app.get_as(&format!("/api/applications/{id}/progress"), &alice)
            .await
            .json()["allowed"],
        json!(["withdraw"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_people_never_get_the_last_place_in_a_slot() {
    let app = demo().await;
    let citizen = app.citizen().await;
    let officer = app
        .sign_in(DEMO_OFFICER_SCHOOL_201.0, DEMO_OFFICER_SCHOOL_201.1)
        .await;
    let id = submitted_enrolment(&app, &citizen).await;
    approve(&app, &officer, &id).await;

    // Many results waiting at the same school, and one place per slot.
    let admin = app.sign_in(DEMO_ADMIN.0, DEMO_ADMIN.1).await;
    let one_place = app
        .send(
            Method::PUT,
            "/api/admin/organisations/almaty-school-201/slot-capacity",
            Some(json!({"capacity": 1})),
            Some(&admin),
        )
        .await;
    assert_eq!(one_place.status, StatusCode::OK, "{}", one_place.text());
    const N: usize = 16;
    let ids: Vec<String> = (0..N).map(|i| format!("{:032x}", 0xabc000 + i)).collect();
    on_db!(&app.state.db, |pool| {
        async {
        for (i, new) in ids.iter().enumerate() {
            sqlx::query(
                "INSERT INTO applications (id, user_id, service_id, status, answers, version, created_at, updated_at, number, submitted_at,
                                           organisation_id, expected_result_date, lang, result_ready_at)
                 SELECT $1, user_id, service_id, status, answers, version, created_at, updated_at, number || '-' || $2, submitted_at,
                        organisation_id, expected_result_date, lang, result_ready_at FROM applications WHERE id = $3",
            )
            .bind(new)
            .bind(i as i64)
            .bind(&id)
            .execute(pool)
            .await
            .unwrap();
        }
    }
    .await
    });
    let slots = app
        .get_as(&format!("/api/applications/{id}/pickup/slots"), &citizen)
        .await
        .json();
    let slot = slots
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["free"] == 1)
        .unwrap()["id"]
        .clone();
    let attempts = ids.iter().map(|a| {
        let (app, citizen, uri, body) = (
            &app,
            &citizen,
            format!("/api/applications/{a}/pickup"),
            json!({"slot": slot}),
        );
        async move { app.send(Method::PUT, &uri, Some(body), Some(citizen)).await }
    });
    let responses = futures_util::future::join_all(attempts).await;
    let won = responses
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    let full = responses
        .iter()
        .filter(|r| r.status == StatusCode::CONFLICT && code(r) == "error.workflow.slot_full")
        .count();
    assert_eq!(
        (won, full),
        (1, N - 1),
        "{:?}",
        responses
            .iter()
            .map(|r| (r.status, r.text()))
            .collect::<Vec<_>>()
    );
    let booked: i64 = on_db!(&app.state.db, |pool| {
        sqlx::query_scalar("SELECT booked FROM pickup_slots WHERE organisation_id = 'almaty-school-201' AND starts_at = $1")
            .bind(slot.as_str().unwrap().parse::<i64>().unwrap())
            .fetch_one(pool)
            .await
            .unwrap()
    });
    assert_eq!(booked, 1);
    let free = app
        .get_as(&format!("/api/applications/{id}/pickup/slots"), &citizen)
        .await
        .json();
    assert_eq!(
        free.as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == slot)
            .unwrap()["free"],
        0
    );
}

#[tokio::test]
async fn an_uncollected_result_moves_to_storage_after_a_month() {
    let app = demo().await;
    let citizen = app.citizen().await;
    let officer = app
        .sign_in(DEMO_OFFICER_SCHOOL_201.0, DEMO_OFFICER_SCHOOL_201.1)
        .await;
    let id = submitted_enrolment(&app, &citizen).await;
    approve(&app, &officer, &id).await;
    let now = portal_server::db::now_millis();
    assert_eq!(
        portal_server::workflow::storage::move_uncollected(&app.state, now)
            .await
            .unwrap(),
        0,
        "ready today"
    );
    let day = 86_400_000;
    assert_eq!(
        portal_server::workflow::storage::move_uncollected(&app.state, now + 25 * day)
            .await
            .unwrap(),
        0,
        "within the month"
    );
    assert_eq!(
        portal_server::workflow::storage::move_uncollected(&app.state, now + 32 * day)
            .await
            .unwrap(),
        1
    );
    let progress = app
        .get_as(&format!("/api/applications/{id}/progress"), &citizen)
        .await
        .json();
    let last = progress["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (
            last["action"].as_str(),
            last["actor"].as_str(),
            last["to"].as_str()
        ),
        (
            Some("return_to_storage"),
            Some("system"),
            Some("returned_to_storage")
        )
    );
    assert!(
        latest_notification(&app, &citizen).await["body"]["en"]
            .as_str()
            .unwrap()
            .contains("storage")
    );
    assert_eq!(
        portal_server::workflow::storage::move_uncollected(&app.state, now + 40 * day)
            .await
            .unwrap(),
        0,
        "once"
    );
}

#[tokio::test]
async fn administrators_edit_the_working_day_calendar() {
    let app = demo().await;
    let admin = app.sign_in(DEMO_ADMIN.0, DEMO_ADMIN.1).await;
    let year = app.get_as("/api/admin/calendar/2027", &admin).await.json();
    assert_eq!(year["edited"], false);
    let before = year["working_days"].as_u64().unwrap();
    let friday: portal_domain::date::Date = "2027-11-26".parse().unwrap();
    assert!(app.state.calendar.get().is_working_day(friday));
    let mut data = year["data"].clone();
    data["extra_days_off"]
        .as_array_mut()
        .unwrap()
        .push(json!({"date": "2027-11-26", "reason": "Government decree (test)"}));
    let saved = app
        .send(
            Method::PUT,
            "/api/admin/calendar/2027",
            Some(data.clone()),
            Some(&admin),
        )
        .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.text());
    assert_eq!(saved.json()["edited"], true);
    assert_eq!(saved.json()["working_days"].as_u64().unwrap(), before - 1);
    assert!(
        !app.state.calendar.get().is_working_day(friday),
        "due dates use it at once"
    );
    // Kept in the database: a restart (a fresh load) keeps the edit.
    app.state.calendar.load_edits(&app.state.db).await.unwrap();
    assert!(!app.state.calendar.get().is_working_day(friday));

    let mut bad = data.clone();
    bad["working_weekend_days"] = json!([{"date": "2027-11-24", "reason": "a Wednesday"}]);
    let refused = app
        .send(
            Method::PUT,
            "/api/admin/calendar/2027?lang=en",
            Some(bad),
            Some(&admin),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        refused.json()["fields"][0]["field"],
        "working_weekend_days[0].date",
        "{}",
        refused.text()
    );
    assert_eq!(
        refused.json()["fields"][0]["message"],
        "A working weekend day must be a Saturday or Sunday."
    );
    assert!(
        !app.state.calendar.get().is_working_day(friday),
        "a refused edit changes nothing"
    );
    assert_eq!(
        app.get_as("/api/admin/calendar/1999", &admin).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Reads the event stream until a `notification` event arrives (or the time runs out).
pub(crate) async fn next_notification(body: &mut Body) -> Option<Value> {
    let mut text = String::new();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let frame = tokio::time::timeout_at(deadline, body.frame())
            .await
            .ok()??
            .ok()?;
        if let Ok(data) = frame.into_data() {
            text.push_str(&String::from_utf8_lossy(&data));
        }
        if let Some(start) = text.find("event: notification\ndata: ") {
            let rest = &text[start + "event: notification\ndata: ".len()..];
            if let Some(end) = rest.find('\n') {
                return serde_json::from_str(&rest[..end]).ok();
            }
        }
    }
}

#[tokio::test]
async fn a_status_change_is_pushed_live_and_e_mailed() {
    let mailbox = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut smtp = std::process::Command::new("/usr/bin/python3")
        .args([
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(mailbox.path().join("mail"))
        .spawn()
        .expect("Debian's python3-aiosmtpd (scripts/bootstrap installs it)");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let app = TestApp::with(&[
        ("PORTAL_DEMO", "1"),
        ("PORTAL_SMTP", &format!("127.0.0.1:{port}")),
        ("PORTAL_SMTP_FROM", "portal@example.kz"),
    ])
    .await;
    let citizen = app.citizen().await;
    let id = submitted_enrolment(&app, &citizen).await;
    let number = app
        .get_as(&format!("/api/applications/{id}"), &citizen)
        .await
        .json()["submission"]["number"]
        .as_str()
        .unwrap()
        .to_string();

    let request = Request::get("/api/notifications/stream")
        .header("cookie", &citizen.cookie)
        .body(Body::empty())
        .unwrap();
    let response = app.router.clone().oneshot(request).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let mut stream = response.into_body();
    let stranger = app.citizen().await;
    let request = Request::get("/api/notifications/stream")
        .header("cookie", &stranger.cookie)
        .body(Body::empty())
        .unwrap();
    let mut strangers_stream = app
        .router
        .clone()
        .oneshot(request)
        .await
        .unwrap()
        .into_body();

    let officer = app
        .sign_in(DEMO_OFFICER_SCHOOL_201.0, DEMO_OFFICER_SCHOOL_201.1)
        .await;
    act_ok(
        &app,
        &officer,
        &id,
        json!({"expected": "submitted", "action": "register"}),
    )
    .await;
    // On PostgreSQL the notification of the submission itself travels through the database
    // and may reach the stream opened after it; the one of registration follows it.
    let registered = format!("Application No. {number}: Registered");
    let mut pushed = next_notification(&mut stream)
        .await
        .expect("a live notification");
    if pushed["title"]["en"] == format!("Application No. {number} sent") {
        pushed = next_notification(&mut stream)
            .await
            .expect("the notification of registration");
    }
    assert_eq!(pushed["title"]["en"], registered);
    assert_eq!(pushed["link"], format!("/applications/{id}"));
    let strangers = tokio::time::timeout(
        std::time::Duration::from_millis(500),
        next_notification(&mut strangers_stream),
    )
    .await;
    assert!(
        strangers.is_err() || strangers.unwrap().is_none(),
        "nobody else's stream hears it"
    );

    // The e-mail, through a real SMTP conversation, in the applicant's language (Russian).
    let new = mailbox.path().join("mail").join("new");
    let subject_of = |message: &str| {
        let encoded = message
            .lines()
            .find_map(|l| l.strip_prefix("Subject: =?UTF-8?B?"))?
            .trim_end_matches("?=")
            .to_string();
        String::from_utf8(BASE64.decode(encoded).ok()?).ok()
    };
    let wanted = format!("Заявление № {number}: Зарегистрировано");
    let mut message = None;
    for _ in 0..100 {
        let found = std::fs::read_dir(&new)
            .into_iter()
            .flatten()
            .filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .find(|m| subject_of(m).as_deref() == Some(wanted.as_str()));
        if found.is_some() {
            message = found;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let message = message.expect("an e-mail arrived");
    assert!(message.contains("To: saule@example.com"), "{message}");
    assert!(message.contains("From: portal@example.kz"));
    let body: String = message.split("\n\n").nth(1).unwrap().lines().collect();
    let body = String::from_utf8(BASE64.decode(body.trim()).unwrap()).unwrap();
    assert!(body.contains("зарегистрировал"), "{body}");
    assert!(
        body.contains(&format!("/applications/{id}")),
        "a link to the application: {body}"
    );

    // Who turned e-mails off gets none.
    let quiet = app.citizen().await;
    let update = json!({"email": "quiet@example.com", "phone": "", "preferred_lang": "en", "notifications": {"email": false, "browser": false}});
    assert_eq!(
        app.send(Method::PUT, "/api/profile", Some(update), Some(&quiet))
            .await
            .status,
        StatusCode::OK
    );
    let count_before = std::fs::read_dir(&new).unwrap().count();
    let other = submitted_enrolment(&app, &quiet).await;
    act_ok(
        &app,
        &officer,
        &other,
        json!({"expected": "submitted", "action": "register"}),
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(
        std::fs::read_dir(&new).map(|d| d.count()).unwrap_or(0),
        count_before
    );
    smtp.kill().unwrap();
}

/// `name` percent-encoded for a query string.
fn urlencode(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
