//! The HTTP server: plain or TLS (rustls), hyper's limits on what a client may send before a
//! request reaches the router, and a graceful stop. `altframe serve` is [`serve_command`].
use std::net::SocketAddr;
use std::time::Duration;

use super::settings::{Settings, TlsFiles};
use super::startup::{Application, Overrides, StartupError};

/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

type MakeService =
    axum::extract::connect_info::IntoMakeServiceWithConnectInfo<axum::Router, SocketAddr>;

/// `altframe serve`: builds the application, opens the default account on an empty store
/// (printing its key once), and serves until SIGTERM or Ctrl-C.
pub async fn serve_command(settings: Settings) -> Result<(), StartupError> {
    let plan = settings.default_plan;
    let application = Application::build(settings, Overrides::default()).await?;
    if let Some(key) = application.open_default_account().await? {
        println!(
            "First start: opened the default account {} ({} plan).\n\
             Its API key, shown this once (keep it secret):\n\n    {}\n",
            key.account_id, plan, key.key
        );
    }
    application.run_until_stopped(shutdown_signal()).await
}

/// Serves `router` on `listener` until `stop` completes, then stops accepting and gives open
/// connections `grace` to finish.
pub async fn serve(
    listener: std::net::TcpListener,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    router: axum::Router,
    grace: Duration,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = axum_server::Handle::new();
    tokio::spawn({
        let handle = handle.clone();
        async move {
            stop.await;
            handle.graceful_shutdown(Some(grace));
        }
    });
    let service: MakeService = router.into_make_service_with_connect_info::<SocketAddr>();
    match tls {
        Some(tls) => {
            let mut server = axum_server::from_tcp_rustls(listener, tls)?;
            tune_http(server.http_builder());
            server.handle(handle).serve(service).await
        }
        None => {
            let mut server = axum_server::from_tcp(listener)?;
            tune_http(server.http_builder());
            server.handle(handle).serve(service).await
        }
    }
}

pub async fn tls_config(
    files: &TlsFiles,
) -> std::io::Result<axum_server::tls_rustls::RustlsConfig> {
    // The one crypto provider compiled in; installing it twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    axum_server::tls_rustls::RustlsConfig::from_pem_file(&files.cert, &files.key).await
}

/// hyper's limits on what a client may send before a request reaches the router.
fn tune_http(builder: &mut hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>) {
    builder
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(crate::api::MAX_HEAD_BUFFER_BYTES)
        .max_headers(crate::api::MAX_HEADERS);
    builder
        .http2()
        .max_header_list_size(crate::api::MAX_HEADER_BYTES as u32);
}

/// SIGTERM (an orchestrator stopping the process) or Ctrl-C.
pub async fn shutdown_signal() {
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
    tracing::info!("shutting down");
}
