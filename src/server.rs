//! `altframe serve`: open the store, build the app, listen.
use std::sync::Arc;
use std::time::Duration;

use altframe_domain::plan::Plan;
use anyhow::Context;
use tokio::net::TcpListener;

use crate::app::App;
use crate::bulk_worker::{BulkWorker, WorkerConfig};
use crate::clock::{Clock, SystemClock};
use crate::config::{ServeConfig, VisionKind};
use crate::idempotency::IdempotencyStore;
use crate::image::Intake;
use crate::outbound::Outbound;
use crate::process_manager::ProcessManager;
use crate::projector::Projector;
use crate::rate_limit::RateLimiter;
use crate::reaper::Reaper;
use crate::service::accounts;
use crate::store::Store;
use crate::subscriber::{self, Subscriber};
use crate::vision::{BuiltinProvider, OpenAiProvider, VisionProvider};
use crate::webhooks::WebhookDispatcher;

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
    Ok(App {
        rate_limiter: Arc::new(RateLimiter::new(&store.db, config.rate_limits.clone())),
        idempotency: IdempotencyStore::new(store.db.clone(), config.idempotency_hold()),
        work_available: Arc::clone(&projector.applied),
        bulk_concurrency: config.bulk_concurrency,
        projector,
        process_manager: ProcessManager::new(Arc::clone(&store), Arc::clone(&clock)),
        store,
        intake: Arc::new(Intake::new(config.intake(), outbound)),
        vision,
        clock,
    })
}

pub async fn serve(config: ServeConfig, store: Store) -> anyhow::Result<()> {
    let store = Arc::new(store);
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
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
    let background = Background::start(&app, &config);

    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let address = listener.local_addr().unwrap_or(config.listen);
    tracing::info!(
        address = %address,
        model = app.vision.model(),
        "AltFrame is listening"
    );
    let router = crate::http::router(app, &config.http());
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    background.stop().await;
    Ok(())
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

    /// Stops the background tasks and hands the bulk items this process holds back to the
    /// queue, so another process (or the next start) takes them at once.
    pub async fn stop(self) {
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
