//! The first-grade opening day: N parents (50,000 by default) have signed drafts ready; at the
//! window's opening they all send them to the real server binary (release build, embedded
//! SQLite in WAL mode with `synchronous=FULL`) on this machine. Prints the accepted signed
//! submissions per second, the acknowledgement latencies (p50/p99/max), errors, and then checks
//! the database: acknowledged-but-missing applications and duplicates. In the same run it
//! measures the raw limit of the storage for the same rows (batched durable inserts, no HTTP),
//! and a crash run: the server is killed with SIGKILL again and again during a storm while
//! clients retry. Figures, not assertions.
//!
//! With `BENCH_POSTGRES_URL` (a PostgreSQL server's maintenance database; scripts/bench-opening-day
//! starts a durable throwaway one) the same runs are repeated on PostgreSQL with two server
//! instances, the connections divided between them as a load balancer would.
//!
//!   scripts/bench-opening-day   (or `cargo bench -p portal-server --bench opening_day`)
//!
//! Then the parents who schedule their drafts before the opening ("send automatically at
//! the opening", through the API, which checks each in full), after which the opening is
//! brought forward to a few seconds later: the portal sends them all itself; it prints how
//! long that takes.
//!
//! Settings: BENCH_PARENTS (50000), BENCH_CLIENTS (concurrent connections, 256),
//! BENCH_CRASH_PARENTS (5000), BENCH_KILLS (5), BENCH_SCHEDULED (20000), BENCH_POSTGRES_URL,
//! BENCH_INSTANCES (2, on PostgreSQL), BENCH_SERVER_LOG (a file for the server's log) and
//! BENCH_SERVER_LOG_FILTER (its PORTAL_LOG).
//!
//! Preparation writes the parents, their sessions and drafts straight into the database (the
//! same rows registration, sign-in, saving and uploading write) and signs each draft with a
//! certificate of the parent's IIN from the portal's test CA (one RSA key for all: generating
//! 50,000 keys would take hours). The submission itself goes the whole way: session, CSRF,
//! the form, the first-grade rules, the CMS signature with its chain and revocation, the queue.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use portal_domain::eds::{KeyFile, KeyPurpose};
use portal_server::Config;
use portal_server::applications::store::AttachmentRow;
use portal_server::db::{Db, new_id, now_millis, random_hex};
use portal_server::on_db;
use portal_server::signing::pki::{Authority, Person, new_key, now_seconds};
use sha2::{Digest, Sha256};

const SCHOOL: &str = "almaty-school-201";

fn setting(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn main() {
    let parents = setting("BENCH_PARENTS", 50_000);
    let clients = setting("BENCH_CLIENTS", 256);
    let crash_parents = setting("BENCH_CRASH_PARENTS", 5_000);
    let scheduled = setting("BENCH_SCHEDULED", 20_000);
    let kills = setting("BENCH_KILLS", 5);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let postgres = std::env::var("BENCH_POSTGRES_URL").ok();
    let instances = setting("BENCH_INSTANCES", 2);
    runtime.block_on(async move {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let mut setups = vec![Setup::Sqlite];
        if let Some(admin) = postgres {
            setups.push(Setup::Postgres { admin, instances });
        }
        for setup in setups {
            println!(
                "\nOpening day on {}: {parents} parents, {clients} concurrent connections, this machine ({cores} cores)",
                setup.describe()
            );
            let world = World::prepare(parents, &setup).await;
            let load = world.storm(clients).await;
            load.print();
            world.check(&load.acknowledged).await.print();
            raw_storage_limit(parents, &setup).await;
            if scheduled > 0 {
                World::prepare(scheduled, &setup)
                    .await
                    .scheduled_opening()
                    .await;
            }
            if crash_parents > 0 {
                let world = World::prepare(crash_parents, &setup).await;
                world.crash_storm(clients.min(crash_parents), kills).await;
            }
        }
    });
}

/// Where the portal keeps its data, and how many server instances share it.
enum Setup {
    Sqlite,
    Postgres { admin: String, instances: usize },
}

impl Setup {
    fn describe(&self) -> String {
        match self {
            Setup::Sqlite => "embedded SQLite, one server".into(),
            Setup::Postgres { instances, .. } => {
                format!("PostgreSQL, {instances} server instances")
            }
        }
    }

    fn instances(&self) -> usize {
        match self {
            Setup::Sqlite => 1,
            Setup::Postgres { instances, .. } => *instances,
        }
    }

    /// A new, empty database (`name`.db beside `dir`, or a new PostgreSQL database).
    async fn fresh_database(&self, dir: &Path, name: &str) -> String {
        match self {
            Setup::Sqlite => format!("sqlite://{}/{name}.db", dir.display()),
            Setup::Postgres { admin, .. } => {
                use sqlx::Connection;
                let database = format!("bench_{name}_{}", new_id());
                let mut connection = sqlx::PgConnection::connect(admin).await.unwrap();
                sqlx::query(&format!("CREATE DATABASE {database}"))
                    .execute(&mut connection)
                    .await
                    .unwrap();
                let (server, _) = admin.rsplit_once('/').unwrap();
                format!("{server}/{database}")
            }
        }
    }
}

/// A parent ready to send: their session and the request body with the signature.
struct Parent {
    cookie: String,
    csrf: String,
    id: String,
    body: Bytes,
}

/// A data directory with the demo world, N parents with signed drafts, and the first-grade
/// window opening a few seconds after the server starts.
struct World {
    _dir: tempfile::TempDir,
    data: PathBuf,
    dist: PathBuf,
    database_url: String,
    instances: usize,
    parents: Vec<Parent>,
}

fn settings(data: &Path, dist: &Path, database_url: &str) -> Vec<(&'static str, String)> {
    let root = repo_root();
    vec![
        ("PORTAL_DATA_DIR", data.display().to_string()),
        ("PORTAL_DATABASE_URL", database_url.to_string()),
        ("PORTAL_DIST_DIR", dist.display().to_string()),
        (
            "PORTAL_SERVICES_DIR",
            root.join("services").display().to_string(),
        ),
        ("PORTAL_DEMO", "1".into()),
        ("PORTAL_DEMO_DIR", root.join("demo").display().to_string()),
        (
            "PORTAL_CALENDAR_FILE",
            root.join("calendar/kz.json").display().to_string(),
        ),
        ("PORTAL_SESSION_IDLE_MINUTES", "120".into()),
    ]
    .into_iter()
    .chain(std::env::var("BENCH_SERVER_LOG_FILTER").map(|f| ("PORTAL_LOG", f)))
    .collect()
}

impl World {
    async fn prepare(n: usize, setup: &Setup) -> World {
        let started = Instant::now();
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).unwrap();
        let database_url = setup.fresh_database(&data, "portal").await;
        let dist = dir.path().join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(
            dist.join("index.html"),
            "<!doctype html><title>portal</title>",
        )
        .unwrap();
        let vars: HashMap<&str, String> =
            settings(&data, &dist, &database_url).into_iter().collect();
        let config = Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
        let state = portal_server::build_state(config).await.unwrap();
        let people = people(n);
        let key = new_key().unwrap();
        let issued_at = now_seconds();
        let signed = sign_all(&state.signing.authority, &key, &people, issued_at);
        let mut parents = Vec::with_capacity(n);
        for chunk in people.iter().zip(signed).collect::<Vec<_>>().chunks(2_000) {
            parents.extend(insert_parents(&state.db, chunk, issued_at).await);
        }
        // Parents send in an order unrelated to the one their drafts were made in, as on the
        // day: otherwise rows keyed by the application would be written in the order of their
        // keys, which no real opening gives.
        shuffle(&mut parents);
        println!(
            "  prepared {n} parents with signed drafts in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        on_db!(&state.db, |pool| pool.close().await);
        World {
            _dir: dir,
            data,
            dist,
            database_url,
            instances: setup.instances(),
            parents,
        }
    }

    fn spawn(&self, addr: &str) -> Child {
        let mut command = Command::new(env!("CARGO_BIN_EXE_portal-server"));
        command.env_clear().env("PORTAL_ADDR", addr);
        for (k, v) in settings(&self.data, &self.dist, &self.database_url) {
            command.env(k, v);
        }
        command
            .stdout(Stdio::null())
            .stderr(match std::env::var_os("BENCH_SERVER_LOG") {
                Some(path) => Stdio::from(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(path)
                        .unwrap(),
                ),
                None => Stdio::null(),
            })
            .spawn()
            .expect("the server binary starts")
    }

    async fn open_window_at(&self, opens_at: i64) {
        let db = Db::connect(&self.database_url).await.unwrap();
        let year = portal_domain::calendar::local_day_and_minute(opens_at)
            .0
            .year();
        on_db!(&db, |pool| {
            sqlx::query(
                "INSERT INTO first_grade_windows (school_year, opens_at, closes_at, updated_at, updated_by)
                 VALUES ($1, $2, $3, $2, (SELECT id FROM users WHERE role = 'administrator' LIMIT 1))
                 ON CONFLICT (school_year) DO UPDATE SET opens_at = excluded.opens_at, closes_at = excluded.closes_at",
            )
            .bind(i64::from(year))
            .bind(opens_at)
            .bind(opens_at + 86_400_000)
            .execute(pool)
            .await.map(|r| r.rows_affected())
            .unwrap()
        });
        on_db!(&db, |pool| pool.close().await);
    }

    /// Starts the server(s), waits for the opening, and sends every draft once.
    async fn storm(&self, clients: usize) -> Load {
        let opens_at = now_millis() + 15_000;
        self.open_window_at(opens_at).await;
        let addrs: Vec<String> = (0..self.instances).map(|_| free_addr()).collect();
        let mut servers: Vec<Child> = addrs.iter().map(|addr| self.spawn(addr)).collect();
        let client = http_client(clients);
        for addr in &addrs {
            wait_until_up(&client, addr).await;
        }
        // Before the opening the server refuses (and tells when it opens).
        let early = send(&client, &addrs[0], &self.parents[0]).await;
        println!(
            "  a send before the opening: {}",
            early.map(|(s, _)| s.to_string()).unwrap_or_else(|e| e)
        );
        let wait = opens_at - now_millis();
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait as u64 + 5)).await;
        }
        let next = Arc::new(AtomicUsize::new(0));
        let parents = Arc::new(&self.parents);
        let cpu = |servers: &[Child]| servers.iter().map(|s| cpu_seconds(s.id())).sum::<f64>();
        let cpu_before = cpu(&servers);
        let written =
            |servers: &[Child]| servers.iter().map(|s| bytes_written(s.id())).sum::<u64>();
        let written_before = written(&servers);
        let stolen_before = stolen_seconds();
        let generator_before = cpu_seconds(std::process::id());
        let started = Instant::now();
        // Each connection stays with one instance, as a load balancer pins it.
        let results: Vec<Vec<Outcome>> =
            futures_util::future::join_all((0..clients).map(|connection| {
                let (client, next, parents) = (client.clone(), next.clone(), parents.clone());
                let addr = addrs[connection % addrs.len()].clone();
                async move {
                    let mut outcomes = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(parent) = parents.get(i) else { break };
                        let sent = Instant::now();
                        let result = send(&client, &addr, parent).await;
                        outcomes.push(Outcome {
                            parent: i,
                            latency: sent.elapsed(),
                            done_at: started.elapsed(),
                            result,
                        });
                    }
                    outcomes
                }
            }))
            .await;
        let elapsed = started.elapsed();
        let peak_kib = servers
            .iter()
            .map(|s| peak_memory_kib(s.id()))
            .sum::<Option<u64>>();
        let server_cpu = cpu(&servers) - cpu_before;
        let server_written = written(&servers) - written_before;
        let stolen = stolen_seconds() - stolen_before;
        let generator_cpu = cpu_seconds(std::process::id()) - generator_before;
        for server in &mut servers {
            server.kill().unwrap();
            server.wait().unwrap();
        }
        let mut load = Load {
            server_cpu,
            server_written,
            stolen,
            generator_cpu,
            elapsed,
            peak_kib,
            latencies: vec![],
            errors: HashMap::new(),
            acknowledged: HashMap::new(),
            last_ack: Duration::ZERO,
        };
        for outcome in results.into_iter().flatten() {
            load.latencies.push(outcome.latency);
            match outcome.result {
                Ok((201, number)) => {
                    load.last_ack = load.last_ack.max(outcome.done_at);
                    load.acknowledged
                        .insert(self.parents[outcome.parent].id.clone(), number);
                }
                Ok((status, body)) => {
                    *load
                        .errors
                        .entry(format!(
                            "{status} {}",
                            body.chars().take(160).collect::<String>()
                        ))
                        .or_default() += 1
                }
                Err(e) => *load.errors.entry(e).or_default() += 1,
            }
        }
        load
    }

    /// Acknowledged applications missing or not whole, and duplicates, read from the database.
    async fn check(&self, acknowledged: &HashMap<String, String>) -> Checked {
        let db = Db::connect(&self.database_url).await.unwrap();
        let rows: Vec<(String, String, Option<String>, Option<i64>, i64, i64)> = on_db!(
            &db,
            |pool| {
                sqlx::query_as(
                "SELECT a.id, a.status, a.number, a.first_grade_position,
                        (SELECT COUNT(*) FROM application_signatures s WHERE s.application_id = a.id),
                        (SELECT COUNT(*) FROM application_events e WHERE e.application_id = a.id AND e.action IN ('submit', 'submit_unconfirmed'))
                 FROM applications a WHERE a.service_id = 'school-enrollment' AND a.user_id IN (SELECT id FROM users WHERE last_name = 'Бенчмарк')",
            )
            .fetch_all(pool)
            .await
            .unwrap()
            }
        );
        let mut checked = Checked::default();
        let by_id: HashMap<&str, _> = rows.iter().map(|r| (r.0.as_str(), r)).collect();
        let mut numbers = HashSet::new();
        let mut positions = HashSet::new();
        for (id, number) in acknowledged {
            match by_id.get(id.as_str()) {
                Some((_, status, Some(stored), Some(_), 1, 1))
                    if status != "draft" && stored == number => {}
                _ => checked.missing += 1,
            }
        }
        for (_, status, number, position, signatures, events) in &rows {
            if status == "draft" {
                if *signatures != 0 || *events != 0 || number.is_some() || position.is_some() {
                    checked.half_written += 1;
                }
                continue;
            }
            checked.stored += 1;
            if *signatures != 1 || *events != 1 {
                checked.duplicates += 1;
            }
            if let Some(n) = number {
                if !numbers.insert(n.clone()) {
                    checked.duplicates += 1;
                }
            }
            if let Some(p) = position {
                if !positions.insert(*p) {
                    checked.duplicates += 1;
                }
            }
        }
        checked.acknowledged = acknowledged.len();
        checked
    }

    /// The parents who chose "send automatically at the opening" before it: the portal sends
    /// every scheduled draft itself when the window opens, checking each as if its parent sent
    /// it. Prints how long after the opening each was submitted.
    async fn scheduled_opening(&self) {
        self.open_window_at(now_millis() + 3_600_000).await;
        let addrs: Vec<String> = (0..self.instances).map(|_| free_addr()).collect();
        let mut servers: Vec<Child> = addrs.iter().map(|addr| self.spawn(addr)).collect();
        let client = http_client(64);
        for addr in &addrs {
            wait_until_up(&client, addr).await;
        }
        // Every parent schedules through the real endpoint (which checks the draft and the
        // signature in full) before the opening, as they would over the days before it.
        let started = Instant::now();
        let next = Arc::new(AtomicUsize::new(0));
        let refused: usize = futures_util::future::join_all((0..64).map(|connection| {
            let (client, next, parents) = (client.clone(), next.clone(), &self.parents);
            let addr = addrs[connection % addrs.len()].clone();
            async move {
                let mut refused = 0;
                while let Some(p) = parents.get(next.fetch_add(1, Ordering::Relaxed)) {
                    match post(&client, &addr, "scheduled-submission", p).await {
                        Ok((202, _)) => {}
                        other => {
                            refused += 1;
                            if refused == 1 {
                                println!("  a scheduling refused: {other:?}");
                            }
                        }
                    }
                }
                refused
            }
        }))
        .await
        .into_iter()
        .sum();
        println!(
            "  scheduled {} drafts through the API in {:.1} s ({refused} refused)",
            self.parents.len() - refused,
            started.elapsed().as_secs_f64()
        );
        let db = Db::connect(&self.database_url).await.unwrap();
        let scheduled_order: Vec<(String,)> = on_db!(&db, |pool| {
            sqlx::query_as(
            "SELECT application_id FROM scheduled_submissions ORDER BY scheduled_at, application_id"
        )
        .fetch_all(pool)
        .await
        .unwrap()
        });
        // The government brings the opening forward to a few seconds from now.
        let opens_at = now_millis() + 3_000;
        self.open_window_at(opens_at).await;
        let total = self.parents.len() as i64;
        let sent = |db: &Db| {
            let db = db.clone();
            async move {
                let (n,): (i64,) = on_db!(&db, |pool| {
                    sqlx::query_as(
                    "SELECT COUNT(*) FROM applications WHERE service_id = 'school-enrollment' AND status <> 'draft'
                     AND user_id IN (SELECT id FROM users WHERE last_name = 'Бенчмарк')"
                )
                .fetch_one(pool)
                .await
                .unwrap()
                });
                n
            }
        };
        let deadline = Instant::now() + Duration::from_secs(900);
        while sent(&db).await < total && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
        for server in &mut servers {
            server.kill().unwrap();
            server.wait().unwrap();
        }
        let rows: Vec<(String, Option<String>, Option<i64>)> = on_db!(&db, |pool| {
            sqlx::query_as(
            "SELECT id, number, submitted_at FROM applications WHERE service_id = 'school-enrollment' AND status <> 'draft'
             AND user_id IN (SELECT id FROM users WHERE last_name = 'Бенчмарк') ORDER BY first_grade_position"
        )
        .fetch_all(pool)
        .await
        .unwrap()
        });
        on_db!(&db, |pool| pool.close().await);
        let mut after: Vec<i64> = rows
            .iter()
            .filter_map(|r| r.2)
            .map(|at| at - opens_at)
            .collect();
        after.sort();
        let at = |q: f64| after[((after.len() as f64 * q) as usize).min(after.len() - 1)];
        let last = after.last().copied().unwrap_or(0).max(1);
        println!(
            "Sent by the portal at the opening (scheduled beforehand): {} of {total} in {:.2} s: {:.0} per second",
            rows.len(),
            last as f64 / 1000.0,
            rows.len() as f64 * 1000.0 / last as f64
        );
        if !after.is_empty() {
            println!(
                "  submitted after the opening: p50 {:.2} s, p99 {:.2} s, last {:.2} s (the job checks every second)",
                at(0.50) as f64 / 1000.0,
                at(0.99) as f64 / 1000.0,
                last as f64 / 1000.0
            );
        }
        // The queue must follow the order of scheduling.
        let scheduled_as: HashMap<&str, usize> = scheduled_order
            .iter()
            .enumerate()
            .map(|(i, (id,))| (id.as_str(), i))
            .collect();
        let out_of_order = rows
            .windows(2)
            .filter(|w| scheduled_as[w[0].0.as_str()] > scheduled_as[w[1].0.as_str()])
            .count();
        println!("  queue places out of the order of scheduling: {out_of_order}");
        let acknowledged: HashMap<String, String> = rows
            .into_iter()
            .filter_map(|(id, number, _)| Some((id, number?)))
            .collect();
        self.check(&acknowledged).await.print();
    }

    /// Clients retry until acknowledged while the server is killed `kills` times.
    async fn crash_storm(&self, clients: usize, kills: usize) {
        let opens_at = now_millis() + 5_000;
        self.open_window_at(opens_at).await;
        let addrs: Vec<String> = (0..self.instances).map(|_| free_addr()).collect();
        let servers: Vec<tokio::sync::Mutex<Child>> = addrs
            .iter()
            .map(|addr| tokio::sync::Mutex::new(self.spawn(addr)))
            .collect();
        let client = http_client(clients);
        for addr in &addrs {
            wait_until_up(&client, addr).await;
        }
        tokio::time::sleep(Duration::from_millis(
            (opens_at - now_millis()).max(0) as u64 + 5,
        ))
        .await;
        let next = Arc::new(AtomicUsize::new(0));
        let acknowledged: Arc<std::sync::Mutex<HashMap<String, String>>> = Arc::default();
        let attempts = Arc::new(AtomicUsize::new(0));
        let parents = Arc::new(&self.parents);
        let total = self.parents.len();
        let storm = futures_util::future::join_all((0..clients).map(|connection| {
            let (client, next, parents, addr, acknowledged, attempts) = (
                client.clone(),
                next.clone(),
                parents.clone(),
                addrs[connection % addrs.len()].clone(),
                acknowledged.clone(),
                attempts.clone(),
            );
            async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(parent) = parents.get(i) else { break };
                    loop {
                        attempts.fetch_add(1, Ordering::Relaxed);
                        match send(&client, &addr, parent).await {
                            Ok((200 | 201, number)) => {
                                let mut seen = acknowledged.lock().unwrap();
                                if let Some(earlier) =
                                    seen.insert(parent.id.clone(), number.clone())
                                {
                                    assert_eq!(earlier, number);
                                }
                                break;
                            }
                            Ok((status, body)) if status < 500 => {
                                panic!("refused with {status}: {body}")
                            }
                            _ => tokio::time::sleep(Duration::from_millis(50)).await,
                        }
                    }
                }
            }
        }));
        let killer = async {
            let mut pending = Vec::new();
            for k in 0..kills {
                // Spread the kills over the storm.
                let target = total * (k + 1) / (kills + 1);
                while acknowledged.lock().unwrap().len() < target {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                // The instances in turn.
                let victim = k % servers.len();
                let mut child = servers[victim].lock().await;
                child.kill().unwrap();
                child.wait().unwrap();
                pending.push(total - acknowledged.lock().unwrap().len());
                *child = self.spawn(&addrs[victim]);
            }
            pending
        };
        let started = Instant::now();
        let ((), pending) = tokio::join!(storm.map_unit(), killer);
        let elapsed = started.elapsed();
        for server in &servers {
            server.lock().await.kill().unwrap();
        }
        let acknowledged = acknowledged.lock().unwrap().clone();
        let checked = self.check(&acknowledged).await;
        println!(
            "Crash run: {total} parents, {kills} SIGKILLs (still unacknowledged at each: {pending:?}), {} attempts, all acknowledged in {:.1} s",
            attempts.load(Ordering::Relaxed),
            elapsed.as_secs_f64()
        );
        checked.print();
    }
}

trait MapUnit: std::future::Future + Sized {
    fn map_unit(self) -> impl std::future::Future<Output = ()> {
        async move {
            self.await;
        }
    }
}
impl<F: std::future::Future> MapUnit for F {}

struct Outcome {
    parent: usize,
    latency: Duration,
    done_at: Duration,
    result: Result<(u16, String), String>,
}

struct Load {
    server_cpu: f64,
    /// Bytes the servers wrote to files (the log, and the database file at checkpoints).
    server_written: u64,
    /// CPU time the hypervisor gave to other machines while this one wanted it.
    stolen: f64,
    generator_cpu: f64,
    elapsed: Duration,
    last_ack: Duration,
    peak_kib: Option<u64>,
    latencies: Vec<Duration>,
    errors: HashMap<String, usize>,
    acknowledged: HashMap<String, String>,
}

impl Load {
    fn print(&self) {
        let mut l = self.latencies.clone();
        l.sort();
        let at =
            |q: f64| l[((l.len() as f64 * q) as usize).min(l.len() - 1)].as_secs_f64() * 1000.0;
        let accepted = self.acknowledged.len();
        println!(
            "  accepted {accepted} signed submissions in {:.2} s: {:.0} per second",
            self.last_ack.as_secs_f64(),
            accepted as f64 / self.last_ack.as_secs_f64()
        );
        println!("  every answer in {:.2} s", self.elapsed.as_secs_f64());
        println!(
            "  acknowledgement latency: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            at(0.50),
            at(0.99),
            l.last().unwrap().as_secs_f64() * 1000.0
        );
        let errors: usize = self.errors.values().sum();
        println!("  errors: {errors}");
        for (e, n) in &self.errors {
            println!("    {n} × {e}");
        }
        println!(
            "  server CPU time during the storm (all instances): {:.1} s ({:.0} µs per submission)",
            self.server_cpu,
            self.server_cpu * 1e6 / self.latencies.len() as f64
        );
        let sent = self.latencies.len() as f64;
        // The writer's work grows with the pages each submission changes: this shows them.
        // (PostgreSQL writes in processes of its own.)
        if self.server_written > 0 {
            println!(
                "  server file writes during the storm: {} MiB ({:.1} KiB per submission)",
                self.server_written >> 20,
                self.server_written as f64 / 1024.0 / sent
            );
        }
        // Runs on a shared virtual machine vary; this says how much of it was taken away.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
        println!(
            "  CPU time stolen by the hypervisor during the storm: {:.1} s of {:.1} s",
            self.stolen,
            self.elapsed.as_secs_f64() * cores
        );
        println!(
            "  load generator CPU time (this process, same machine): {:.1} s ({:.0} µs per submission)",
            self.generator_cpu,
            self.generator_cpu * 1e6 / sent
        );
        // What the machine has per submission at the target rate, for both together.
        println!(
            "  CPU the {cores} cores have per submission at 5,000 per second: {:.0} µs; used here: {:.0} µs",
            cores * 1e6 / 5_000.0,
            (self.server_cpu + self.generator_cpu) * 1e6 / sent
        );
        if let Some(kib) = self.peak_kib {
            println!("  server peak memory (all instances): {} MiB", kib / 1024);
        }
    }
}

#[derive(Default)]
struct Checked {
    acknowledged: usize,
    stored: usize,
    missing: usize,
    duplicates: usize,
    half_written: usize,
}

impl Checked {
    fn print(&self) {
        println!(
            "  in the database: {} submitted; acknowledged but missing or not whole: {}; duplicates: {}; unacknowledged half-written: {}",
            self.stored, self.missing, self.duplicates, self.half_written
        );
        if self.stored != self.acknowledged {
            println!("  ({} acknowledged)", self.acknowledged);
        }
    }
}

fn free_addr() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}

type Http = Client<HttpConnector, Full<Bytes>>;

fn http_client(connections: usize) -> Http {
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(connections)
        .build_http()
}

async fn wait_until_up(client: &Http, addr: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let request = hyper::Request::get(format!("http://{addr}/api/health"))
            .body(Full::default())
            .unwrap();
        if let Ok(r) = client.request(request).await {
            if r.status().is_success() {
                return;
            }
        }
        assert!(Instant::now() < deadline, "the server did not start");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sends one parent's signed draft: the status and the application number (or the error body).
async fn send(client: &Http, addr: &str, p: &Parent) -> Result<(u16, String), String> {
    post(client, addr, "submission", p).await
}

/// Posts the parent's signed request to their application's `what` (`submission`,
/// `scheduled-submission`): the status and the number given, or the body of a refusal.
async fn post(client: &Http, addr: &str, what: &str, p: &Parent) -> Result<(u16, String), String> {
    let request = hyper::Request::post(format!("http://{addr}/api/applications/{}/{what}", p.id))
        .header("cookie", &p.cookie)
        .header("x-csrf-token", &p.csrf)
        .header("content-type", "application/json")
        .header("origin", format!("http://{addr}"))
        .body(Full::new(p.body.clone()))
        .unwrap();
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("connection: {e}"))?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("body: {e}"))?
        .to_bytes();
    if status == 200 || status == 201 || status == 202 {
        let view: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
        Ok((
            status,
            view["submission"]["number"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        ))
    } else {
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

/// Fisher–Yates, from the operating system's random source.
fn shuffle<T>(items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let mut bytes = [0u8; 8];
        getrandom::fill(&mut bytes).unwrap();
        items.swap(i, (u64::from_le_bytes(bytes) % (i as u64 + 1)) as usize);
    }
}

/// User plus system CPU time of process `pid` so far, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after_name = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks: f64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
        .sum();
    ticks / 100.0
}

/// Bytes process `pid` has caused to be written to storage so far (`write_bytes` of
/// `/proc/<pid>/io`, counted when the page cache takes them).
fn bytes_written(pid: u32) -> u64 {
    let io = std::fs::read_to_string(format!("/proc/{pid}/io")).unwrap_or_default();
    io.lines()
        .find_map(|l| l.strip_prefix("write_bytes:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

/// The machine's steal time so far, all CPUs, in seconds (`/proc/stat`).
fn stolen_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    stat.lines()
        .find_map(|l| l.strip_prefix("cpu "))
        .and_then(|fields| fields.split_whitespace().nth(7)?.parse::<f64>().ok())
        .map_or(0.0, |ticks| ticks / 100.0)
}

fn peak_memory_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// A parent and their child, with a draft's fixed parts.
struct Person_ {
    iin: String,
    user_id: String,
    application_id: String,
    photo: AttachmentRow,
    certificate: AttachmentRow,
    answers: String,
    nonce: String,
}

/// Valid IINs: parents born in 1985–1994, children born on 1 March of the year they turn 6.
fn iins(count: usize, yymmdd_century: impl Fn(usize) -> String) -> Vec<String> {
    let mut out = Vec::with_capacity(count);
    let mut serial = 0usize;
    while out.len() < count {
        if let Some(iin) = portal_domain::iin::complete(&format!(
            "{}{:04}",
            yymmdd_century(serial),
            serial % 10_000
        )) {
            out.push(iin);
        }
        serial += 1;
    }
    out
}

fn people(n: usize) -> Vec<Person_> {
    let year = portal_domain::calendar::local_day_and_minute(now_millis())
        .0
        .year();
    let child_year = (year - 6) % 100;
    // Unique per run: a salt in the birth day keeps the two worlds of one run apart anyway.
    let parents = iins(n, |s| {
        format!(
            "{:02}{:02}{:02}3",
            85 + (s / 10_000) % 10,
            1 + (s / 100_000) % 12,
            10 + (s / 1_200_000) % 18
        )
    });
    let children = iins(n, |s| {
        format!(
            "{child_year:02}{:02}{:02}5",
            3 + (s / 10_000) % 6,
            1 + (s / 60_000) % 28
        )
    });
    parents
        .into_iter()
        .zip(children)
        .map(|(iin, child_iin)| {
            let application_id = new_id();
            let attachment = |slot: &str, name: &str| AttachmentRow {
                id: new_id(),
                application_id: application_id.clone(),
                slot: slot.into(),
                file_name: name.into(),
                size: 1000,
                received: 1000,
                complete: true,
                content_type: Some("application/pdf".into()),
                sha256: Some(portal_server::catalogue::hex(&Sha256::digest(random_hex(16).as_bytes()))),
            };
            let answers = serde_json::json!({
                "on_behalf": "child",
                "subject_iin": child_iin,
                "subject_last_name": "Бенчмарк",
                "subject_first_name": "Айша",
                "school": SCHOOL,
                "grade": "1",
                "study_form": "full_time",
                "priority": "none",
                "residence": {"locality": "Алматы", "street": "Абай даңғылы", "house": "10", "apartment": "5"}
            })
            .to_string();
            Person_ {
                photo: attachment("child-photo", "photo.pdf"),
                certificate: attachment("child-birth-certificate", "birth-certificate.pdf"),
                user_id: new_id(),
                application_id,
                iin,
                answers,
                nonce: random_hex(16),
            }
        })
        .collect()
}

/// Each parent's certificate (one key, many IINs) and signature over their draft's signing
/// document, on every core.
fn sign_all(
    authority: &Authority,
    key: &rsa::RsaPrivateKey,
    people: &[Person_],
    issued_at: i64,
) -> Vec<String> {
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let chunk = people.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = people
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|p| {
                            let person = Person {
                                iin: &p.iin,
                                last_name: "Бенчмарк",
                                first_name: "Ата-ана",
                            };
                            let certificate = authority
                                .issue_to(
                                    &person,
                                    KeyPurpose::Signing,
                                    key,
                                    issued_at - 3600,
                                    365,
                                    "http://127.0.0.1:1/unused.crl",
                                )
                                .unwrap();
                            let file = KeyFile::from_parts(key.clone(), certificate).unwrap();
                            let row = draft_row(p);
                            let document = portal_server::signing::document(
                                &row,
                                &p.iin,
                                &[p.photo.clone(), p.certificate.clone()],
                                &p.nonce,
                                issued_at,
                            )
                            .unwrap()
                            .canonical_bytes();
                            let cms = file.sign_detached(&document, issued_at).unwrap();
                            base64::engine::general_purpose::STANDARD.encode(cms)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    })
}

fn draft_row(p: &Person_) -> portal_server::applications::store::ApplicationRow {
    portal_server::applications::store::ApplicationRow {
        id: p.application_id.clone(),
        user_id: p.user_id.clone(),
        service_id: "school-enrollment".into(),
        status: "draft".into(),
        answers: p.answers.clone(),
        version: 1,
        created_at: 0,
        updated_at: 0,
        number: None,
        submitted_at: None,
        organisation_id: None,
        expected_result_date: None,
        verification_code: None,
        lang: None,
        first_grade_priority_refused: false,
    }
}

/// Writes a chunk of parents (user, session, draft, two uploaded files, signing challenge) in
/// one transaction.
async fn insert_parents(db: &Db, chunk: &[(&Person_, String)], issued_at: i64) -> Vec<Parent> {
    let now = now_millis();
    let mut out = Vec::with_capacity(chunk.len());
    on_db!(db, |pool| {
        let mut tx = pool.begin().await.unwrap();
        for (p, signature) in chunk {
            let token = random_hex(32);
            let csrf = random_hex(32);
            sqlx::query(
                "INSERT INTO users (id, iin, password_hash, role, last_name, first_name, preferred_lang, notify_email, notify_browser, demo, created_at)
                 VALUES ($1, $2, 'x', 'citizen', 'Бенчмарк', 'Ата-ана', 'kk', FALSE, FALSE, FALSE, $3)",
            )
            .bind(&p.user_id)
            .bind(&p.iin)
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, idle_expires_at, absolute_expires_at, ip, user_agent)
                 VALUES ($1, $2, $3, $4, $4, $5, $6, '127.0.0.1', 'bench')",
            )
            .bind(portal_server::catalogue::hex(&Sha256::digest(token.as_bytes())))
            .bind(&p.user_id)
            .bind(&csrf)
            .bind(now)
            .bind(now + 7_200_000)
            .bind(now + 12 * 3_600_000)
            .execute(&mut *tx)
            .await
            .unwrap();
            sqlx::query(
                "INSERT INTO applications (id, user_id, service_id, status, answers, version, created_at, updated_at)
                 VALUES ($1, $2, 'school-enrollment', 'draft', $3, 1, $4, $4)",
            )
            .bind(&p.application_id)
            .bind(&p.user_id)
            .bind(&p.answers)
            .bind(now)
            .execute(&mut *tx)
            .await
            .unwrap();
            for a in [&p.photo, &p.certificate] {
                sqlx::query(
                    "INSERT INTO attachments (id, application_id, slot, file_name, size, received, complete, content_type, sha256, created_at)
                     VALUES ($1, $2, $3, $4, $5, $5, TRUE, $6, $7, $8)",
                )
                .bind(&a.id)
                .bind(&a.application_id)
                .bind(&a.slot)
                .bind(&a.file_name)
                .bind(a.size)
                .bind(&a.content_type)
                .bind(&a.sha256)
                .bind(now + if a.slot == "child-photo" { 0 } else { 1 })
                .execute(&mut *tx)
                .await
                .unwrap();
            }
            sqlx::query("INSERT INTO signing_challenges (application_id, nonce, issued_at) VALUES ($1, $2, $3)")
                .bind(&p.application_id)
                .bind(&p.nonce)
                .bind(issued_at)
                .execute(&mut *tx)
                .await
                .unwrap();
            out.push(Parent {
                cookie: format!("portal_session={token}"),
                csrf,
                id: p.application_id.clone(),
                body: Bytes::from(
                    serde_json::json!({"version": 1, "consent": true, "signature": signature})
                        .to_string(),
                ),
            });
        }
        tx.commit().await.unwrap();
    });
    let _ = &out;
    out
}

/// The storage's own limit for the rows a submission writes (the application, its signature
/// and its history event), in durable batched transactions, without HTTP or any checks.
async fn raw_storage_limit(n: usize, setup: &Setup) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&setup.fresh_database(dir.path(), "raw").await)
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let cms = vec![0x30u8; 1_900];
    let document = vec![b'{'; 1_200];
    let answers = "x".repeat(400);
    let user = new_id();
    on_db!(&db, |pool| {
        sqlx::query(
            "INSERT INTO users (id, iin, password_hash, role, last_name, first_name, preferred_lang, notify_email, notify_browser, demo, created_at)
             VALUES ($1, '880314412019', 'x', 'citizen', 'Raw', 'Raw', 'kk', FALSE, FALSE, FALSE, 0)",
        )
        .bind(&user)
        .execute(pool)
        .await.map(|r| r.rows_affected())
        .unwrap()
    });
    let started = Instant::now();
    for batch in 0..n.div_ceil(500) {
        on_db!(&db, |pool| {
            let mut tx = pool.begin().await.unwrap();
            for i in batch * 500..((batch + 1) * 500).min(n) {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO applications (id, user_id, service_id, status, answers, version, created_at, updated_at, number, submitted_at, organisation_id)
                     VALUES ($1, $5, 'school-enrollment', 'submitted', $2, 2, $3, $3, $4, $3, NULL)",
                )
                .bind(&id)
                .bind(&answers)
                .bind(now_millis())
                .bind(format!("N{i:08}"))
                .bind(&user)
                .execute(&mut *tx)
                .await
                .unwrap();
                sqlx::query(
                    "INSERT INTO application_signatures (application_id, cms, document, signer_iin, signer_serial, certificate, signed_at, outcome)
                     VALUES ($1, $2, $3, '880314412019', 'ab', $2, 0, 'valid')",
                )
                .bind(&id)
                .bind(&cms)
                .bind(&document)
                .execute(&mut *tx)
                .await
                .unwrap();
                sqlx::query(
                    "INSERT INTO application_events (application_id, seq, at, actor_id, actor_role, action, from_status, to_status, details, prev_hash, hash)
                     VALUES ($1, 1, $2, NULL, 'applicant', 'submit', 'draft', 'submitted', '{}', '', $3)",
                )
                .bind(&id)
                .bind(now_millis())
                .bind(random_hex(32))
                .execute(&mut *tx)
                .await
                .unwrap();
            }
            tx.commit().await.unwrap();
        });
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "Raw storage limit (same rows: application, signature, event; 500 per durable transaction, no HTTP): {:.0} per second",
        n as f64 / elapsed
    );
}
