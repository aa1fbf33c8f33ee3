//! Configuration from the environment, with defaults that run the portal on one machine.

use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Config {
    /// `PORTAL_ADDR`, default `127.0.0.1:8080`.
    pub addr: SocketAddr,
    /// `PORTAL_DATA_DIR`, default `./data`: the SQLite database and stored files.
    pub data_dir: PathBuf,
    /// `PORTAL_DATABASE_URL`, default `sqlite://<data dir>/portal.db`; or
    /// `postgres://user:password@host:port/database` for PostgreSQL.
    pub database_url: String,
    /// `PORTAL_DIST_DIR`, default `./dist`: the built citizen app.
    pub dist_dir: PathBuf,
    /// `PORTAL_SERVICES_DIR`, default `./services`: the service definitions.
    pub services_dir: PathBuf,
    /// `PORTAL_DEMO` (`1`/`true`): seed the demo world and mark the UI as a demo.
    pub demo: bool,
    /// `PORTAL_DEMO_DIR`, default `./demo`: the demo world's data files.
    pub demo_dir: PathBuf,
    /// `PORTAL_LOG_FORMAT`: `text` (default) or `json`.
    pub log_json: bool,
    /// `PORTAL_PUBLIC_URL`: the address people use, e.g. `https://portal.example.kz`. When it is
    /// https, cookies are `Secure` and responses carry HSTS. Default: `http://<PORTAL_ADDR>`.
    pub public_url: String,
    /// `PORTAL_SESSION_IDLE_MINUTES` (default 20): a session ends after this long without requests.
    pub session_idle_minutes: u32,
    /// `PORTAL_TRUST_PROXY` (`1`/`0`, default 0): take the client address from `X-Forwarded-For`,
    /// as set by a reverse proxy in front of the server. Never enable without such a proxy.
    pub trust_proxy: bool,
    /// `PORTAL_REGISTRATIONS_PER_HOUR` (default 20): registrations allowed per client address per hour.
    pub registrations_per_hour: u32,
    /// `PORTAL_MAX_FILE_MB` (default 20): the largest attachment.
    pub max_file_bytes: u64,
    /// `PORTAL_MAX_APPLICATION_MB` (default 100): all attachments of one application together.
    pub max_application_bytes: u64,
    /// `PORTAL_CLAMD`: scan every upload with clamd at this address (`127.0.0.1:3310`) or Unix
    /// socket path (`/run/clamav/clamd.ctl`). Unset: no virus scanning.
    pub clamd: Option<String>,
    /// `PORTAL_CALENDAR_FILE`, default `./calendar/kz.json`: holidays and transfers of days off.
    pub calendar_file: PathBuf,
    /// First-grade applications are accepted from the first to the last day, every year.
    pub first_grade_window: (
        portal_domain::service::MonthDay,
        portal_domain::service::MonthDay,
    ),
    /// `PORTAL_PKI_DIR`: the portal's own test certification authority (created when missing).
    /// Default: `<demo dir>/pki` in demo mode (the committed demo CA), else `<data dir>/pki`.
    pub pki_dir: PathBuf,
    /// `PORTAL_TRUST_DIR`: the CA certificates signatures must chain to (DER or PEM files), e.g.
    /// the national CA's root and issuing certificates. Unset: the test CA of `PORTAL_PKI_DIR`.
    pub trust_dir: Option<PathBuf>,
    /// `PORTAL_CRL_URL`: fetch CRLs from this address instead of the certificates' own.
    pub crl_url: Option<String>,
    /// `PORTAL_SMTP` (`host:port` of an SMTP relay) and `PORTAL_SMTP_FROM` (the sender, default
    /// `noreply@portal.localhost`): e-mail notifications to those who chose them. Unset: none.
    pub smtp: Option<crate::notifications::email::Smtp>,
    /// `PORTAL_S3_BUCKET` (with `PORTAL_S3_ENDPOINT`, `PORTAL_S3_REGION`,
    /// `PORTAL_S3_ACCESS_KEY_ID`, `PORTAL_S3_SECRET_ACCESS_KEY`, or the standard `AWS_*`
    /// variables): keep attachments and case files in this S3-compatible bucket. Unset: in
    /// `<data dir>`.
    pub s3: Option<crate::blobs::S3>,
}

impl Config {
    pub fn tls(&self) -> bool {
        self.public_url.starts_with("https://")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl Config {
    pub fn from_env() -> Result<Config, ConfigError> {
        Config::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// Reads the settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        let addr = match lookup("PORTAL_ADDR") {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(v) => v.parse().map_err(|_| ConfigError {
                variable: "PORTAL_ADDR",
                problem: format!("`{v}` is not an address and port such as 127.0.0.1:8080"),
            })?,
        };
        let data_dir = PathBuf::from(lookup("PORTAL_DATA_DIR").unwrap_or_else(|| "data".into()));
        let database_url = lookup("PORTAL_DATABASE_URL")
            .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("portal.db").display()));
        if !["sqlite:", "postgres:", "postgresql:"]
            .iter()
            .any(|scheme| database_url.starts_with(scheme))
        {
            return Err(ConfigError {
                variable: "PORTAL_DATABASE_URL",
                problem: format!(
                    "`{}…` is neither a sqlite: nor a postgres: URL",
                    prefix(&database_url)
                ),
            });
        }
        let flag = |name: &'static str| -> Result<bool, ConfigError> {
            match lookup(name)
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                None | Some("0") | Some("false") | Some("no") | Some("off") => Ok(false),
                Some("1") | Some("true") | Some("yes") | Some("on") => Ok(true),
                Some(other) => Err(ConfigError {
                    variable: name,
                    problem: format!("`{other}` is not 1 or 0"),
                }),
            }
        };
        let log_json = match lookup("PORTAL_LOG_FORMAT").as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => {
                return Err(ConfigError {
                    variable: "PORTAL_LOG_FORMAT",
                    problem: format!("`{other}` is not text or json"),
                });
            }
        };
        let number =
            |name: &'static str, default: u32, min: u32, max: u32| -> Result<u32, ConfigError> {
                match lookup(name) {
                    None => Ok(default),
                    Some(v) => v
                        .parse::<u32>()
                        .ok()
                        .filter(|n| (min..=max).contains(n))
                        .ok_or(ConfigError {
                            variable: name,
                            problem: format!("`{v}` is not a whole number from {min} to {max}"),
                        }),
                }
            };
        let public_url = lookup("PORTAL_PUBLIC_URL").unwrap_or_else(|| format!("http://{addr}"));
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) {
            return Err(ConfigError {
                variable: "PORTAL_PUBLIC_URL",
                problem: format!("`{public_url}` does not start with http:// or https://"),
            });
        }
        // Current national practice; the demo keeps it open all year so it can be tried.
        let window_default = if flag("PORTAL_DEMO")? {
            "01-01..12-31"
        } else {
            "04-01..08-31"
        };
        let window_text =
            lookup("PORTAL_FIRST_GRADE_WINDOW").unwrap_or_else(|| window_default.into());
        let first_grade_window = window_text
            .split_once("..")
            .and_then(|(a, b)| {
                let days = (
                    portal_domain::service::MonthDay::parse(a.trim())?,
                    portal_domain::service::MonthDay::parse(b.trim())?,
                );
                // Checked on a year without 29 February: the window must exist every year.
                portal_domain::first_grade::Window::for_year(2027, days.0, days.1).map(|_| days)
            })
            .ok_or(ConfigError {
                variable: "PORTAL_FIRST_GRADE_WINDOW",
                problem: format!(
                    "`{window_text}` is not a first and last day such as 04-01..08-31"
                ),
            })?;
        Ok(Config {
            first_grade_window,
            public_url: public_url.trim_end_matches('/').to_string(),
            session_idle_minutes: number("PORTAL_SESSION_IDLE_MINUTES", 20, 1, 24 * 60)?,
            trust_proxy: flag("PORTAL_TRUST_PROXY")?,
            registrations_per_hour: number("PORTAL_REGISTRATIONS_PER_HOUR", 20, 1, 1_000_000)?,
            max_file_bytes: u64::from(number("PORTAL_MAX_FILE_MB", 20, 1, 1024)?) << 20,
            max_application_bytes: u64::from(number(
                "PORTAL_MAX_APPLICATION_MB",
                100,
                1,
                10 * 1024,
            )?) << 20,
            clamd: lookup("PORTAL_CLAMD"),
            calendar_file: PathBuf::from(
                lookup("PORTAL_CALENDAR_FILE").unwrap_or_else(|| "calendar/kz.json".into()),
            ),
            addr,
            database_url,
            dist_dir: PathBuf::from(lookup("PORTAL_DIST_DIR").unwrap_or_else(|| "dist".into())),
            services_dir: PathBuf::from(
                lookup("PORTAL_SERVICES_DIR").unwrap_or_else(|| "services".into()),
            ),
            pki_dir: PathBuf::from(lookup("PORTAL_PKI_DIR").unwrap_or_else(|| {
                if flag("PORTAL_DEMO").unwrap_or(false) {
                    PathBuf::from(lookup("PORTAL_DEMO_DIR").unwrap_or_else(|| "demo".into()))
                        .join("pki")
                        .display()
                        .to_string()
                } else {
                    data_dir.join("pki").display().to_string()
                }
            })),
            trust_dir: lookup("PORTAL_TRUST_DIR").map(PathBuf::from),
            crl_url: lookup("PORTAL_CRL_URL"),
            smtp: lookup("PORTAL_SMTP").map(|relay| crate::notifications::email::Smtp {
                relay,
                from: lookup("PORTAL_SMTP_FROM")
                    .unwrap_or_else(|| "noreply@portal.localhost".into()),
            }),
            s3: lookup("PORTAL_S3_BUCKET").map(|bucket| crate::blobs::S3 {
                bucket,
                endpoint: lookup("PORTAL_S3_ENDPOINT"),
                region: lookup("PORTAL_S3_REGION"),
                access_key_id: lookup("PORTAL_S3_ACCESS_KEY_ID"),
                secret_access_key: lookup("PORTAL_S3_SECRET_ACCESS_KEY"),
            }),
            demo: flag("PORTAL_DEMO")?,
            demo_dir: PathBuf::from(lookup("PORTAL_DEMO_DIR").unwrap_or_else(|| "demo".into())),
            log_json,
            data_dir,
        })
    }
}

/// The start of a URL without credentials, for error messages.
fn prefix(url: &str) -> &str {
    url.split(['@', '/']).next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    #[test]
    fn defaults_run_on_one_machine() {
        let c = with(&[]).unwrap();
        assert_eq!(c.addr.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url, "sqlite://data/portal.db");
        assert!(!c.demo);
    }

    #[test]
    fn the_database_follows_the_data_dir() {
        let c = with(&[("PORTAL_DATA_DIR", "/srv/portal")]).unwrap();
        assert_eq!(c.database_url, "sqlite:///srv/portal/portal.db");
        let url = "postgres://portal:secret@db:5432/portal";
        let c = with(&[("PORTAL_DATABASE_URL", url)]).unwrap();
        assert_eq!(c.database_url, url);
    }

    #[test]
    fn https_public_urls_mean_tls() {
        assert!(!with(&[]).unwrap().tls());
        let c = with(&[("PORTAL_PUBLIC_URL", "https://portal.example.kz/")]).unwrap();
        assert!(c.tls());
        assert_eq!(c.public_url, "https://portal.example.kz");
        assert_eq!(
            with(&[("PORTAL_SESSION_IDLE_MINUTES", "0")])
                .unwrap_err()
                .variable,
            "PORTAL_SESSION_IDLE_MINUTES"
        );
    }

    #[test]
    fn bad_values_name_their_variable() {
        let e = with(&[("PORTAL_ADDR", "localhost")]).unwrap_err();
        assert_eq!(e.variable, "PORTAL_ADDR");
        let e = with(&[("PORTAL_DEMO", "maybe")]).unwrap_err();
        assert_eq!(e.variable, "PORTAL_DEMO");
        let e = with(&[("PORTAL_DATABASE_URL", "mysql://user:secret@db/portal")]).unwrap_err();
        assert!(!e.to_string().contains("secret"), "{e}");
    }
}
