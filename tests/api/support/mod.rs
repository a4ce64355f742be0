//! Starts the real service, on port 0, against a fresh store, as a client would meet it.
pub mod db;
pub mod fake_openai;
pub mod files;
pub mod process;
pub mod receiver;

use std::sync::Arc;
use std::time::Duration;

use altframe::adapters::clock::{Clock, SystemClock};
use altframe::adapters::idempotency::IdempotencyStore;
use altframe::adapters::image::{Intake, IntakeConfig};
use altframe::adapters::outbound::{Outbound, OutboundConfig};
use altframe::adapters::rate_limits::{RateLimitTable, RateLimiter};
use altframe::adapters::read_models::Projector;
use altframe::adapters::subscriber;
use altframe::adapters::vision::{BuiltinProvider, VisionProvider};
use altframe::api::HttpConfig;
use altframe::run::tasks::bulk_worker::{BulkWorker, WorkerConfig};
use altframe::run::tasks::process_manager::ProcessManager;
use altframe::run::tasks::webhooks::WebhookDispatcher;
use altframe::usecases::accounts;
use altframe::usecases::app::App;
use altframe_domain::account::AccountCommand;
use altframe_domain::generation::Language;
use altframe_domain::plan::Plan;
use base64::Engine;
use serde_json::Value;

pub use db::{Backend, TestDb};

/// Generates a `sqlite` and a `postgres` test from one async function taking a `Backend`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                super::$name($crate::support::Backend::Sqlite).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn postgres() {
                super::$name($crate::support::Backend::Postgres).await
            }
        }
    )*};
}

pub struct Options {
    pub plan: Plan,
    pub language: &'static str,
    pub vision: Arc<dyn VisionProvider>,
    pub allow_private_networks: bool,
    pub intake: IntakeConfig,
    pub clock: Arc<dyn Clock>,
    pub rate_limits: RateLimitTable,
    pub http: HttpConfig,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            plan: Plan::Free,
            language: "en",
            vision: Arc::new(BuiltinProvider),
            allow_private_networks: true,
            intake: IntakeConfig::default(),
            clock: Arc::new(SystemClock),
            rate_limits: RateLimitTable::default(),
            http: HttpConfig {
                request_timeout: Duration::from_secs(60),
                ..HttpConfig::default()
            },
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub key: String,
    pub account_id: String,
    pub app: App,
    pub db: TestDb,
}

pub async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, Options::default()).await
}

pub async fn spawn_with(backend: Backend, options: Options) -> TestApp {
    let db = TestDb::new(backend).await;
    let store = Arc::new(db.open().await);
    let outbound = Outbound::new(OutboundConfig {
        allow_private_networks: options.allow_private_networks,
        timeout: Duration::from_secs(10),
        max_redirects: 5,
    })
    .expect("HTTP client");
    let projector = Projector::new(store.db.clone());
    let metrics = Arc::new(altframe::adapters::metrics::Metrics::new());
    let app = App {
        vision: altframe::adapters::vision::MeteredVision::wrap(
            options.vision,
            Arc::clone(&metrics),
        ),
        metrics,
        rate_limiter: Arc::new(RateLimiter::new(&store.db, options.rate_limits)),
        idempotency: IdempotencyStore::new(store.db.clone(), Duration::from_secs(120)),
        work_available: Arc::clone(&projector.applied),
        bulk_concurrency: 8,
        process_manager: ProcessManager::new(
            Arc::clone(&store),
            Arc::clone(&options.clock),
            Arc::clone(&projector),
        ),
        projector,
        store,
        intake: Arc::new(Intake::new(options.intake, outbound)),
        clock: options.clock,
    };
    let account_id = altframe::adapters::ids::account_id();
    accounts::open_account(
        &app.store,
        app.clock.as_ref(),
        &account_id,
        "Test shop",
        options.plan,
        Language::parse(options.language).expect("language"),
    )
    .await
    .expect("open account");
    let key = accounts::issue_key(&app.store, app.clock.as_ref(), &account_id, "test")
        .await
        .expect("issue key")
        .key;
    subscriber::spawn(Arc::clone(&app.projector), Duration::from_millis(200));
    subscriber::spawn(Arc::clone(&app.process_manager), Duration::from_millis(200));
    BulkWorker::new(
        app.clone(),
        WorkerConfig {
            concurrency: 8,
            lease: Duration::from_secs(60),
            max_attempts: 3,
            poll: Duration::from_millis(200),
        },
    )
    .spawn();
    WebhookDispatcher::with_schedule_scale(app.clone(), Duration::from_millis(100), 0.001).spawn();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let router = altframe::api::router(app.clone(), &options.http)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, router).await });
    TestApp {
        base,
        http: reqwest::Client::new(),
        key,
        account_id,
        app,
        db,
    }
}

impl TestApp {
    pub async fn post_bulk(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/generate/bulk", self.base))
            .header("x-api-key", &self.key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .header("x-api-key", &self.key)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_generate(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/generate", self.base))
            .header("x-api-key", &self.key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    /// The account's balance, from its aggregate.
    pub async fn remaining(&self) -> u32 {
        self.app
            .store
            .accounts
            .load(&self.account_id)
            .await
            .expect("load account")
            .remaining()
    }

    /// Takes credits out of the balance, as earlier work would have.
    pub async fn spend_down_to(&self, remaining: u32) {
        let now = self.app.clock.now();
        let credits = self.remaining().await - remaining;
        self.app
            .store
            .accounts
            .execute(
                &self.account_id,
                AccountCommand::ReserveCredits {
                    reservation_id: "res_setup".into(),
                    purpose: "setup".into(),
                    credits,
                    at: now,
                },
            )
            .await
            .expect("reserve");
    }

    /// Every event of the store, in global order, as (aggregate type, event type, payload).
    pub async fn events(&self) -> Vec<(String, String, Value)> {
        let sql = "SELECT aggregate_type, event_type, payload FROM events ORDER BY aggregate_type, aggregate_id, sequence";
        match &self.app.store.db {
            altframe_projections::Db::Postgres(p) => {
                sqlx::query_as::<_, (String, String, Value)>(sql)
                    .fetch_all(p)
                    .await
                    .expect("events")
            }
            altframe_projections::Db::Sqlite(p) => {
                sqlx::query_as::<_, (String, String, Value)>(sql)
                    .fetch_all(p)
                    .await
                    .expect("events")
            }
        }
    }

    pub async fn event_types(&self) -> Vec<String> {
        self.events().await.into_iter().map(|(_, t, _)| t).collect()
    }
}

/// The smallest valid request body: a 1×1 PNG, alt text only.
pub fn tiny_image() -> Value {
    serde_json::json!({ "image_base64": base64_of("tiny-1x1.png"), "fields": ["alt_text"] })
}

/// An app whose vision model is `fake` (no retries).
pub async fn spawn_with_model(
    backend: Backend,
    fake: &fake_openai::FakeOpenAi,
    options: Options,
) -> TestApp {
    spawn_with(
        backend,
        Options {
            vision: fake.provider(0),
            ..options
        },
    )
    .await
}

pub fn base64_of(name: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(files::fixture(name))
}

/// Checks the contract's error shape and returns its message.
pub async fn error_of(response: reqwest::Response, status: u16) -> String {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    assert!(
        response.headers().contains_key("x-request-id"),
        "every response carries x-request-id"
    );
    let body: Value = response.json().await.expect("JSON error body");
    let message = body["error"]
        .as_str()
        .expect("{\"error\": \"...\"}")
        .to_string();
    assert_eq!(
        body.as_object().map(|o| o.len()),
        Some(1),
        "only an error field: {body}"
    );
    message
}
