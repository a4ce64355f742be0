use clap::Parser;

/// jemalloc, giving freed pages back to the system at once in `serve` and `mcp` (the other
/// commands keep them a while: see `keep_freed_pages_a_while`), so a bulk batch's memory does
/// not stay behind for the next. Why, with measurements:
/// docs/decisions/0007-jemalloc-and-its-decay.md.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc reads its options from this symbol before `main`.
#[cfg(not(target_env = "msvc"))]
#[export_name = "_rjem_malloc_conf"]
pub static MALLOC_CONF: Option<&'static std::ffi::c_char> =
    // SAFETY: a C string literal is a valid, 'static, NUL-terminated array of c_char.
    Some(unsafe { &*c"dirty_decay_ms:0,muzzy_decay_ms:0".as_ptr() });

/// The other commands (not the servers, `serve` and `mcp`) are short and run in rounds that
/// free and reuse large buffers (a rebuild reads 5,000 events a round): jemalloc's usual ten
/// seconds spares them the `madvise` calls and page faults of giving pages back at once
/// (decision 0007).
#[cfg(not(target_env = "msvc"))]
fn keep_freed_pages_a_while() {
    const DECAY_MS: isize = 10_000;
    let set = |name: String| {
        let name = format!("{name}\0");
        // SAFETY: these settings are ssize_t, which is isize.
        unsafe { tikv_jemalloc_ctl::raw::write(name.as_bytes(), DECAY_MS) }
    };
    // Arenas made from now on take the default; those already made are changed one by one
    // (an index not in use yet answers an error, which leaves nothing to change).
    let _ = set("arenas.dirty_decay_ms".into());
    let _ = set("arenas.muzzy_decay_ms".into());
    let arenas = tikv_jemalloc_ctl::arenas::narenas::read().unwrap_or(0);
    for i in 0..arenas {
        let _ = set(format!("arena.{i}.dirty_decay_ms"));
        let _ = set(format!("arena.{i}.muzzy_decay_ms"));
    }
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = altframe::run::cli::Cli::parse();
    altframe::run::telemetry::init();
    #[cfg(not(target_env = "msvc"))]
    if !matches!(
        cli.command,
        altframe::run::cli::Command::Serve(_) | altframe::run::cli::Command::Mcp(_)
    ) {
        keep_freed_pages_a_while();
    }
    match altframe::run::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", altframe::usecases::error_chain(&e));
            std::process::ExitCode::FAILURE
        }
    }
}
