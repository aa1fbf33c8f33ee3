//! Assembles the application: state, API routes, the built app, and the layers around them.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::routing::any;
use axum::{Extension, Router, middleware};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::{CompressionLayer, CompressionLevel};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use portal_domain::calendar::CalendarFile;

use crate::calendar::CalendarStore;
use crate::catalogue::{self, Catalogue};
use crate::config::Config;
use crate::db::Db;
use crate::error::{api_not_found, render_errors};
use crate::security::{self, SecurityHeaders};
use crate::static_files::{self, StaticFiles};
use crate::{
    accounts, applications, attachments, calendar, demo, first_grade, health, notifications,
    openapi, organisations, population, signing, workflow,
};

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    /// Attachments and case files: a local directory or an S3-compatible bucket.
    pub blobs: crate::blobs::Blobs,
    pub catalogue: Arc<Catalogue>,
    pub config: Arc<Config>,
    pub calendar: Arc<CalendarStore>,
    pub signing: Arc<signing::Signing>,
    pub live: Arc<notifications::live::Live>,
    /// The population register, when one is connected (the demo one in demo mode).
    pub population: Option<Arc<dyn population::PopulationRegister>>,
    /// Rows every request reads and an administrator rarely changes.
    pub recent: Arc<Caches>,
}

/// How long a cached row may be older than the database: a change made through another
/// instance shows within it.
pub const CACHED_FOR: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Debug)]
pub struct Caches {
    pub organisations:
        crate::cache::Recent<String, Option<portal_domain::organisation::Organisation>>,
    /// The stored first-grade rules of a school year (opens, closes, youngest, oldest).
    pub first_grade_rules: crate::cache::Recent<i32, Option<(i64, i64, i64, i64)>>,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            organisations: crate::cache::Recent::new(CACHED_FOR),
            first_grade_rules: crate::cache::Recent::new(CACHED_FOR),
        }
    }
}

/// Every documented API route. Feature modules add theirs here.
pub fn api_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .merge(health::routes())
        .merge(openapi::routes())
        .merge(catalogue::routes())
        .merge(accounts::routes())
        .merge(organisations::routes())
        .merge(notifications::routes())
        .merge(applications::routes())
        .merge(attachments::routes())
        .merge(signing::routes())
        .merge(workflow::routes())
        .merge(calendar::routes())
        .merge(first_grade::routes())
        .merge(population::routes())
}

pub fn router(state: AppState) -> Router {
    let (api, document) = api_routes().split_for_parts();
    let api = api
        .route("/api", any(api_not_found))
        .route("/api/{*rest}", any(api_not_found))
        .layer(Extension(Arc::new(document)))
        .layer(middleware::from_fn(security::same_origin_only))
        .layer(middleware::from_fn(accounts::auth::expose_session_expiry))
        .layer(middleware::from_fn(render_errors))
        // JSON is small and dynamic: compress fast. Static files come precompressed.
        .layer(CompressionLayer::new().quality(CompressionLevel::Fastest))
        .with_state(state.clone());
    let files = StaticFiles::new(state.config.dist_dir.clone());
    let dist = &state.config.dist_dir;
    let headers = Arc::new(SecurityHeaders::new(
        &[
            &dist.join("index.html"),
            &dist.join("workspace").join("index.html"),
        ],
        state.config.tls(),
    ));
    Router::new()
        .merge(api)
        .merge(signing::published(state.clone()))
        .fallback_service(axum::handler::Handler::with_state(
            static_files::serve,
            files,
        ))
        .layer(middleware::from_fn_with_state(
            headers,
            security::add_headers,
        ))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(CatchPanicLayer::new())
        .layer(TraceLayer::new_for_http())
}

/// Loads the definitions, opens and migrates the database: everything but the socket.
pub async fn build_state(config: Config) -> anyhow::Result<AppState> {
    let catalogue =
        Catalogue::load_dir(&config.services_dir).map_err(|e| anyhow::anyhow!("{e}"))?;
    let calendar = std::fs::read_to_string(&config.calendar_file)
        .map_err(|e| {
            anyhow::anyhow!(
                "{}: {e} (PORTAL_CALENDAR_FILE)",
                config.calendar_file.display()
            )
        })
        .and_then(|json| {
            serde_json::from_str::<CalendarFile>(&json)
                .map_err(|e| anyhow::anyhow!("{}: {e}", config.calendar_file.display()))
        })
        .and_then(|file| {
            CalendarStore::new(file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", config.calendar_file.display()))
        })?;
    let db = Db::connect(&config.database_url).await?;
    db.migrate().await?;
    // The engine only: the URL may carry a password.
    tracing::info!(engine = db.engine(), "database ready");
    calendar.load_edits(&db).await?;
    catalogue::record_versions(&db, &catalogue)
        .await
        .context("recording the service definitions")?;
    tracing::info!(
        services = catalogue.services().len(),
        "service definitions loaded"
    );
    if config.demo {
        let seeded = demo::seed(&db, &config.demo_dir)
            .await
            .context("seeding the demo world")?;
        tracing::info!(
            organisations = seeded.organisations,
            people = seeded.people,
            "demo world seeded"
        );
    }
    let signing = signing::Signing::load(&config, &db)
        .await
        .context("the signature set-up (PORTAL_PKI_DIR, PORTAL_TRUST_DIR)")?;
    if config.demo {
        let keys = demo::seed_keys(&db, &config.demo_dir)
            .await
            .context("recording the demo key files")?;
        tracing::info!(keys, "demo key files recorded");
    }
    let population: Option<Arc<dyn population::PopulationRegister>> = if config.demo {
        let path = config.demo_dir.join("population.json");
        let today = portal_domain::calendar::local_day_and_minute(crate::db::now_millis()).0;
        let register = population::DemoRegister::load(&path, today)
            .with_context(|| format!("loading the demo population register {}", path.display()))?;
        Some(Arc::new(register))
    } else {
        None
    };
    let live = Arc::new(notifications::live::Live::new(&db));
    let blobs = crate::blobs::Blobs::open(&config.data_dir, config.s3.as_ref())?;
    tracing::info!(kind = blobs.kind(), "file storage ready");
    Ok(AppState {
        blobs,
        population,
        db,
        catalogue: Arc::new(catalogue),
        config: Arc::new(config),
        calendar: Arc::new(calendar),
        signing: Arc::new(signing),
        live,
        recent: Arc::default(),
    })
}

/// Runs the portal until SIGINT or SIGTERM, then finishes the requests in flight.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let state = build_state(config.clone()).await?;
    let dist = config.dist_dir.clone();
    tokio::task::spawn_blocking(move || match static_files::precompress(&dist) {
        Ok(0) => {}
        Ok(n) => tracing::info!(files = n, dir = %dist.display(), "precompressed the app's files"),
        Err(e) => {
            tracing::warn!(error = %e, dir = %dist.display(), "cannot precompress the app's files")
        }
    });
    if !config.dist_dir.join("index.html").exists() {
        tracing::warn!(dir = %config.dist_dir.display(), "no built app here; only the API will answer");
    }
    tokio::spawn(housekeeping(state.db.clone()));
    tokio::spawn(workflow::storage::run(state.clone()));
    tokio::spawn(signing::recheck::run(state.clone()));
    tokio::spawn(first_grade::run(state.clone()));
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .with_context(|| format!("cannot listen on {} (PORTAL_ADDR)", config.addr))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening");
    // The CRL of the portal's own CA is fetched from the portal itself, at whatever address it got.
    state
        .signing
        .publish_own_crl(&format!("http://{addr}{}", signing::pki::CRL_PATH));
    // The lines meant for people (the end-to-end tests read the address from the first).
    println!("Portal running at http://{addr}/");
    if config.demo {
        print_demo_signins(&config);
    }
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("serving")?;
    tracing::info!("stopped");
    Ok(())
}

fn print_demo_signins(config: &Config) {
    match demo::read_identities(&config.demo_dir) {
        Ok(people) => {
            println!("Demo mode. Sign in as (IIN / password):");
            for p in people {
                println!(
                    "  {:<13} {}  {:<22} {} {}",
                    p.role.code(),
                    p.iin,
                    p.password,
                    p.first_name,
                    p.last_name
                );
            }
        }
        Err(e) => println!("Demo mode, but the demo identities cannot be read: {e:#}"),
    }
}

/// Forgets ended sessions and old rate-limit events, hourly.
async fn housekeeping(db: Db) {
    let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
    loop {
        every_hour.tick().await;
        let pruning = async {
            Ok((
                accounts::sessions::prune(&db).await?,
                accounts::throttle::prune(&db).await?,
            ))
        };
        match db.exclusively("housekeeping", pruning).await {
            Ok(Some((sessions, events))) => tracing::debug!(sessions, events, "housekeeping"),
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "housekeeping failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
