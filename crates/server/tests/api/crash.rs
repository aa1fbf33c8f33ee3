//! Durability under crashes: the real server binary is killed with SIGKILL again and again
//! while parents send signed first-grade applications; clients retry (sending a draft again is
//! idempotent). Afterwards every application was acknowledged, exists exactly once with its
//! number, signature and history, and nothing is half-written.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::sync::Mutex;

use crate::applications::signed_enrolments;
use crate::helpers::{TestApp, repo_root};

/// How many parents send at once, and how many times the server is killed meanwhile.
const PARENTS: usize = 40;
const KILLS: usize = 3;

struct Prepared {
    cookie: String,
    csrf: String,
    id: String,
    body: String,
}

fn spawn_server(
    database_url: &str,
    data_dir: &std::path::Path,
    dist: &std::path::Path,
    addr: &str,
) -> Child {
    Command::new(env!("CARGO_BIN_EXE_portal-server"))
        .env_clear()
        .env("PORTAL_ADDR", addr)
        .env("PORTAL_DATABASE_URL", database_url)
        .env("PORTAL_DATA_DIR", data_dir)
        .env("PORTAL_DIST_DIR", dist)
        .env("PORTAL_SERVICES_DIR", repo_root().join("services"))
        .env("PORTAL_DEMO", "1")
        .env("PORTAL_DEMO_DIR", repo_root().join("demo"))
        .env("PORTAL_CALENDAR_FILE", repo_root().join("calendar/kz.json"))
        .env("PORTAL_FIRST_GRADE_WINDOW", "01-01..12-31")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_application_survives_sigkill_exactly_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let dist = dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(
        dist.join("index.html"),
        "<!doctype html><title>portal</title>",
    )
    .unwrap();
    // Parents, drafts and signatures are prepared in-process on the same database.
    let app = TestApp::with(&[
        ("PORTAL_DEMO", "1"),
        ("PORTAL_DATA_DIR", data.to_str().unwrap()),
        ("PORTAL_REGISTRATIONS_PER_HOUR", "1000"),
    ])
    .await;
    let prepared: Vec<Prepared> = signed_enrolments(&app, PARENTS)
        .await
        .into_iter()
        .map(|s| Prepared {
            cookie: s.parent.cookie,
            csrf: s.parent.csrf,
            body: json!({"version": s.version, "consent": true, "signature": s.signature})
                .to_string(),
            id: s.id,
        })
        .collect();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let server = Arc::new(Mutex::new(spawn_server(
        &app.state.config.database_url,
        &data,
        &dist,
        &addr,
    )));
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let acknowledged: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let attempts = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(120);

    // Each parent sends until the server acknowledges, retrying through the crashes.
    let mut clients = Vec::new();
    for p in prepared {
        let (client, acknowledged, attempts, addr) = (
            client.clone(),
            acknowledged.clone(),
            attempts.clone(),
            addr.clone(),
        );
        clients.push(tokio::spawn(async move {
            loop {
                assert!(Instant::now() < deadline, "{} was never acknowledged", p.id);
                attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let request = hyper::Request::post(format!(
                    "http://{addr}/api/applications/{}/submission",
                    p.id
                ))
                .header("cookie", &p.cookie)
                .header("x-csrf-token", &p.csrf)
                .header("content-type", "application/json")
                .header("origin", format!("http://{addr}"))
                .body(Full::new(Bytes::from(p.body.clone())))
                .unwrap();
                if let Ok(response) = client.request(request).await {
                    let status = response.status().as_u16();
                    if let Ok(body) = response.into_body().collect().await {
                        if status == 201 || status == 200 {
                            let view: Value = serde_json::from_slice(&body.to_bytes()).unwrap();
                            let number = view["submission"]["number"].as_str().unwrap().to_string();
                            let mut seen = acknowledged.lock().await;
                            if let Some(earlier) = seen.insert(p.id.clone(), number.clone()) {
                                assert_eq!(earlier, number, "one number per application");
                            }
                            return;
                        }
                        assert!(
                            status >= 500 || status == 503,
                            "{}: refused with {status}: {}",
                            p.id,
                            String::from_utf8_lossy(&body.to_bytes())
                        );
                    }
                }
                tokio::time::sleep(Duration::from_millis(30)).await;
            }
        }));
    }

    // Meanwhile the server dies without warning, each time while applications are arriving
    // (right after the restarted server acknowledged one), and comes back.
    let mut pending_at_kills = Vec::new();
    for _ in 0..KILLS {
        let before = acknowledged.lock().await.len();
        loop {
            assert!(Instant::now() < deadline, "the storm stalled");
            let now = acknowledged.lock().await.len();
            if now > before || now == PARENTS {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let mut child = server.lock().await;
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        pending_at_kills.push(PARENTS - acknowledged.lock().await.len());
        *child = spawn_server(&app.state.config.database_url, &data, &dist, &addr);
    }
    assert!(
        pending_at_kills[0] > 0,
        "the first kill came while applications were still arriving: {pending_at_kills:?}"
    );
    for c in clients {
        c.await.expect("a client gave up");
    }
    server.lock().await.kill().unwrap();

    // Every application is there exactly once, whole.
    let acknowledged = acknowledged.lock().await.clone();
    assert_eq!(acknowledged.len(), PARENTS);
    let rows: Vec<(String, String, Option<String>, i64, i64)> = portal_server::on_db!(
        &app.state.db,
        |pool| {
            sqlx::query_as(
            "SELECT a.id, a.status, a.number,
                    (SELECT COUNT(*) FROM application_signatures s WHERE s.application_id = a.id),
                    (SELECT COUNT(*) FROM application_events e WHERE e.application_id = a.id AND e.action IN ('submit', 'submit_unconfirmed'))
             FROM applications a WHERE a.service_id = 'school-enrollment'"
        )
        .fetch_all(pool)
        .await
        .unwrap()
        }
    );
    assert_eq!(rows.len(), PARENTS);
    let mut numbers = std::collections::HashSet::new();
    for (id, status, number, signatures, submit_events) in rows {
        assert_ne!(status, "draft", "{id} acknowledged but not stored");
        assert_eq!(
            number.as_deref(),
            acknowledged.get(&id).map(String::as_str),
            "{id}"
        );
        assert_eq!((signatures, submit_events), (1, 1), "{id} whole, once");
        assert!(numbers.insert(number.unwrap()), "numbers are unique");
    }
    let positions: i64 = portal_server::on_db!(&app.state.db, |pool| {
        sqlx::query_scalar(
        "SELECT COUNT(DISTINCT first_grade_position) FROM applications WHERE first_grade_position IS NOT NULL"
    )
    .fetch_one(pool)
    .await
    .unwrap()
    });
    assert_eq!(positions as usize, PARENTS, "one queue place each");
    println!(
        "crash test: {PARENTS} applications, {KILLS} kills with {pending_at_kills:?} still to be acknowledged, {} attempts",
        attempts.load(std::sync::atomic::Ordering::Relaxed)
    );
}
