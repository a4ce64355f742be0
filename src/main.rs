use clap::Parser;
use tracing_subscriber::EnvFilter;

/// jemalloc, giving freed pages back to the system at once. With glibc's malloc, `serve` kept
/// 170 MB or more after a bulk batch of large images and grew with the next ones; with a decay
/// of a tenth of a second, the pages freed while a batch is staged add 20 MB to its peak. See
/// bench/bulk_memory.py.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc reads its options from this symbol before `main`.
#[cfg(not(target_env = "msvc"))]
#[export_name = "_rjem_malloc_conf"]
pub static MALLOC_CONF: Option<&'static std::ffi::c_char> =
    // SAFETY: a C string literal is a valid, 'static, NUL-terminated array of c_char.
    Some(unsafe { &*c"dirty_decay_ms:0,muzzy_decay_ms:0".as_ptr() });

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = altframe::cli::Cli::parse();
    init_tracing();
    match altframe::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Structured logs on stderr: JSON when ALTFRAME_LOG_FORMAT=json, readable text otherwise.
/// Level from RUST_LOG (default info, with sqlx's notices at warn).
fn init_tracing() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("ALTFRAME_LOG_FORMAT").as_deref() == Ok("json") {
        builder.json().init();
    } else {
        builder.init();
    }
}
