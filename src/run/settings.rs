//! Settings: one plain, typed struct that builds the whole application (`startup`), read once
//! from flags and the environment by `serve` and `mcp` (each setting has a `--flag` and an
//! `ALTFRAME_*` variable), built in code by the tests. Everything is parsed here, so a
//! mistake fails the start-up with a message naming the setting; secrets are wrapped so that
//! no log or debug print shows them.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use altframe_domain::plan::Plan;
use clap::{Args, ValueEnum};
use secrecy::SecretString;

use crate::adapters::image::{IntakeConfig, DEFAULT_DECODE_BUDGET_BYTES};
use crate::adapters::outbound::{AllowedHosts, OutboundConfig};
use crate::adapters::page::PageConfig;
use crate::adapters::rate_limits::RateLimitTable;
use crate::adapters::store::{DatabaseUrl, StoreConfig, StoreError};
use crate::adapters::vision::{BadPrice, ImageDetail, OpenAiConfig, PriceTable};
use crate::api::layers::https::BadProxy;
use crate::api::{
    HttpConfig, HttpsPolicy, DEFAULT_BULK_BODY_BYTES, DEFAULT_GENERATE_BODY_BYTES,
    DEFAULT_REQUEST_TIMEOUT,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VisionKind {
    Openai,
    Builtin,
}

/// Everything the service is built from.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database: StoreConfig,
    pub listen: SocketAddr,
    pub tls: Option<TlsFiles>,
    /// How long stopping waits for requests and bulk items in flight.
    pub shutdown_grace: Duration,
    pub http: HttpConfig,
    pub vision: VisionSettings,
    pub outbound: OutboundConfig,
    pub intake: IntakeConfig,
    /// Pages fetched by `POST /api/v1/scan`.
    pub pages: PageConfig,
    pub rate_limits: RateLimitTable,
    pub tasks: TaskSettings,
    /// Plan of the account opened on the first start of an empty store.
    pub default_plan: Plan,
    /// Days a generation's result answers the same image and options again, free; 0 turns
    /// the generation cache off.
    pub cache_days: u32,
}

#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone)]
pub enum VisionSettings {
    Builtin,
    OpenAi(OpenAiConfig),
}

/// The background tasks' rhythm.
#[derive(Debug, Clone)]
pub struct TaskSettings {
    /// How often read models and the process manager look for events committed by other
    /// processes, and apply what nothing woke them for (a sync generation does not: reads
    /// catch up themselves).
    pub projection_poll: Duration,
    pub bulk: BulkSettings,
    pub webhooks: WebhookSettings,
    /// When a reservation nothing settled (its request died) is settled by the reaper.
    pub reservation_timeout: Duration,
    /// How often the reaper, the billing-period tick and the sweeper run.
    pub maintenance_every: Duration,
}

#[derive(Debug, Clone)]
pub struct BulkSettings {
    /// Items one process runs at once.
    pub concurrency: usize,
    /// How long a claimed item stays with its worker without a renewal.
    pub lease: Duration,
    /// Tries of an item whose model call failed in a way that may pass.
    pub max_attempts: u32,
    /// How often an idle worker looks for items (new batches wake it at once).
    pub poll: Duration,
    /// The first retry delay after such a failure, doubled for each further try (with
    /// jitter, capped at a minute).
    pub retry_base: Duration,
}

#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub poll: Duration,
    /// How long a delivery under way stays with its process.
    pub lease: Duration,
    /// Multiplies the retry schedule's delays: 1 in service; tests shrink it so that a retry
    /// comes at once.
    pub retry_scale: f64,
}

/// Laptop defaults, shared by the flags and by [`Settings::new`].
pub mod defaults {
    use std::time::Duration;

    pub const LISTEN: &str = "127.0.0.1:8080";
    pub const SHUTDOWN_GRACE_SECS: u64 = 30;
    pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
    pub const MODEL: &str = "gpt-4.1-nano";
    pub const MODEL_TIMEOUT_SECS: u64 = 60;
    pub const MODEL_RETRIES: u32 = 3;
    pub const MODEL_RETRY_BASE_MS: u64 = 500;
    pub const FETCH_TIMEOUT_SECS: u64 = 10;
    pub const MAX_REDIRECTS: usize = 5;
    pub const PROJECTION_POLL_MS: u64 = 1000;
    pub const BULK_CONCURRENCY: usize = 8;
    pub const BULK_LEASE_SECS: u64 = 60;
    /// A lease renewed every third of it needs at least this much to be renewed in time.
    pub const MIN_BULK_LEASE: Duration = Duration::from_secs(3);
    pub const BULK_MAX_ATTEMPTS: u32 = 5;
    pub const BULK_POLL_MS: u64 = 1000;
    pub const BULK_RETRY_BASE_MS: u64 = 2000;
    pub const WEBHOOK_POLL_MS: u64 = 1000;
    pub const WEBHOOK_LEASE_SECS: u64 = 60;
    pub const RESERVATION_TIMEOUT_SECS: u64 = 900;
    pub const MAINTENANCE_SECS: u64 = 60;
    pub const CACHE_DAYS: u32 = 30;
}

impl Settings {
    /// The defaults, on the given store.
    pub fn new(database: StoreConfig) -> Settings {
        let secs = Duration::from_secs;
        let millis = Duration::from_millis;
        Settings {
            database,
            listen: defaults::LISTEN
                .parse()
                .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 8080))),
            tls: None,
            shutdown_grace: secs(defaults::SHUTDOWN_GRACE_SECS),
            http: HttpConfig::default(),
            vision: VisionSettings::Builtin,
            outbound: OutboundConfig {
                allow_private_networks: false,
                allowed_hosts: AllowedHosts::default(),
                timeout: secs(defaults::FETCH_TIMEOUT_SECS),
                max_redirects: defaults::MAX_REDIRECTS,
            },
            intake: IntakeConfig::default(),
            pages: PageConfig::default(),
            rate_limits: RateLimitTable::default(),
            tasks: TaskSettings {
                projection_poll: millis(defaults::PROJECTION_POLL_MS),
                bulk: BulkSettings {
                    concurrency: defaults::BULK_CONCURRENCY,
                    lease: secs(defaults::BULK_LEASE_SECS),
                    max_attempts: defaults::BULK_MAX_ATTEMPTS,
                    poll: millis(defaults::BULK_POLL_MS),
                    retry_base: millis(defaults::BULK_RETRY_BASE_MS),
                },
                webhooks: WebhookSettings {
                    poll: millis(defaults::WEBHOOK_POLL_MS),
                    lease: secs(defaults::WEBHOOK_LEASE_SECS),
                    retry_scale: 1.0,
                },
                reservation_timeout: secs(defaults::RESERVATION_TIMEOUT_SECS),
                maintenance_every: secs(defaults::MAINTENANCE_SECS),
            },
            default_plan: Plan::Free,
            cache_days: defaults::CACHE_DAYS,
        }
    }

    /// Refuses settings the service cannot run with: a poll or period of zero (a task would
    /// spin), a bulk lease too short to be renewed in time, no bulk worker slot.
    pub fn validate(&self) -> Result<(), SettingsError> {
        let tasks = &self.tasks;
        if self.pages.max_bytes == 0 {
            return Err(SettingsError::Zero("ALTFRAME_SCAN_MAX_PAGE_BYTES"));
        }
        for (name, value) in [
            ("ALTFRAME_PROJECTION_POLL_MS", tasks.projection_poll),
            ("ALTFRAME_BULK_POLL_MS", tasks.bulk.poll),
            ("ALTFRAME_WEBHOOK_POLL_MS", tasks.webhooks.poll),
            ("ALTFRAME_WEBHOOK_LEASE_SECS", tasks.webhooks.lease),
            ("ALTFRAME_MAINTENANCE_SECS", tasks.maintenance_every),
            ("ALTFRAME_REQUEST_TIMEOUT_SECS", self.http.request_timeout),
        ] {
            if value.is_zero() {
                return Err(SettingsError::Zero(name));
            }
        }
        if tasks.bulk.lease < defaults::MIN_BULK_LEASE {
            return Err(SettingsError::ShortLease(defaults::MIN_BULK_LEASE));
        }
        if tasks.bulk.concurrency == 0 {
            return Err(SettingsError::Zero("ALTFRAME_BULK_CONCURRENCY"));
        }
        Ok(())
    }

    /// How long an idempotency key is held by a running request: longer than any request.
    pub fn idempotency_hold(&self) -> Duration {
        self.http.request_timeout + Duration::from_secs(60)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("DATABASE_URL: {0}")]
    Database(#[source] StoreError),
    #[error("ALTFRAME_TRUSTED_PROXIES: {0}")]
    TrustedProxies(#[source] BadProxy),
    #[error("ALTFRAME_MODEL_PRICES: {0}")]
    ModelPrices(#[source] BadPrice),
    #[error("ALTFRAME_DEFAULT_PLAN: unknown plan {0}; use free, starter, pro or business")]
    DefaultPlan(String),
    #[error("{0} must be more than zero")]
    Zero(&'static str),
    #[error("ALTFRAME_BULK_LEASE_SECS must be at least {0:?}, a third of it to renew it in")]
    ShortLease(Duration),
}

/// The flags and variables of `altframe serve`, as given; [`ServeArgs::settings`] parses them.
/// The HTTP server's own are here; those of the service itself (the model, image intake,
/// outbound fetches, the background tasks, rate limits) are [`ServiceArgs`], which
/// `altframe mcp` takes too.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "ALTFRAME_LISTEN", default_value = defaults::LISTEN)]
    pub listen: SocketAddr,

    /// PEM certificate chain: with ALTFRAME_TLS_KEY, `serve` speaks HTTPS itself (rustls).
    #[arg(long, env = "ALTFRAME_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of the certificate.
    #[arg(long, env = "ALTFRAME_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// `open` lets anyone open a free account from the sign-in page; `closed` (the default)
    /// leaves logins to the operator (`altframe logins create`).
    #[arg(long, env = "ALTFRAME_SIGNUP", value_enum, default_value = "closed")]
    pub signup: crate::api::dashboard::Signup,

    /// Refuse plain-HTTP requests with 403 (health probes excepted).
    #[arg(long, env = "ALTFRAME_REQUIRE_HTTPS", default_value_t = false, action = clap::ArgAction::Set)]
    pub require_https: bool,

    /// Proxies whose X-Forwarded-Proto is believed: IP addresses or networks, comma separated.
    #[arg(long, env = "ALTFRAME_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,

    /// When set, GET /metrics answers only `Authorization: Bearer <this token>`.
    #[arg(long, env = "ALTFRAME_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<SecretString>,

    /// Seconds before a request is abandoned.
    #[arg(long, env = "ALTFRAME_REQUEST_TIMEOUT_SECS", default_value_t = DEFAULT_REQUEST_TIMEOUT.as_secs())]
    pub request_timeout_secs: u64,

    /// Plan of the account opened on the first start of an empty store.
    #[arg(long, env = "ALTFRAME_DEFAULT_PLAN", default_value = "free")]
    pub default_plan: String,

    #[command(flatten)]
    pub service: ServiceArgs,
}

/// The settings of the service itself, shared by `serve` and `mcp`.
#[derive(Debug, Clone, Args)]
pub struct ServiceArgs {
    /// Seconds that stopping (SIGTERM) waits for in-flight requests and bulk items.
    #[arg(long, env = "ALTFRAME_SHUTDOWN_GRACE_SECS", default_value_t = defaults::SHUTDOWN_GRACE_SECS)]
    pub shutdown_grace_secs: u64,

    /// Vision provider; `openai` when OPENAI_API_KEY is set, else `builtin`.
    #[arg(long, env = "ALTFRAME_VISION", value_enum)]
    pub vision: Option<VisionKind>,

    /// API key for the OpenAI-compatible endpoint (optional for local servers).
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<SecretString>,

    /// Base URL of the OpenAI-compatible API.
    #[arg(long, env = "ALTFRAME_OPENAI_BASE_URL", default_value = defaults::OPENAI_BASE_URL)]
    pub openai_base_url: String,

    /// Model name sent to the OpenAI-compatible API.
    #[arg(long, env = "ALTFRAME_MODEL", default_value = defaults::MODEL)]
    pub model: String,

    /// How closely the model looks at the image: `low`, `high` or `auto`, sent as the image
    /// part's `detail` (unset: not sent, the server's default). `low` costs far fewer tokens.
    #[arg(long, env = "ALTFRAME_MODEL_IMAGE_DETAIL", value_parser = ImageDetail::parse)]
    pub model_image_detail: Option<ImageDetail>,

    /// Extra or replaced token prices: `model=input/output,...` in USD per million tokens.
    #[arg(long, env = "ALTFRAME_MODEL_PRICES", default_value = "")]
    pub model_prices: String,

    /// Seconds before one model call times out.
    #[arg(long, env = "ALTFRAME_MODEL_TIMEOUT_SECS", default_value_t = defaults::MODEL_TIMEOUT_SECS)]
    pub model_timeout_secs: u64,

    /// Retries of a model call after a 429, a 5xx or a timeout.
    #[arg(long, env = "ALTFRAME_MODEL_RETRIES", default_value_t = defaults::MODEL_RETRIES)]
    pub model_retries: u32,

    /// First retry delay in milliseconds; doubled for each further retry.
    #[arg(long, env = "ALTFRAME_MODEL_RETRY_BASE_MS", default_value_t = defaults::MODEL_RETRY_BASE_MS)]
    pub model_retry_base_ms: u64,

    /// Allow image URLs on loopback, private and link-local networks (development only).
    #[arg(long, env = "ALTFRAME_ALLOW_PRIVATE_NETWORKS", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_private_networks: bool,

    /// Hosts fetched although they are not public (an intranet CMS, an image server on the
    /// private network): host names or IP addresses, comma separated. Everything else
    /// non-public stays refused.
    #[arg(long, env = "ALTFRAME_OUTBOUND_ALLOWED_HOSTS", default_value = "")]
    pub outbound_allowed_hosts: AllowedHosts,

    /// Seconds before fetching an image URL (or a page to scan) times out.
    #[arg(long, env = "ALTFRAME_FETCH_TIMEOUT_SECS", default_value_t = defaults::FETCH_TIMEOUT_SECS)]
    pub fetch_timeout_secs: u64,

    /// Largest page `POST /api/v1/scan` reads, in bytes.
    #[arg(long, env = "ALTFRAME_SCAN_MAX_PAGE_BYTES", default_value_t = PageConfig::default().max_bytes)]
    pub scan_max_page_bytes: usize,

    /// Largest image accepted, in bytes.
    #[arg(long, env = "ALTFRAME_MAX_IMAGE_BYTES", default_value_t = IntakeConfig::default().max_bytes)]
    pub max_image_bytes: usize,

    /// Largest image accepted, in pixels (width × height).
    #[arg(long, env = "ALTFRAME_MAX_IMAGE_PIXELS", default_value_t = IntakeConfig::default().max_pixels)]
    pub max_image_pixels: u64,

    /// Longest side of the copy sent to the model, in pixels.
    #[arg(long, env = "ALTFRAME_MODEL_IMAGE_SIDE", default_value_t = IntakeConfig::default().model_max_side)]
    pub model_image_side: u32,

    /// Memory that decoding images may take at once, in bytes (8 a pixel of each image being
    /// decoded); images wait for room.
    #[arg(long, env = "ALTFRAME_DECODE_BUDGET_BYTES", default_value_t = DEFAULT_DECODE_BUDGET_BYTES)]
    pub decode_budget_bytes: u64,

    /// Largest number of database connections this process opens (default: 20 on Postgres,
    /// 8 on SQLite).
    #[arg(long, env = "ALTFRAME_DB_MAX_CONNECTIONS")]
    pub db_max_connections: Option<u32>,

    /// Milliseconds between looks for events committed by other processes.
    #[arg(long, env = "ALTFRAME_PROJECTION_POLL_MS", default_value_t = defaults::PROJECTION_POLL_MS)]
    pub projection_poll_ms: u64,

    /// Bulk items this process runs at once.
    #[arg(long, env = "ALTFRAME_BULK_CONCURRENCY", default_value_t = defaults::BULK_CONCURRENCY)]
    pub bulk_concurrency: usize,

    /// Seconds a worker holds a bulk item before another may take it over (renewed while
    /// the worker is alive; at least 3).
    #[arg(long, env = "ALTFRAME_BULK_LEASE_SECS", default_value_t = defaults::BULK_LEASE_SECS)]
    pub bulk_lease_secs: u64,

    /// Tries of a bulk item whose model call failed transiently, before it fails.
    #[arg(long, env = "ALTFRAME_BULK_MAX_ATTEMPTS", default_value_t = defaults::BULK_MAX_ATTEMPTS)]
    pub bulk_max_attempts: u32,

    /// Milliseconds between looks for bulk items when nothing announces new ones.
    #[arg(long, env = "ALTFRAME_BULK_POLL_MS", default_value_t = defaults::BULK_POLL_MS)]
    pub bulk_poll_ms: u64,

    /// Milliseconds before a bulk item whose model call failed transiently is tried again;
    /// doubled for each further try, with jitter, at most a minute.
    #[arg(long, env = "ALTFRAME_BULK_RETRY_BASE_MS", default_value_t = defaults::BULK_RETRY_BASE_MS)]
    pub bulk_retry_base_ms: u64,

    /// Milliseconds between looks for webhooks due.
    #[arg(long, env = "ALTFRAME_WEBHOOK_POLL_MS", default_value_t = defaults::WEBHOOK_POLL_MS)]
    pub webhook_poll_ms: u64,

    /// Seconds a process holds a webhook delivery before another may make it.
    #[arg(long, env = "ALTFRAME_WEBHOOK_LEASE_SECS", default_value_t = defaults::WEBHOOK_LEASE_SECS)]
    pub webhook_lease_secs: u64,

    /// Seconds after which a reservation nothing settled (its request died) is released.
    #[arg(long, env = "ALTFRAME_RESERVATION_TIMEOUT_SECS", default_value_t = defaults::RESERVATION_TIMEOUT_SECS)]
    pub reservation_timeout_secs: u64,

    /// Seconds between rounds of the reaper (stale reservations), the sweeper (expired
    /// records, the work queue's leftovers) and the tick that starts due billing periods.
    #[arg(long, env = "ALTFRAME_MAINTENANCE_SECS", default_value_t = defaults::MAINTENANCE_SECS)]
    pub maintenance_secs: u64,

    /// Requests per minute per API key, overriding the contract's table:
    /// `endpoint=N` or `plan.endpoint=N`, comma separated (endpoints: generate, bulk, batches,
    /// history, usage, scan).
    #[arg(long, env = "ALTFRAME_RATE_LIMITS", default_value = "")]
    pub rate_limits: RateLimitTable,

    /// Largest request body of POST /api/v1/generate (and arguments of the MCP tool
    /// `generate`), in bytes.
    #[arg(long, env = "ALTFRAME_MAX_GENERATE_BODY_BYTES", default_value_t = DEFAULT_GENERATE_BODY_BYTES)]
    pub max_generate_body_bytes: usize,

    /// Largest request body of POST /api/v1/generate/bulk (and arguments of the MCP tool
    /// `bulk`), in bytes.
    #[arg(long, env = "ALTFRAME_MAX_BULK_BODY_BYTES", default_value_t = DEFAULT_BULK_BODY_BYTES)]
    pub max_bulk_body_bytes: usize,

    /// Days a generation's result answers the same image with the same options and context
    /// again, at no charge (the generation cache); 0 turns the cache off.
    #[arg(long, env = "ALTFRAME_CACHE_DAYS", default_value_t = defaults::CACHE_DAYS)]
    pub cache_days: u32,
}

impl ServiceArgs {
    /// Parses the service's settings onto the defaults. `database_url` is the global
    /// `--database-url`.
    pub fn settings(self, database_url: Option<&str>) -> Result<Settings, SettingsError> {
        let secs = Duration::from_secs;
        let millis = Duration::from_millis;
        let url = DatabaseUrl::parse(database_url).map_err(SettingsError::Database)?;
        let mut settings = Settings::new(StoreConfig {
            url,
            max_connections: self.db_max_connections,
        });
        let vision = self.vision.unwrap_or(if self.openai_api_key.is_some() {
            VisionKind::Openai
        } else {
            VisionKind::Builtin
        });
        settings.vision = match vision {
            VisionKind::Builtin => VisionSettings::Builtin,
            VisionKind::Openai => VisionSettings::OpenAi(OpenAiConfig {
                base_url: self.openai_base_url,
                api_key: self.openai_api_key,
                model: self.model,
                timeout: secs(self.model_timeout_secs),
                max_retries: self.model_retries,
                retry_base: millis(self.model_retry_base_ms),
                prices: PriceTable::default()
                    .with_overrides(&self.model_prices)
                    .map_err(SettingsError::ModelPrices)?,
                image_detail: self.model_image_detail,
            }),
        };
        settings.shutdown_grace = secs(self.shutdown_grace_secs);
        settings.http.max_generate_body = self.max_generate_body_bytes;
        settings.http.max_bulk_body = self.max_bulk_body_bytes;
        settings.outbound = OutboundConfig {
            allow_private_networks: self.allow_private_networks,
            allowed_hosts: self.outbound_allowed_hosts,
            timeout: secs(self.fetch_timeout_secs),
            max_redirects: defaults::MAX_REDIRECTS,
        };
        settings.intake = IntakeConfig {
            max_bytes: self.max_image_bytes,
            max_pixels: self.max_image_pixels,
            model_max_side: self.model_image_side,
            decode_budget_bytes: self.decode_budget_bytes,
        };
        settings.pages = PageConfig {
            max_bytes: self.scan_max_page_bytes,
        };
        settings.rate_limits = self.rate_limits;
        settings.cache_days = self.cache_days;
        settings.tasks = TaskSettings {
            projection_poll: millis(self.projection_poll_ms),
            bulk: BulkSettings {
                concurrency: self.bulk_concurrency,
                lease: secs(self.bulk_lease_secs).max(defaults::MIN_BULK_LEASE),
                max_attempts: self.bulk_max_attempts,
                poll: millis(self.bulk_poll_ms),
                retry_base: millis(self.bulk_retry_base_ms),
            },
            webhooks: WebhookSettings {
                poll: millis(self.webhook_poll_ms),
                lease: secs(self.webhook_lease_secs),
                retry_scale: 1.0,
            },
            reservation_timeout: secs(self.reservation_timeout_secs),
            maintenance_every: secs(self.maintenance_secs),
        };
        settings.validate()?;
        Ok(settings)
    }
}

impl ServeArgs {
    /// Parses every setting. `database_url` is the global `--database-url`.
    pub fn settings(self, database_url: Option<&str>) -> Result<Settings, SettingsError> {
        let mut settings = self.service.settings(database_url)?;
        settings.listen = self.listen;
        settings.tls = match (self.tls_cert, self.tls_key) {
            (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
            _ => None,
        };
        settings.http = HttpConfig {
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            https: HttpsPolicy {
                required: self.require_https,
                terminates_tls: settings.tls.is_some(),
                trusted_proxies: HttpsPolicy::parse_proxies(&self.trusted_proxies)
                    .map_err(SettingsError::TrustedProxies)?,
            },
            metrics_token: self.metrics_token,
            signup: self.signup,
            ..settings.http
        };
        settings.default_plan = Plan::parse(&self.default_plan)
            .ok_or_else(|| SettingsError::DefaultPlan(self.default_plan.clone()))?;
        settings.validate()?;
        Ok(settings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn parse(flags: &[&str]) -> Result<Settings, SettingsError> {
        let mut argv = vec!["serve"];
        argv.extend_from_slice(flags);
        Serve::parse_from(argv).args.settings(Some("x.db"))
    }

    #[test]
    fn secrets_never_print() {
        let settings = parse(&[
            "--vision",
            "openai",
            "--openai-api-key",
            "sk-very-secret",
            "--metrics-token",
            "scrape-secret",
        ])
        .unwrap();
        let printed = format!("{settings:?}");
        assert!(!printed.contains("sk-very-secret"), "{printed}");
        assert!(!printed.contains("scrape-secret"), "{printed}");
    }

    #[test]
    fn mistakes_name_their_setting() {
        let proxies = parse(&["--trusted-proxies", "proxy.local"]).unwrap_err();
        assert!(
            proxies.to_string().starts_with("ALTFRAME_TRUSTED_PROXIES"),
            "{proxies}"
        );
        let prices = parse(&["--vision", "openai", "--model-prices", "llava=cheap"]).unwrap_err();
        assert!(
            prices.to_string().starts_with("ALTFRAME_MODEL_PRICES"),
            "{prices}"
        );
        let plan = parse(&["--default-plan", "platinum"]).unwrap_err();
        assert!(plan.to_string().contains("platinum"), "{plan}");
        let pages = parse(&["--scan-max-page-bytes", "0"]).unwrap_err();
        assert!(
            pages
                .to_string()
                .starts_with("ALTFRAME_SCAN_MAX_PAGE_BYTES"),
            "{pages}"
        );
        let poll = parse(&["--bulk-poll-ms", "0"]).unwrap_err();
        assert!(
            poll.to_string().starts_with("ALTFRAME_BULK_POLL_MS"),
            "{poll}"
        );
    }

    #[test]
    fn the_flags_defaults_are_the_settings_defaults() {
        let parsed = parse(&["--vision", "builtin"]).unwrap();
        let plain = Settings::new(parsed.database.clone());
        assert_eq!(format!("{parsed:?}"), format!("{plain:?}"));
    }
}
