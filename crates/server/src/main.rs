use std::io::BufRead;
use std::process::ExitCode;

use portal_domain::accounts::Role;
use portal_domain::organisation::{NewOfficer, NewOrganisation};
use portal_server::catalogue::Catalogue;
use portal_server::config::Config;
use portal_server::db::Db;
use portal_server::organisations::{self, CreateError, OfficerError};

// glibc's malloc was a quarter of the server's CPU on opening day (perf): tokio moves tasks
// between threads, so memory is often freed on another thread than the one that took it,
// and those frees queue on the owning arena's lock. mimalloc keeps per-thread heaps.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "\
portal-server: the public services portal

usage:
  portal-server [serve]              run the portal (configured by PORTAL_* environment variables)
  portal-server check-services DIR   check the service definitions in DIR and exit
  portal-server precompress DIR      write .br/.gz copies of the built app's files in DIR
  portal-server create-organisation FILE.json
                                     add an organisation described by FILE.json (see README)
  portal-server create-officer --iin IIN --organisation ID --last-name NAME --first-name NAME
                               [--middle-name NAME] [--email ADDRESS]
  portal-server create-administrator --iin IIN --last-name NAME --first-name NAME
                               [--middle-name NAME] [--email ADDRESS]
                                     add an account; the first password is read from the
                                     PORTAL_NEW_PASSWORD variable or else the first line of
                                     standard input (never from the command line, which others
                                     on the machine can see)
  portal-server pki issue --iin IIN --last-name NAME --first-name NAME --out FILE.p12
                          [--purpose signing|authentication] [--not-before YYYY-MM-DD] [--days N]
                                     issue a key file from the portal's test CA (PORTAL_PKI_DIR);
                                     its password is read like a first password (above)
  portal-server pki revoke SERIAL|IIN
                                     revoke a certificate of the test CA, or all of an IIN's
  portal-server pki sign --key FILE.p12 --in FILE
                                     sign FILE with a key file: prints a detached CMS, base64;
                                     the key's password comes from PORTAL_KEY_PASSWORD or stdin
  portal-server pki verify --document FILE.json --signature FILE.cms
                                     verify a signed document downloaded from the portal, now
                                     (trust store and CRLs as the server's); prints the result
                                     as JSON; exits 0 only when the signature is valid

environment: PORTAL_ADDR, PORTAL_DATA_DIR, PORTAL_DATABASE_URL, PORTAL_DIST_DIR,
             PORTAL_SERVICES_DIR, PORTAL_DEMO, PORTAL_DEMO_DIR, PORTAL_PUBLIC_URL,
             PORTAL_SESSION_IDLE_MINUTES, PORTAL_TRUST_PROXY, PORTAL_REGISTRATIONS_PER_HOUR,
             PORTAL_LOG (filter), PORTAL_LOG_FORMAT (text|json)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] | ["serve"] => serve(),
        ["check-services", dir] => match Catalogue::load_dir(std::path::Path::new(dir)) {
            Ok(c) => {
                println!("{} service definitions are valid", c.services().len());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprint!("{e}");
                ExitCode::FAILURE
            }
        },
        ["precompress", dir] => {
            match portal_server::static_files::precompress(std::path::Path::new(dir)) {
                Ok(n) => {
                    println!("{n} compressed copies written");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("cannot precompress {dir}: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        ["create-organisation", file] => {
            with_database(|db| create_organisation(db, file.to_string()))
        }
        ["create-officer", rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            with_database(move |db| create_staff(db, rest, Role::Officer))
        }
        ["create-administrator", rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            with_database(move |db| create_staff(db, rest, Role::Administrator))
        }
        ["pki", "issue", rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            with_config_and_database(move |config, db| issue_key_file(config, db, rest))
        }
        ["pki", "sign", "--key", key, "--in", input] => sign_file(key, input),
        [
            "pki",
            "verify",
            "--document",
            document,
            "--signature",
            signature,
        ] => {
            let (document, signature) = (document.to_string(), signature.to_string());
            with_config_and_database(move |config, db| {
                verify_files(config, db, document, signature)
            })
        }
        ["pki", "revoke", what] => {
            let what = what.to_string();
            with_database(move |db| async move {
                match portal_server::signing::revoke(&db, &what).await {
                    Ok(0) => Err(format!(
                        "no unrevoked certificate with the serial or IIN {what}"
                    )),
                    Ok(n) => Ok(format!(
                        "{n} certificate(s) revoked; the next CRL lists them"
                    )),
                    Err(e) => Err(format!("{e:#}")),
                }
            })
        }
        ["-h" | "--help" | "help"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}

fn config() -> Result<Config, ExitCode> {
    Config::from_env().map_err(|e| {
        eprintln!("configuration error: {e}");
        ExitCode::from(2)
    })
}

fn serve() -> ExitCode {
    let config = match config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    init_tracing(config.log_json);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        // Room for deep request futures in debug builds; release builds use a fraction of it.
        .thread_stack_size(8 << 20)
        .build()
        .expect("a tokio runtime");
    match runtime.block_on(portal_server::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Opens (and migrates) the configured database for a one-off command.
fn with_database<F, Fut>(command: F) -> ExitCode
where
    F: FnOnce(Db) -> Fut,
    Fut: std::future::Future<Output = Result<String, String>>,
{
    with_config_and_database(move |_, db| command(db))
}

fn with_config_and_database<F, Fut>(command: F) -> ExitCode
where
    F: FnOnce(Config, Db) -> Fut,
    Fut: std::future::Future<Output = Result<String, String>>,
{
    let config = match config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    let for_command = config.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let result = runtime.block_on(async {
        let db = Db::connect(&config.database_url)
            .await
            .map_err(|e| format!("{e:#}"))?;
        db.migrate().await.map_err(|e| format!("{e:#}"))?;
        command(for_command, db).await
    });
    match result {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn problems(issues: &[portal_domain::validation::FieldIssue]) -> String {
    issues
        .iter()
        .map(|i| format!("  {}: {}", i.field, i.message(portal_i18n::Lang::En)))
        .collect::<Vec<_>>()
        .join("\n")
}

async fn create_organisation(db: Db, file: String) -> Result<String, String> {
    let text = std::fs::read_to_string(&file).map_err(|e| format!("cannot read {file}: {e}"))?;
    let new: NewOrganisation = serde_json::from_str(&text).map_err(|e| format!("{file}: {e}"))?;
    match organisations::create(&db, &new, false).await {
        Ok(org) => Ok(format!("organisation {} created", org.id)),
        Err(CreateError::Exists) => Err(format!("an organisation with the id {} exists", new.id)),
        Err(CreateError::Invalid(issues)) => {
            Err(format!("{file} is invalid:\n{}", problems(&issues)))
        }
        Err(CreateError::Other(e)) => Err(format!("{e:#}")),
    }
}

async fn create_staff(db: Db, args: Vec<String>, role: Role) -> Result<String, String> {
    let mut new = NewOfficer {
        iin: String::new(),
        last_name: String::new(),
        first_name: String::new(),
        middle_name: String::new(),
        email: String::new(),
        organisation_id: String::new(),
        password: String::new(),
    };
    let mut pairs = args.chunks(2);
    for pair in pairs.by_ref() {
        let [flag, value] = pair else {
            return Err(format!("`{}` needs a value\n\n{USAGE}", pair[0]));
        };
        let slot = match (flag.as_str(), role) {
            ("--iin", _) => &mut new.iin,
            ("--last-name", _) => &mut new.last_name,
            ("--first-name", _) => &mut new.first_name,
            ("--middle-name", _) => &mut new.middle_name,
            ("--email", _) => &mut new.email,
            ("--organisation", Role::Officer) => &mut new.organisation_id,
            _ => return Err(format!("unknown option `{flag}`\n\n{USAGE}")),
        };
        *slot = value.clone();
    }
    new.password = read_password("first password")?;
    match organisations::create_staff(&db, &new, role, false).await {
        Ok(id) => Ok(format!(
            "{} {} created ({} {})",
            role.code(),
            id,
            new.first_name,
            new.last_name
        )),
        Err(OfficerError::Exists) => Err("a person with this IIN already has an account".into()),
        Err(OfficerError::Invalid(issues)) => Err(format!("invalid:\n{}", problems(&issues))),
        Err(OfficerError::Other(e)) => Err(format!("{e:#}")),
    }
}

/// A password from `PORTAL_NEW_PASSWORD`, or else the first line of standard input.
fn read_password(what: &str) -> Result<String, String> {
    match std::env::var("PORTAL_NEW_PASSWORD") {
        Ok(p) if !p.is_empty() => Ok(p),
        _ => {
            eprintln!("{what} (one line):");
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| format!("cannot read the password: {e}"))?;
            Ok(line.trim_end_matches(['\r', '\n']).to_string())
        }
    }
}

async fn issue_key_file(config: Config, db: Db, args: Vec<String>) -> Result<String, String> {
    use portal_server::signing::pki::{KeyPurpose, Person, now_seconds};
    let (mut iin, mut last, mut first, mut out) =
        (String::new(), String::new(), String::new(), String::new());
    let (mut purpose, mut not_before, mut days) =
        (KeyPurpose::Signing, now_seconds() - 3600, 365u32);
    for pair in args.chunks(2) {
        let [flag, value] = pair else {
            return Err(format!("`{}` needs a value\n\n{USAGE}", pair[0]));
        };
        match flag.as_str() {
            "--iin" => iin = value.clone(),
            "--last-name" => last = value.clone(),
            "--first-name" => first = value.clone(),
            "--out" => out = value.clone(),
            "--purpose" => {
                purpose = match value.as_str() {
                    "signing" => KeyPurpose::Signing,
                    "authentication" => KeyPurpose::Authentication,
                    _ => {
                        return Err(format!(
                            "--purpose is signing or authentication, not `{value}`"
                        ));
                    }
                }
            }
            "--not-before" => {
                let date: portal_domain::date::Date = value
                    .parse()
                    .map_err(|_| format!("--not-before `{value}` is not a date YYYY-MM-DD"))?;
                not_before = i64::from(date.days_since_epoch()) * 86_400;
            }
            "--days" => {
                days = value
                    .parse()
                    .ok()
                    .filter(|d| (1..=10_000).contains(d))
                    .ok_or(format!("--days `{value}` is not 1 to 10000"))?
            }
            _ => return Err(format!("unknown option `{flag}`\n\n{USAGE}")),
        }
    }
    portal_domain::iin::Iin::parse(&iin).map_err(|e| format!("--iin: {e:?}"))?;
    if last.is_empty() || first.is_empty() || out.is_empty() {
        return Err(format!(
            "--last-name, --first-name and --out are required\n\n{USAGE}"
        ));
    }
    let password = read_password("the key file's password")?;
    if password.len() < 6 {
        return Err("the key file's password must be at least 6 characters".into());
    }
    let authority = portal_server::signing::portal_authority(&config, &db)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let crl_url = format!(
        "{}{}",
        config.public_url,
        portal_server::signing::pki::CRL_PATH
    );
    let person = Person {
        iin: &iin,
        last_name: &last,
        first_name: &first,
    };
    let issued = authority
        .issue(&person, purpose, not_before, days, &crl_url)
        .map_err(|e| format!("{e:#}"))?;
    let p12 = authority
        .pkcs12(&issued, &password)
        .map_err(|e| format!("{e:#}"))?;
    let summary = portal_domain::eds::summarize(
        &der::Encode::to_der(&issued.certificate).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    portal_server::signing::record_certificate(&db, &summary, None)
        .await
        .map_err(|e| format!("{e:#}"))?;
    std::fs::write(&out, p12).map_err(|e| format!("cannot write {out}: {e}"))?;
    Ok(format!(
        "{out}: {} certificate of {} (IIN {iin}), serial {}, CRL {crl_url}",
        match purpose {
            KeyPurpose::Signing => "signing",
            _ => "authentication",
        },
        summary.holder,
        summary.serial
    ))
}

fn sign_file(key: &str, input: &str) -> ExitCode {
    use base64::Engine;
    let signed = (|| -> Result<String, String> {
        let p12 = std::fs::read(key).map_err(|e| format!("cannot read {key}: {e}"))?;
        let data = std::fs::read(input).map_err(|e| format!("cannot read {input}: {e}"))?;
        let password = match std::env::var("PORTAL_KEY_PASSWORD") {
            Ok(p) => p,
            Err(_) => read_password("the key file's password")?,
        };
        let key = portal_domain::eds::KeyFile::open(&p12, &password)
            .map_err(|e| format!("{key}: {e:?}"))?;
        let cms = key
            .sign_detached(&data, portal_server::signing::pki::now_seconds())
            .map_err(|e| format!("cannot sign: {e}"))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(cms))
    })();
    match signed {
        Ok(b64) => {
            println!("{b64}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

async fn verify_files(
    config: Config,
    db: Db,
    document: String,
    signature: String,
) -> Result<String, String> {
    let bytes = std::fs::read(&document).map_err(|e| format!("cannot read {document}: {e}"))?;
    let cms = std::fs::read(&signature).map_err(|e| format!("cannot read {signature}: {e}"))?;
    // A .cms file saved as base64 text is accepted too.
    let cms = match <cms::content_info::ContentInfo as der::Decode>::from_der(&cms) {
        Ok(_) => cms,
        Err(_) => {
            use base64::Engine;
            let text = String::from_utf8_lossy(&cms)
                .split_whitespace()
                .collect::<String>();
            base64::engine::general_purpose::STANDARD
                .decode(text)
                .map_err(|_| format!("{signature} is not a CMS signature"))?
        }
    };
    let signing = portal_server::signing::Signing::load(&config, &db)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let checked = portal_server::signing::documents::verify_document(&signing, &bytes, &cms)
        .await
        .ok_or(format!("{document} is not a document signed on the portal"))?
        .into_check(portal_i18n::Lang::En);
    let json = serde_json::to_string_pretty(&checked).map_err(|e| e.to_string())?;
    if checked.outcome == portal_domain::application::SignatureOutcome::Valid {
        Ok(json)
    } else {
        Err(json)
    }
}

fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("PORTAL_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
