//! `altframe serve`: open the store, build the app, listen.
use std::sync::Arc;
use std::time::Duration;

use altframe_domain::plan::Plan;
use anyhow::Context;

use crate::adapters::clock::{Clock, SystemClock};
use crate::adapters::idempotency::IdempotencyStore;
use crate::adapters::image::Intake;
use crate::adapters::metrics::Metrics;
use crate::adapters::outbound::Outbound;
use crate::adapters::rate_limits::RateLimiter;
use crate::adapters::read_models::Projector;
use crate::adapters::store::Store;
use crate::adapters::subscriber::{self, Subscriber};
use crate::adapters::vision::{BuiltinProvider, MeteredVision, OpenAiProvider, VisionProvider};
use crate::run::settings::{ServeConfig, VisionKind};
use crate::run::tasks::bulk_worker::{BulkWorker, WorkerConfig};
use crate::run::tasks::process_manager::ProcessManager;
use crate::run::tasks::reaper::Reaper;
use crate::run::tasks::webhooks::WebhookDispatcher;
use crate::usecases::accounts;
use crate::usecases::app::App;

/// How long a client may take to send a request's headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long stopping waits for the process manager to see this process's last events.
const SETTLE_PATIENCE: Duration = Duration::from_secs(5);

/// How often the projector looks for events committed by other processes.
const PROJECTION_POLL: Duration = Duration::from_secs(1);

/// Builds the shared state from configuration. Tests call this with their own clock.
pub fn build_app(
    config: &ServeConfig,
    store: Arc<Store>,
    clock: Arc<dyn Clock>,
) -> anyhow::Result<App> {
    let outbound = Outbound::new(config.outbound()).context("building the HTTP client")?;
    let vision: Arc<dyn VisionProvider> = match config.vision_kind() {
        VisionKind::Builtin => Arc::new(BuiltinProvider),
        VisionKind::Openai => {
            let openai = config.openai().map_err(anyhow::Error::msg)?;
            Arc::new(OpenAiProvider::new(openai).context("building the model client")?)
        }
    };
    let projector = Projector::new(store.db.clone());
    let metrics = Arc::new(Metrics::new());
    Ok(App {
        vision: MeteredVision::wrap(vision, Arc::clone(&metrics)),
        metrics,
        rate_limiter: Arc::new(RateLimiter::new(&store.db, config.rate_limits.clone())),
        idempotency: IdempotencyStore::new(store.db.clone(), config.idempotency_hold()),
        work_available: Arc::clone(&projector.applied),
        bulk_concurrency: config.bulk_concurrency,
        process_manager: ProcessManager::new(
            Arc::clone(&store),
            Arc::clone(&clock),
            Arc::clone(&projector),
        ),
        projector,
        store,
        intake: Arc::new(Intake::new(config.intake(), outbound)),
        clock,
    })
}

pub async fn serve(config: ServeConfig, store: Store) -> anyhow::Result<()> {
    let store = Arc::new(store);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    // Configuration first: a mistake in it must not leave a half-started store behind.
    let http = config.http().map_err(anyhow::Error::msg)?;
    let plan = Plan::parse(&config.default_plan).with_context(|| {
        format!(
            "ALTFRAME_DEFAULT_PLAN: unknown plan {}",
            config.default_plan
        )
    })?;
    if let Some(key) = accounts::bootstrap(&store, clock.as_ref(), plan).await? {
        println!(
            "First start: opened the default account {} ({} plan).\n\
             Its API key, shown this once (keep it secret):\n\n    {}\n",
            key.account_id, plan, key.key
        );
    }
    let app = build_app(&config, store, clock)?;
    app.projector
        .catch_up()
        .await
        .context("bringing read models up to date")?;
    let tls = match (&config.tls_cert, &config.tls_key) {
        (Some(cert), Some(key)) => Some(
            tls_config(cert, key)
                .await
                .with_context(|| format!("reading the TLS certificate {}", cert.display()))?,
        ),
        _ => None,
    };
    let router = crate::api::router(app.clone(), &http)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let listener = std::net::TcpListener::bind(config.listen)
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    listener.set_nonblocking(true)?;
    let address = listener.local_addr().unwrap_or(config.listen);

    let background = Background::start(&app, &config);
    let handle = axum_server::Handle::new();
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    let stop = Arc::new(tokio::sync::watch::Sender::new(false));
    tokio::spawn({
        let (handle, stop) = (handle.clone(), Arc::clone(&stop));
        async move {
            shutdown_signal().await;
            // Stop accepting; connections get `grace` to finish what they are doing.
            handle.graceful_shutdown(Some(grace));
            stop.send_replace(true);
        }
    });
    tracing::info!(
        address = %address,
        tls = tls.is_some(),
        model = app.vision.model(),
        "AltFrame is listening"
    );
    let mut stopped = stop.subscribe();
    let serve_http = async {
        let served = serve_connections(listener, tls, handle, router).await;
        // However the server ended, the background work ends with it.
        stop.send_replace(true);
        served
    };
    let drain_background = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
        background.stop(grace).await;
    };
    let (served, ()) = tokio::join!(serve_http, drain_background);
    served?;
    tracing::info!("stopped");
    Ok(())
}

type MakeService =
    axum::extract::connect_info::IntoMakeServiceWithConnectInfo<axum::Router, std::net::SocketAddr>;

/// Serves HTTP, or HTTPS when given a TLS configuration, until `handle` says stop.
async fn serve_connections(
    listener: std::net::TcpListener,
    tls: Option<axum_server::tls_rustls::RustlsConfig>,
    handle: axum_server::Handle<std::net::SocketAddr>,
    router: MakeService,
) -> std::io::Result<()> {
    match tls {
        Some(tls) => {
            let mut server = axum_server::from_tcp_rustls(listener, tls)?;
            tune_http(server.http_builder());
            server.handle(handle).serve(router).await
        }
        None => {
            let mut server = axum_server::from_tcp(listener)?;
            tune_http(server.http_builder());
            server.handle(handle).serve(router).await
        }
    }
}

async fn tls_config(
    cert: &std::path::Path,
    key: &std::path::Path,
) -> std::io::Result<axum_server::tls_rustls::RustlsConfig> {
    // The one crypto provider compiled in; installing it twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    axum_server::tls_rustls::RustlsConfig::from_pem_file(cert, key).await
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

/// The process's background work: read models, the process manager, bulk workers, webhook
/// delivery and the reservation timeout.
pub struct Background {
    app: App,
    worker: Arc<BulkWorker>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Background {
    pub fn start(app: &App, config: &ServeConfig) -> Background {
        let worker = BulkWorker::new(
            app.clone(),
            WorkerConfig {
                concurrency: config.bulk_concurrency,
                lease: Duration::from_secs(config.bulk_lease_secs.max(3)),
                max_attempts: config.bulk_max_attempts,
                poll: PROJECTION_POLL,
            },
        );
        let tasks = vec![
            subscriber::spawn(Arc::clone(&app.projector), PROJECTION_POLL),
            subscriber::spawn(Arc::clone(&app.process_manager), PROJECTION_POLL),
            worker.spawn(),
            WebhookDispatcher::new(app.clone(), PROJECTION_POLL).spawn(),
            Reaper::new(
                app.clone(),
                Duration::from_secs(config.reservation_timeout_secs),
            )
            .spawn(Duration::from_secs(60)),
        ];
        Background {
            app: app.clone(),
            worker,
            tasks,
        }
    }

    /// Lets running bulk items finish (at most `grace`), settles what they produced, stops the
    /// background tasks and hands the bulk items still held back to the queue, so another
    /// process (or the next start) takes them at once.
    pub async fn stop(self, grace: Duration) {
        if !self.worker.drain(grace).await {
            tracing::warn!("bulk items still running at the end of the grace period");
        }
        // Settle credits and finish batches for the items that just completed, now rather
        // than at the next start.
        let settle = async {
            self.app
                .process_manager
                .catch_up_fully(SETTLE_PATIENCE)
                .await
                .map_err(|e| e.to_string())?;
            self.app
                .projector
                .catch_up_fully(SETTLE_PATIENCE)
                .await
                .map_err(|e| e.to_string())
        };
        match tokio::time::timeout(3 * SETTLE_PATIENCE, settle).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "could not settle before stopping"),
            Err(_) => tracing::warn!("settling before stopping took too long"),
        }
        for task in &self.tasks {
            task.abort();
        }
        match self.worker.release_leases(&self.app).await {
            Ok(n) if n > 0 => tracing::info!(items = n, "handed bulk items back to the queue"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "could not hand bulk items back"),
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
    tracing::info!("shutting down");
}
