//! Start-up: the one function that builds the whole application from [`Settings`], used by
//! `serve` and by the test harness alike (tests pass [`Overrides`], such as a manual clock).
//!
//! [`Services::open`] builds what the command line's commands need (the store and the use
//! cases); [`Application::build`] adds the HTTP server's socket and router, and
//! [`Application::run_until_stopped`] serves until told to stop, with every background task
//! running under one [`Runner`] ([`Services::start_tasks`], which `altframe mcp` runs beside
//! its session too).
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::sync::Notify;

use super::server;
use super::settings::{Settings, SettingsError, VisionSettings};
use super::tasks::billing::BillingPeriods;
use super::tasks::bulk_worker::BulkWorker;
use super::tasks::process_manager::ProcessManager;
use super::tasks::read_models::ReadModels;
use super::tasks::reaper::Reaper;
use super::tasks::sweeper::Sweeper;
use super::tasks::webhooks::WebhookSender;
use super::tasks::{Runner, Task};
use crate::adapters::clock::{Clock, SystemClock};
use crate::adapters::idempotency::IdempotencyStore;
use crate::adapters::image::Intake;
use crate::adapters::metrics::Metrics;
use crate::adapters::outbound::Outbound;
use crate::adapters::page::Pages;
use crate::adapters::queue::Queue;
use crate::adapters::rate_limits::RateLimiter;
use crate::adapters::read_models::Projector;
use crate::adapters::store::{Store, StoreError};
use crate::adapters::subscriber::Subscriber;
use crate::adapters::vision::{BuiltinProvider, MeteredVision, OpenAiProvider, VisionProvider};
use crate::api::{self, ApiState};
use crate::usecases::accounts::{self, AccountsError};
use crate::usecases::keys::IssuedKey;
use crate::usecases::{App, AppParts};

/// What a test (or an embedding) puts in place of what settings would build.
#[derive(Default, Clone)]
pub struct Overrides {
    /// The time; a manual clock lets a test cross a billing period without sleeping.
    pub clock: Option<Arc<dyn Clock>>,
    /// A vision provider built elsewhere (a fake, say).
    pub vision: Option<Arc<dyn VisionProvider>>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("opening the store")]
    Store(#[from] StoreError),
    #[error("building the HTTP client")]
    Outbound(#[source] reqwest::Error),
    #[error("building the model client")]
    Model(#[source] reqwest::Error),
    #[error("cannot listen on {address}")]
    Listen {
        address: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("reading the TLS certificate {path}")]
    Tls {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("bringing read models up to date")]
    CatchUp(#[source] altframe_projections::ProjectionError),
    #[error("opening the default account")]
    DefaultAccount(#[source] AccountsError),
    #[error("serving HTTP")]
    Serve(#[source] std::io::Error),
}

/// The store, the adapters and the use cases, wired together; no socket, no background task.
#[derive(Clone)]
pub struct Services {
    pub app: App,
    pub store: Arc<Store>,
    pub queue: Queue,
    pub projector: Arc<Projector>,
    pub clock: Arc<dyn Clock>,
    pub metrics: Arc<Metrics>,
    /// Reacts to job outcomes; run as a background task by `serve`.
    pub process_manager: Arc<ProcessManager>,
    /// The request edge's records, shared by every `serve` process through the database.
    pub rate_limiter: Arc<RateLimiter>,
    pub idempotency: IdempotencyStore,
}

impl Services {
    pub async fn open(settings: &Settings, overrides: Overrides) -> Result<Services, StartupError> {
        settings.validate()?;
        let store = Arc::new(Store::open(&settings.database).await?);
        let clock = overrides.clock.unwrap_or_else(|| Arc::new(SystemClock));
        let outbound = Outbound::new(settings.outbound.clone()).map_err(StartupError::Outbound)?;
        let vision: Arc<dyn VisionProvider> = match (overrides.vision, &settings.vision) {
            (Some(vision), _) => vision,
            (None, VisionSettings::Builtin) => Arc::new(BuiltinProvider),
            (None, VisionSettings::OpenAi(config)) => {
                Arc::new(OpenAiProvider::new(config.clone()).map_err(StartupError::Model)?)
            }
        };
        let metrics = Arc::new(Metrics::new());
        let projector = Projector::new(store.db.clone());
        let queue = Queue::new(store.db.clone());
        let outcomes = Arc::new(Notify::new());
        let app = App::new(AppParts {
            store: Arc::clone(&store),
            read_models: Arc::clone(&projector),
            queue: queue.clone(),
            pages: Arc::new(Pages::new(settings.pages.clone(), outbound.clone())),
            intake: Arc::new(Intake::new(settings.intake.clone(), outbound)),
            vision: MeteredVision::wrap(vision, Arc::clone(&metrics)),
            clock: Arc::clone(&clock),
            wake_process_manager: Arc::clone(&outcomes),
            bulk_concurrency: settings.tasks.bulk.concurrency,
            cache_days: settings.cache_days,
        });
        let process_manager = Arc::new(ProcessManager::new(
            app.clone(),
            store.db.clone(),
            Arc::clone(&projector),
            outcomes,
            settings.tasks.projection_poll,
        ));
        Ok(Services {
            rate_limiter: Arc::new(RateLimiter::new(&store.db, settings.rate_limits.clone())),
            idempotency: IdempotencyStore::new(store.db.clone(), settings.idempotency_hold()),
            app,
            store,
            queue,
            projector,
            clock,
            metrics,
            process_manager,
        })
    }

    /// Brings the read models up to date and starts every background task: what `serve` runs
    /// beside its server, and `altframe mcp` beside its session (one process on SQLite must
    /// do all the work, or a batch would never finish). Stop them with [`Runner::stop`].
    pub async fn start_tasks(&self, settings: &Settings) -> Result<Runner, StartupError> {
        self.projector
            .catch_up()
            .await
            .map_err(StartupError::CatchUp)?;
        Ok(Runner::start(self.tasks(settings)))
    }

    /// The part of the `serve` state the API's handlers and the MCP server use.
    pub fn api_state(&self) -> ApiState {
        ApiState {
            app: self.app.clone(),
            rate_limiter: Arc::clone(&self.rate_limiter),
            idempotency: self.idempotency.clone(),
            metrics: Arc::clone(&self.metrics),
        }
    }

    /// Every background task, in the order they start (they stop in the reverse order).
    fn tasks(&self, settings: &Settings) -> Vec<Arc<dyn Task>> {
        let tasks = &settings.tasks;
        let queued = self.projector.queues_changed();
        vec![
            Arc::new(ReadModels::new(
                Arc::clone(&self.projector),
                tasks.projection_poll,
            )),
            Arc::clone(&self.process_manager) as Arc<dyn Task>,
            Arc::new(BulkWorker::new(
                self.app.clone(),
                self.queue.clone(),
                Arc::clone(&self.clock),
                tasks.bulk.clone(),
                Arc::clone(&queued),
            )),
            Arc::new(WebhookSender::new(
                self.app.clone(),
                self.queue.clone(),
                tasks.webhooks.clone(),
                queued,
            )),
            Arc::new(Reaper::new(
                self.app.clone(),
                tasks.reservation_timeout,
                tasks.maintenance_every,
            )),
            Arc::new(BillingPeriods::new(
                self.app.clone(),
                tasks.maintenance_every,
            )),
            Arc::new(Sweeper {
                clock: Arc::clone(&self.clock),
                rate_limiter: Arc::clone(&self.rate_limiter),
                idempotency: self.idempotency.clone(),
                queue: self.queue.clone(),
                db: self.store.db.clone(),
                every: tasks.maintenance_every,
            }),
        ]
    }
}

/// The whole service, its socket bound, ready to run.
pub struct Application {
    services: Services,
    settings: Settings,
    api: ApiState,
    listener: std::net::TcpListener,
    address: SocketAddr,
}

impl Application {
    pub async fn build(
        settings: Settings,
        overrides: Overrides,
    ) -> Result<Application, StartupError> {
        let services = Services::open(&settings, overrides).await?;
        let api = services.api_state();
        let listen = |source| StartupError::Listen {
            address: settings.listen,
            source,
        };
        let listener = std::net::TcpListener::bind(settings.listen).map_err(listen)?;
        listener.set_nonblocking(true).map_err(listen)?;
        let address = listener.local_addr().map_err(listen)?;
        Ok(Application {
            services,
            settings,
            api,
            listener,
            address,
        })
    }

    /// The address it listens on (the real port when the settings said port 0).
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    pub fn services(&self) -> &Services {
        &self.services
    }

    /// On the first start of an empty store, opens the default account and returns its first
    /// key, which the caller shows once.
    pub async fn open_default_account(&self) -> Result<Option<IssuedKey>, StartupError> {
        accounts::bootstrap(&self.services.app, self.settings.default_plan)
            .await
            .map_err(StartupError::DefaultAccount)
    }

    /// Brings the read models up to date, starts the background tasks and serves HTTP until
    /// `shutdown` completes; then stops accepting, gives requests and bulk items the grace
    /// period to finish, and stops the tasks.
    pub async fn run_until_stopped(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        let Application {
            services,
            settings,
            api,
            listener,
            address,
        } = self;
        let tls = match &settings.tls {
            Some(files) => {
                Some(
                    server::tls_config(files)
                        .await
                        .map_err(|source| StartupError::Tls {
                            path: files.cert.display().to_string(),
                            source,
                        })?,
                )
            }
            None => None,
        };
        let router = api::router(api.clone(), &settings.http);
        let runner = services.start_tasks(&settings).await?;
        tracing::info!(
            address = %address,
            tls = tls.is_some(),
            model = services.app.model(),
            "AltFrame is listening"
        );
        // The signal stops both at once: connections get the grace period to finish while the
        // tasks wind down; and however the server ends, the tasks end with it.
        let grace = settings.shutdown_grace;
        let stop = Arc::new(tokio::sync::watch::Sender::new(false));
        tokio::spawn({
            let stop = Arc::clone(&stop);
            async move {
                shutdown.await;
                stop.send_replace(true);
            }
        });
        let stopping = |stop: &tokio::sync::watch::Sender<bool>| {
            let mut stopped = stop.subscribe();
            async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            }
        };
        let serve_http = async {
            let served = server::serve(listener, tls, router, grace, stopping(&stop)).await;
            stop.send_replace(true);
            served
        };
        let stop_tasks = {
            let stopped = stopping(&stop);
            async move {
                stopped.await;
                runner.stop(grace).await;
            }
        };
        let (served, ()) = tokio::join!(serve_http, stop_tasks);
        served.map_err(StartupError::Serve)?;
        tracing::info!("stopped");
        Ok(())
    }
}
