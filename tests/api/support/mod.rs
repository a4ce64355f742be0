//! Starts the real service, on port 0, against a fresh store, as a client would meet it.
pub mod db;
pub mod fake_openai;
pub mod files;
pub mod process;
pub mod receiver;
pub mod site;

use std::sync::Arc;
use std::time::Duration;

use altframe::adapters::clock::{Clock, SystemClock};
use altframe::adapters::image::IntakeConfig;
use altframe::adapters::rate_limits::RateLimitTable;
use altframe::adapters::store::StoreConfig;
use altframe::adapters::subscriber::Subscriber;
use altframe::adapters::vision::{BuiltinProvider, VisionProvider};
use altframe::api::HttpConfig;
use altframe::run::settings::Settings;
use altframe::run::startup::{Application, Overrides, Services};
use altframe::usecases::{accounts, keys};
use altframe_domain::account::AccountCommand;
use altframe_domain::generation::Language;
use altframe_domain::plan::Plan;
use altframe_domain::AccountId;
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

/// What a test changes of the service it starts; everything else is `serve`'s defaults,
/// but for quicker polls and webhook retries.
pub struct Options {
    /// Plan and language of the account the test gets.
    pub plan: Plan,
    pub language: &'static str,
    pub vision: Arc<dyn VisionProvider>,
    pub allow_private_networks: bool,
    pub intake: IntakeConfig,
    pub clock: Arc<dyn Clock>,
    pub rate_limits: RateLimitTable,
    pub http: HttpConfig,
    /// Any other setting.
    pub settings: Arc<dyn Fn(&mut Settings) + Send + Sync>,
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
            settings: Arc::new(|_| {}),
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub http: reqwest::Client,
    pub key: String,
    pub account_id: AccountId,
    /// The running service's store, read models, process manager and use cases.
    pub services: Services,
    pub db: TestDb,
}

pub async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, Options::default()).await
}

/// The settings a test runs with: `serve`'s defaults on a fresh store, on port 0, with quick
/// polls, three tries of a bulk item and webhook retries a thousand times sooner.
pub fn settings_for(db: &TestDb, options: &Options) -> Settings {
    let mut settings = Settings::new(StoreConfig::new(db.url.clone()));
    settings.listen = "127.0.0.1:0".parse().expect("address");
    settings.http = options.http.clone();
    settings.outbound.allow_private_networks = options.allow_private_networks;
    settings.intake = options.intake.clone();
    settings.rate_limits = options.rate_limits.clone();
    settings.tasks.projection_poll = Duration::from_millis(200);
    settings.tasks.bulk.poll = Duration::from_millis(200);
    settings.tasks.bulk.max_attempts = 3;
    settings.tasks.webhooks.poll = Duration::from_millis(100);
    settings.tasks.webhooks.retry_scale = 0.001;
    (options.settings)(&mut settings);
    settings
}

/// Starts the service as `serve` does (the same start-up, every background task), on a
/// fresh store, with one account and its key.
pub async fn spawn_with(backend: Backend, options: Options) -> TestApp {
    let db = TestDb::new(backend).await;
    let settings = settings_for(&db, &options);
    let overrides = Overrides {
        clock: Some(Arc::clone(&options.clock)),
        vision: Some(Arc::clone(&options.vision)),
    };
    let application = Application::build(settings, overrides)
        .await
        .expect("build the application");
    let services = application.services().clone();
    let base = format!("http://{}", application.address());
    tokio::spawn(application.run_until_stopped(std::future::pending()));

    let account_id = altframe::adapters::ids::account_id();
    accounts::open_account(
        &services.app,
        &account_id,
        "Test shop",
        options.plan,
        Language::parse(options.language).expect("language"),
    )
    .await
    .expect("open account");
    let key = keys::issue_key(&services.app, &account_id, "test")
        .await
        .expect("issue key")
        .key;
    // The key's first use finds it even on a loaded machine, where the two seconds a request
    // waits for read models to show a new key can pass.
    services
        .projector
        .catch_up_fully(Duration::from_secs(60))
        .await
        .expect("project the new key");
    TestApp {
        base,
        http: reqwest::Client::new(),
        key,
        account_id,
        services,
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

    /// POSTs `body` as JSON to `path` with the test's key.
    pub async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("x-api-key", &self.key)
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_scan(&self, body: &Value) -> reqwest::Response {
        self.http
            .post(format!("{}/api/v1/scan", self.base))
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
        self.services
            .store
            .accounts
            .load(&self.account_id)
            .await
            .expect("load account")
            .remaining()
    }

    /// Takes credits out of the balance, as earlier work would have.
    pub async fn spend_down_to(&self, remaining: u32) {
        let now = self.services.clock.now();
        let credits = self.remaining().await - remaining;
        self.services
            .store
            .accounts
            .execute(
                &self.account_id,
                AccountCommand::ReserveCredits {
                    reservation_id: altframe_domain::ReservationId::new("res_setup"),
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
        match &self.services.store.db {
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
