//! Logs: structured, on standard error. JSON when `ALTFRAME_LOG_FORMAT=json`, readable text
//! otherwise, with colours only when standard error is a terminal (a log file or a collector
//! gets plain text). Level from `RUST_LOG` (default info, with sqlx's notices at warn).
use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("ALTFRAME_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.with_ansi(std::io::stderr().is_terminal()).init();
    }
}
