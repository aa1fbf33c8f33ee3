use std::collections::HashMap;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use http_body_util::BodyExt;
use portal_domain::eds::{KeyFile, KeyPurpose};
use portal_server::signing::pki::{Person, now_seconds};
use portal_server::{AppState, Config};
use tower::ServiceExt;

pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    // Held so the database and dist directories live as long as the test.
    _dir: tempfile::TempDir,
}

pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// With `PORTAL_TEST_POSTGRES_URL` set (to a server's maintenance database, as
/// `scripts/with-postgres` does), every test gets a new, empty PostgreSQL database of its own;
/// otherwise the fresh data directory's SQLite database.
async fn fresh_postgres_database() -> Option<String> {
    use sqlx::Connection;
    let admin = std::env::var("PORTAL_TEST_POSTGRES_URL").ok()?;
    let name = format!("test_{}", portal_server::db::new_id());
    let mut connection = sqlx::PgConnection::connect(&admin)
        .await
        .expect("the test PostgreSQL server answers");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut connection)
        .await
        .expect("a test database can be created");
    let (server, _) = admin.rsplit_once('/').expect("a postgres://…/database URL");
    Some(format!("{server}/{name}"))
}

/// With `PORTAL_TEST_S3_ENDPOINT` set (as `scripts/with-s3` does), every test keeps its files
/// in a new bucket of that S3-compatible server; otherwise in its fresh data directory.
fn fresh_bucket() -> Option<Vec<(String, String)>> {
    let endpoint = std::env::var("PORTAL_TEST_S3_ENDPOINT").ok()?;
    let root = std::env::var("PORTAL_TEST_S3_ROOT").expect("PORTAL_TEST_S3_ROOT with the endpoint");
    let bucket = format!("test-{}", portal_server::db::new_id());
    // s3s-fs keeps a bucket as a directory of its root.
    std::fs::create_dir(Path::new(&root).join(&bucket)).expect("a test bucket can be made");
    let var =
        |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} with the endpoint"));
    Some(vec![
        ("PORTAL_S3_BUCKET".into(), bucket),
        ("PORTAL_S3_ENDPOINT".into(), endpoint),
        ("PORTAL_S3_REGION".into(), "us-east-1".into()),
        (
            "PORTAL_S3_ACCESS_KEY_ID".into(),
            var("PORTAL_TEST_S3_ACCESS_KEY_ID"),
        ),
        (
            "PORTAL_S3_SECRET_ACCESS_KEY".into(),
            var("PORTAL_TEST_S3_SECRET_ACCESS_KEY"),
        ),
    ])
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        TestApp::with(&[]).await
    }

    /// An app with some `PORTAL_*` settings; the rest are the defaults, with a fresh data
    /// directory, the repository's services and demo data, and a stand-in built app.
    pub async fn with(settings: &[(&str, &str)]) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let dist = dir.path().join("dist");
        std::fs::create_dir_all(dist.join("workspace")).unwrap();
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><title>portal</title><script type=module>start()</script>",
        )
        .unwrap();
        std::fs::write(
            dist.join("workspace/index.html"),
            "<!doctype html><title>workspace</title>",
        )
        .unwrap();
        std::fs::write(
            dist.join("portal-web-1a2b3c4d5e6f7a8b_bg.wasm"),
            b"\0asm\x01\0\0\0",
        )
        .unwrap();
        let mut vars: HashMap<String, String> = HashMap::from([
            (
                "PORTAL_DATA_DIR".to_string(),
                dir.path().display().to_string(),
            ),
            ("PORTAL_DIST_DIR".to_string(), dist.display().to_string()),
            (
                "PORTAL_SERVICES_DIR".to_string(),
                repo_root().join("services").display().to_string(),
            ),
            (
                "PORTAL_DEMO_DIR".to_string(),
                repo_root().join("demo").display().to_string(),
            ),
            (
                "PORTAL_CALENDAR_FILE".to_string(),
                repo_root().join("calendar/kz.json").display().to_string(),
            ),
            // Tests run on any day of the year; the window's own tests set theirs.
            (
                "PORTAL_FIRST_GRADE_WINDOW".to_string(),
                "01-01..12-31".to_string(),
            ),
        ]);
        if !settings.iter().any(|(k, _)| k.starts_with("PORTAL_S3_")) {
            vars.extend(fresh_bucket().into_iter().flatten());
        }
        for (k, v) in settings {
            vars.insert(k.to_string(), v.to_string());
        }
        let files = if vars.contains_key("PORTAL_S3_BUCKET") {
            "s3"
        } else {
            "local"
        };
        let shared = vars.get("PORTAL_DATABASE_URL").cloned();
        let engine = match shared {
            Some(url) if url.starts_with("postgres") => "postgres",
            Some(_) => "sqlite",
            None => match fresh_postgres_database().await {
                Some(url) => {
                    vars.insert("PORTAL_DATABASE_URL".to_string(), url);
                    "postgres"
                }
                None => "sqlite",
            },
        };
        let config =
            Config::from_lookup(|name| vars.get(name).cloned()).expect("valid test settings");
        let state = portal_server::build_state(config)
            .await
            .expect("the app starts");
        assert_eq!(
            state.db.engine(),
            engine,
            "the test runs on the database it names"
        );
        assert_eq!(
            state.blobs.kind(),
            files,
            "the test keeps files where it says"
        );
        let router = portal_server::router(state.clone());
        // Requests go to the router in-process, but the CRL is fetched over real HTTP, as in
        // production: the same router also listens on a loopback port.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let served = router
            .clone()
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, served).await.unwrap() });
        state
            .signing
            .publish_own_crl(&format!("http://{addr}/pki/issuing.crl"));
        TestApp {
            router,
            state,
            _dir: dir,
        }
    }

    /// A second server instance on this one's database and data directory, as behind a load
    /// balancer (on SQLite both open the same file).
    pub async fn another_instance(&self) -> TestApp {
        let data_dir = self.state.config.data_dir.display().to_string();
        self.on_another_host(&[("PORTAL_DATA_DIR", &data_dir)])
            .await
    }

    /// A second server instance on this one's database and bucket (if any) but with a data
    /// directory of its own, as on another machine; `extra` settings on top.
    pub async fn on_another_host(&self, extra: &[(&str, &str)]) -> TestApp {
        let config = &self.state.config;
        let mut settings = vec![
            ("PORTAL_DATABASE_URL", config.database_url.as_str()),
            ("PORTAL_DEMO", if config.demo { "1" } else { "0" }),
        ];
        if let Some(s3) = &config.s3 {
            settings.push(("PORTAL_S3_BUCKET", &s3.bucket));
            for (name, value) in [
                ("PORTAL_S3_ENDPOINT", &s3.endpoint),
                ("PORTAL_S3_REGION", &s3.region),
                ("PORTAL_S3_ACCESS_KEY_ID", &s3.access_key_id),
                ("PORTAL_S3_SECRET_ACCESS_KEY", &s3.secret_access_key),
            ] {
                if let Some(value) = value {
                    settings.push((name, value));
                }
            }
        }
        settings.extend_from_slice(extra);
        TestApp::with(&settings).await
    }

    /// Has the demo administrator open this year's first-grade window at `opens_at` (for an
    /// hour); returns the moment.
    pub async fn open_first_grade_window_at(&self, opens_at: i64) -> i64 {
        let admin = self.sign_in(DEMO_ADMIN.0, DEMO_ADMIN.1).await;
        let year = portal_domain::calendar::local_day_and_minute(opens_at)
            .0
            .year();
        let window = self
            .send(
                Method::PUT,
                &format!("/api/admin/first-grade/{year}"),
                Some(serde_json::json!({"opens_at": opens_at, "closes_at": opens_at + 3_600_000})),
                Some(&admin),
            )
            .await;
        assert_eq!(window.status, StatusCode::OK, "{}", window.text());
        opens_at
    }

    /// A key file for `iin` issued now by the portal's own test CA, valid for a year.
    pub fn key_for(&self, iin: &str, purpose: KeyPurpose) -> KeyFile {
        self.key_issued(iin, purpose, now_seconds() - 3600, 365)
    }

    pub fn key_issued(
        &self,
        iin: &str,
        purpose: KeyPurpose,
        not_before: i64,
        days: u32,
    ) -> KeyFile {
        let authority = &self.state.signing.authority;
        let person = Person {
            iin,
            last_name: "Тестова",
            first_name: "Алия",
        };
        let issued = authority
            .issue(
                &person,
                purpose,
                not_before,
                days,
                "http://127.0.0.1:1/unused.crl",
            )
            .unwrap();
        let p12 = authority.pkcs12(&issued, "key-password").unwrap();
        KeyFile::open(&p12, "key-password").unwrap()
    }

    /// Asks for the signing document of draft `id` and signs it with `key`: the signature to send.
    pub async fn sign(&self, session: &Session, id: &str, key: &KeyFile) -> String {
        let challenge = self
            .send(
                Method::POST,
                &format!("/api/applications/{id}/signing"),
                None,
                Some(session),
            )
            .await;
        assert_eq!(challenge.status, StatusCode::OK, "{}", challenge.text());
        let document = challenge.json()["document"].as_str().unwrap().to_string();
        BASE64.encode(
            key.sign_detached(document.as_bytes(), now_seconds())
                .unwrap(),
        )
    }

    /// Signs draft `id` with a fresh key of the session's person and submits it.
    pub async fn sign_and_submit(&self, session: &Session, id: &str, version: i64) -> TestResponse {
        let key = self.key_for(&session.iin, KeyPurpose::Signing);
        let signature = self.sign(session, id, &key).await;
        self.submit(session, id, version, &signature).await
    }

    pub async fn submit(
        &self,
        session: &Session,
        id: &str,
        version: i64,
        signature: &str,
    ) -> TestResponse {
        self.post_signed(
            session,
            &format!("/api/applications/{id}/submission"),
            version,
            signature,
        )
        .await
    }

    /// Schedules a signed first-grade draft for sending at the window's opening.
    pub async fn schedule(
        &self,
        session: &Session,
        id: &str,
        version: i64,
        signature: &str,
    ) -> TestResponse {
        let path = format!("/api/applications/{id}/scheduled-submission");
        self.post_signed(session, &path, version, signature).await
    }

    async fn post_signed(
        &self,
        session: &Session,
        path: &str,
        version: i64,
        signature: &str,
    ) -> TestResponse {
        let body = serde_json::json!({"version": version, "consent": true, "signature": signature});
        self.send(Method::POST, path, Some(body), Some(session))
            .await
    }

    pub async fn request(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let response = self
            .router
            .clone()
            .oneshot(builder.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// The status and headers of a response whose body is not read (an event stream).
    pub async fn status_of(
        &self,
        method: Method,
        uri: &str,
        session: Option<&Session>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(s) = session {
            builder = builder
                .header("cookie", &s.cookie)
                .header("x-csrf-token", &s.csrf);
        }
        let response = self
            .router
            .clone()
            .oneshot(builder.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        // An error's body is short and complete; a stream's is left unread.
        let body = if status.is_success() {
            Vec::new()
        } else {
            response
                .into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec()
        };
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str) -> TestResponse {
        self.request(Method::GET, uri, &[]).await
    }

    /// Sends a JSON body, with the session's cookie and CSRF token when given.
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        body: Option<serde_json::Value>,
        session: Option<&Session>,
    ) -> TestResponse {
        let mut builder = Request::builder().method(method).uri(uri);
        if let Some(s) = session {
            builder = builder
                .header("cookie", &s.cookie)
                .header("x-csrf-token", &s.csrf);
        }
        let body = match body {
            Some(json) => {
                builder = builder.header("content-type", "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        let response = self
            .router
            .clone()
            .oneshot(builder.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// Sends raw bytes with extra headers, as the session.
    pub async fn send_bytes(
        &self,
        method: Method,
        uri: &str,
        bytes: Vec<u8>,
        headers: &[(&str, &str)],
        session: &Session,
    ) -> TestResponse {
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf);
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let response = self
            .router
            .clone()
            .oneshot(builder.body(Body::from(bytes)).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        TestResponse {
            status,
            headers,
            body,
        }
    }

    pub async fn get_as(&self, uri: &str, session: &Session) -> TestResponse {
        self.send(Method::GET, uri, None, Some(session)).await
    }

    /// Registers a citizen with a fresh valid IIN and signs them in.
    pub async fn citizen(&self) -> Session {
        let iin = next_iin();
        let response = self
            .send(
                Method::POST,
                "/api/accounts",
                Some(registration(&iin)),
                None,
            )
            .await;
        assert_eq!(response.status, StatusCode::CREATED, "{}", response.text());
        Session::from_response(&response, &iin)
    }

    /// Signs in with IIN and password (the demo identities, for example).
    pub async fn sign_in(&self, iin: &str, password: &str) -> Session {
        let response = self
            .send(
                Method::POST,
                "/api/session",
                Some(serde_json::json!({"iin": iin, "password": password})),
                None,
            )
            .await;
        assert_eq!(
            response.status,
            StatusCode::OK,
            "signing in as {iin}: {}",
            response.text()
        );
        Session::from_response(&response, iin)
    }
}

/// A signed-in client: its cookie and CSRF token.
#[derive(Clone, Debug)]
pub struct Session {
    pub iin: String,
    pub cookie: String,
    pub csrf: String,
    pub user_id: String,
}

impl Session {
    pub fn from_response(response: &TestResponse, iin: &str) -> Session {
        let set_cookie = response.header("set-cookie").expect("a session cookie");
        let cookie = set_cookie.split(';').next().unwrap().to_string();
        let body = response.json();
        Session {
            iin: iin.to_string(),
            cookie,
            csrf: body["csrf_token"].as_str().unwrap().to_string(),
            user_id: body["user"]["id"].as_str().unwrap().to_string(),
        }
    }
}

pub const DEMO_ADMIN: (&str, &str) = ("840808477071", "Saule-admin-2026");
pub const DEMO_OFFICER_SCHOOL_201: (&str, &str) = ("830217461010", "Gulnar-officer-2026");
pub const DEMO_CITIZEN: (&str, &str) = ("880314412019", "Aigerim-demo-2026");

/// A valid registration body for `iin`.
pub fn registration(iin: &str) -> serde_json::Value {
    serde_json::json!({
        "iin": iin,
        "password": "Көктем-жаңбыры-7",
        "last_name": "Тестова",
        "first_name": "Сәуле",
        "email": "saule@example.com",
        "preferred_lang": "ru",
    })
}

/// A different valid IIN each call (born 1990, serials counting up).
pub fn next_iin() -> String {
    iin_born("9005154")
}

/// A different valid IIN each call starting with `birth_and_century` (YYMMDD + century digit).
pub fn iin_born(birth_and_century: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static SERIAL: AtomicU32 = AtomicU32::new(100);
    loop {
        let serial = SERIAL.fetch_add(1, Ordering::Relaxed);
        if let Some(iin) = portal_domain::iin::complete(&format!("{birth_and_century}{serial:04}"))
        {
            return iin;
        }
    }
}

/// A case file's answers as (label, value) rows in `lang`.
pub fn answer_rows(case: &serde_json::Value, lang: &str) -> Vec<(String, String)> {
    case["answers"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["rows"].as_array().unwrap().clone())
        .map(|r| {
            (
                r["label"][lang].as_str().unwrap().to_string(),
                r["value"][lang].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
