use std::process::ExitCode;

use portal_server::catalogue::Catalogue;
use portal_server::config::Config;

const USAGE: &str = "\
portal-server: the public services portal

usage:
  portal-server [serve]              run the portal (configured by PORTAL_* environment variables)
  portal-server check-services DIR   check the service definitions in DIR and exit
  portal-server precompress DIR      write .br/.gz copies of the built app's files in DIR

environment: PORTAL_ADDR, PORTAL_DATA_DIR, PORTAL_DATABASE_URL, PORTAL_DIST_DIR,
             PORTAL_SERVICES_DIR, PORTAL_DEMO, PORTAL_LOG (filter), PORTAL_LOG_FORMAT (text|json)";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
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
        ["precompress", dir] => match portal_server::static_files::precompress(std::path::Path::new(dir)) {
            Ok(n) => {
                println!("{n} compressed copies written");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("cannot precompress {dir}: {e}");
                ExitCode::FAILURE
            }
        },
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

fn serve() -> ExitCode {
    let config = match Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    init_tracing(config.log_json);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    match runtime.block_on(portal_server::serve(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(json: bool) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("PORTAL_LOG").unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
