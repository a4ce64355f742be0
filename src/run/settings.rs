//! Configuration for `serve`: one typed struct, read once from flags and the environment, with
//! defaults that run on a laptop. Secrets are never printed (`hide_env_values`).
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, ValueEnum};

use crate::adapters::image::{IntakeConfig, DEFAULT_DECODE_BUDGET_BYTES};
use crate::adapters::outbound::OutboundConfig;
use crate::adapters::rate_limits::RateLimitTable;
use crate::adapters::vision::{OpenAiConfig, PriceTable};
use crate::api::{HttpConfig, HttpsPolicy, DEFAULT_BULK_BODY_BYTES, DEFAULT_GENERATE_BODY_BYTES};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VisionKind {
    Openai,
    Builtin,
}

#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address to listen on.
    #[arg(long, env = "ALTFRAME_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// PEM certificate chain: with ALTFRAME_TLS_KEY, `serve` speaks HTTPS itself (rustls).
    #[arg(long, env = "ALTFRAME_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,

    /// PEM private key of the certificate.
    #[arg(long, env = "ALTFRAME_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,

    /// Refuse plain-HTTP requests with 403 (health probes excepted).
    #[arg(long, env = "ALTFRAME_REQUIRE_HTTPS", default_value_t = false, action = clap::ArgAction::Set)]
    pub require_https: bool,

    /// Proxies whose X-Forwarded-Proto is believed: IP addresses or networks, comma separated.
    #[arg(long, env = "ALTFRAME_TRUSTED_PROXIES", default_value = "")]
    pub trusted_proxies: String,

    /// When set, GET /metrics answers only `Authorization: Bearer <this token>`.
    #[arg(long, env = "ALTFRAME_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,

    /// Seconds that shutdown (SIGTERM) waits for in-flight requests and bulk items.
    #[arg(long, env = "ALTFRAME_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,

    /// Vision provider; `openai` when OPENAI_API_KEY is set, else `builtin`.
    #[arg(long, env = "ALTFRAME_VISION", value_enum)]
    pub vision: Option<VisionKind>,

    /// API key for the OpenAI-compatible endpoint (optional for local servers).
    #[arg(long, env = "OPENAI_API_KEY", hide_env_values = true)]
    pub openai_api_key: Option<String>,

    /// Base URL of the OpenAI-compatible API.
    #[arg(
        long,
        env = "ALTFRAME_OPENAI_BASE_URL",
        default_value = "https://api.openai.com/v1"
    )]
    pub openai_base_url: String,

    /// Model name sent to the OpenAI-compatible API.
    #[arg(long, env = "ALTFRAME_MODEL", default_value = "gpt-4.1-nano")]
    pub model: String,

    /// Extra or replaced token prices: `model=input/output,...` in USD per million tokens.
    #[arg(long, env = "ALTFRAME_MODEL_PRICES", default_value = "")]
    pub model_prices: String,

    /// Seconds before one model call times out.
    #[arg(long, env = "ALTFRAME_MODEL_TIMEOUT_SECS", default_value_t = 60)]
    pub model_timeout_secs: u64,

    /// Retries of a model call after a 429, a 5xx or a timeout.
    #[arg(long, env = "ALTFRAME_MODEL_RETRIES", default_value_t = 3)]
    pub model_retries: u32,

    /// First retry delay in milliseconds; doubled for each further retry.
    #[arg(long, env = "ALTFRAME_MODEL_RETRY_BASE_MS", default_value_t = 500)]
    pub model_retry_base_ms: u64,

    /// Allow image URLs on loopback, private and link-local networks (development only).
    #[arg(long, env = "ALTFRAME_ALLOW_PRIVATE_NETWORKS", default_value_t = false, action = clap::ArgAction::Set)]
    pub allow_private_networks: bool,

    /// Seconds before fetching an image URL times out.
    #[arg(long, env = "ALTFRAME_FETCH_TIMEOUT_SECS", default_value_t = 10)]
    pub fetch_timeout_secs: u64,

    /// Largest image accepted, in bytes.
    #[arg(long, env = "ALTFRAME_MAX_IMAGE_BYTES", default_value_t = 20 * 1024 * 1024)]
    pub max_image_bytes: usize,

    /// Largest image accepted, in pixels (width × height).
    #[arg(long, env = "ALTFRAME_MAX_IMAGE_PIXELS", default_value_t = 64_000_000)]
    pub max_image_pixels: u64,

    /// Longest side of the copy sent to the model, in pixels.
    #[arg(long, env = "ALTFRAME_MODEL_IMAGE_SIDE", default_value_t = 1024)]
    pub model_image_side: u32,

    /// Memory that decoding images may take at once, in bytes (8 a pixel of each image being
    /// decoded); images wait for room.
    #[arg(long, env = "ALTFRAME_DECODE_BUDGET_BYTES", default_value_t = DEFAULT_DECODE_BUDGET_BYTES)]
    pub decode_budget_bytes: u64,

    /// Seconds before a request is abandoned.
    #[arg(long, env = "ALTFRAME_REQUEST_TIMEOUT_SECS", default_value_t = 120)]
    pub request_timeout_secs: u64,

    /// Bulk items this process runs at once.
    #[arg(long, env = "ALTFRAME_BULK_CONCURRENCY", default_value_t = 8)]
    pub bulk_concurrency: usize,

    /// Seconds a worker holds a bulk item before another may take it over (renewed while
    /// the worker is alive).
    #[arg(long, env = "ALTFRAME_BULK_LEASE_SECS", default_value_t = 60)]
    pub bulk_lease_secs: u64,

    /// Tries of a bulk item whose model call failed transiently, before it fails.
    #[arg(long, env = "ALTFRAME_BULK_MAX_ATTEMPTS", default_value_t = 5)]
    pub bulk_max_attempts: u32,

    /// Seconds after which a reservation nothing settled (its request died) is released.
    #[arg(long, env = "ALTFRAME_RESERVATION_TIMEOUT_SECS", default_value_t = 900)]
    pub reservation_timeout_secs: u64,

    /// Requests per minute per API key, overriding the contract's table:
    /// `endpoint=N` or `plan.endpoint=N`, comma separated (endpoints: generate, bulk, batches,
    /// history, usage).
    #[arg(long, env = "ALTFRAME_RATE_LIMITS", default_value = "")]
    pub rate_limits: RateLimitTable,

    /// Largest request body of POST /api/v1/generate, in bytes.
    #[arg(long, env = "ALTFRAME_MAX_GENERATE_BODY_BYTES", default_value_t = DEFAULT_GENERATE_BODY_BYTES)]
    pub max_generate_body_bytes: usize,

    /// Largest request body of POST /api/v1/generate/bulk, in bytes.
    #[arg(long, env = "ALTFRAME_MAX_BULK_BODY_BYTES", default_value_t = DEFAULT_BULK_BODY_BYTES)]
    pub max_bulk_body_bytes: usize,

    /// Plan of the account opened on the first start of an empty store.
    #[arg(long, env = "ALTFRAME_DEFAULT_PLAN", default_value = "free")]
    pub default_plan: String,
}

impl ServeConfig {
    pub fn vision_kind(&self) -> VisionKind {
        self.vision.unwrap_or(if self.openai_api_key.is_some() {
            VisionKind::Openai
        } else {
            VisionKind::Builtin
        })
    }

    pub fn http(&self) -> Result<HttpConfig, String> {
        Ok(HttpConfig {
            request_timeout: Duration::from_secs(self.request_timeout_secs),
            max_generate_body: self.max_generate_body_bytes,
            max_bulk_body: self.max_bulk_body_bytes,
            https: HttpsPolicy {
                required: self.require_https,
                terminates_tls: self.tls_cert.is_some(),
                trusted_proxies: HttpsPolicy::parse_proxies(&self.trusted_proxies)
                    .map_err(|e| format!("ALTFRAME_TRUSTED_PROXIES: {e}"))?,
            },
            metrics_token: self.metrics_token.clone(),
        })
    }

    /// How long an idempotency key is held by a running request: longer than any request.
    pub fn idempotency_hold(&self) -> Duration {
        Duration::from_secs(self.request_timeout_secs + 60)
    }

    pub fn outbound(&self) -> OutboundConfig {
        OutboundConfig {
            allow_private_networks: self.allow_private_networks,
            timeout: Duration::from_secs(self.fetch_timeout_secs),
            max_redirects: 5,
        }
    }

    pub fn intake(&self) -> IntakeConfig {
        IntakeConfig {
            max_bytes: self.max_image_bytes,
            max_pixels: self.max_image_pixels,
            model_max_side: self.model_image_side,
            decode_budget_bytes: self.decode_budget_bytes,
        }
    }

    pub fn openai(&self) -> Result<OpenAiConfig, String> {
        Ok(OpenAiConfig {
            base_url: self.openai_base_url.clone(),
            api_key: self.openai_api_key.clone(),
            model: self.model.clone(),
            timeout: Duration::from_secs(self.model_timeout_secs),
            max_retries: self.model_retries,
            retry_base: Duration::from_millis(self.model_retry_base_ms),
            prices: PriceTable::default().with_overrides(&self.model_prices)?,
        })
    }
}
