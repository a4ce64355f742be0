//! Prometheus metrics at GET /metrics.
//!
//! Two kinds. What this process did (requests, their latency, model calls and tokens) is
//! counted in memory: sum it across processes. What the shared store holds (credits moved,
//! queue depth, webhook attempts, projection lag) is read from the database at each scrape:
//! every process reports the same value, so take one (`max`), not the sum.
use std::time::Duration;

use prometheus::{
    Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts, Registry, TextEncoder,
};

use crate::adapters::queue::QueueDepths;

/// Request latency buckets, in seconds: from a cached read to a slow model call.
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0,
];

pub struct Metrics {
    registry: Registry,
    http_requests: IntCounterVec,
    http_duration: HistogramVec,
    model_duration: HistogramVec,
    model_tokens: IntCounterVec,
    credits: IntGaugeVec,
    queue_depth: IntGaugeVec,
    webhook_attempts: IntGaugeVec,
    projection_lag: IntGaugeVec,
}

impl Metrics {
    pub fn new() -> Metrics {
        let registry =
            Registry::new_custom(Some("altframe".into()), None).unwrap_or_else(|_| Registry::new());
        let http_requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests answered, by route and status",
            ),
            &["method", "route", "status"],
        );
        let http_duration = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "Time from request to response, by route",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["method", "route"],
        );
        let model_duration = HistogramVec::new(
            HistogramOpts::new(
                "model_request_duration_seconds",
                "Time of one vision model call, retries included",
            )
            .buckets(LATENCY_BUCKETS.to_vec()),
            &["model", "outcome"],
        );
        let model_tokens = IntCounterVec::new(
            Opts::new("model_tokens_total", "Tokens used by the vision model"),
            &["model", "direction"],
        );
        let credits = IntGaugeVec::new(
            Opts::new(
                "credits",
                "Credits reserved, captured and released by all accounts since the log began (from the store)",
            ),
            &["movement"],
        );
        let queue_depth = IntGaugeVec::new(
            Opts::new(
                "queue_depth",
                "Work waiting in the shared queues (from the store)",
            ),
            &["queue"],
        );
        let webhook_attempts = IntGaugeVec::new(
            Opts::new(
                "webhook_delivery_attempts",
                "Webhook delivery attempts so far, by outcome (from the store)",
            ),
            &["outcome"],
        );
        let projection_lag = IntGaugeVec::new(
            Opts::new(
                "projection_lag_events",
                "Committed events a read model or the process manager has yet to apply",
            ),
            &["subscriber"],
        );
        let metrics = Metrics {
            registry,
            http_requests: http_requests.expect("valid metric"),
            http_duration: http_duration.expect("valid metric"),
            model_duration: model_duration.expect("valid metric"),
            model_tokens: model_tokens.expect("valid metric"),
            credits: credits.expect("valid metric"),
            queue_depth: queue_depth.expect("valid metric"),
            webhook_attempts: webhook_attempts.expect("valid metric"),
            projection_lag: projection_lag.expect("valid metric"),
        };
        metrics.register_all();
        metrics
    }

    fn register_all(&self) {
        let collectors: [Box<dyn prometheus::core::Collector>; 8] = [
            Box::new(self.http_requests.clone()),
            Box::new(self.http_duration.clone()),
            Box::new(self.model_duration.clone()),
            Box::new(self.model_tokens.clone()),
            Box::new(self.credits.clone()),
            Box::new(self.queue_depth.clone()),
            Box::new(self.webhook_attempts.clone()),
            Box::new(self.projection_lag.clone()),
        ];
        for collector in collectors {
            // Names are fixed above and distinct; a failure here is a programming error.
            self.registry
                .register(collector)
                .expect("metric names are unique");
        }
    }

    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.http_requests
            .with_label_values(&[method, route, &status.to_string()])
            .inc();
        self.http_duration
            .with_label_values(&[method, route])
            .observe(elapsed.as_secs_f64());
    }

    pub fn observe_model_call(&self, model: &str, ok: bool, elapsed: Duration, tokens: (u32, u32)) {
        let outcome = if ok { "ok" } else { "error" };
        self.model_duration
            .with_label_values(&[model, outcome])
            .observe(elapsed.as_secs_f64());
        self.model_tokens
            .with_label_values(&[model, "input"])
            .inc_by(u64::from(tokens.0));
        self.model_tokens
            .with_label_values(&[model, "output"])
            .inc_by(u64::from(tokens.1));
    }

    /// Renders everything in Prometheus' text format, with the store's figures as read for
    /// this scrape.
    pub fn render(&self, store: &StoreFigures) -> Result<String, prometheus::Error> {
        for movement in ["reserved", "captured", "released"] {
            let total = store
                .credits
                .iter()
                .find(|(m, _)| m == movement)
                .map_or(0, |(_, c)| *c);
            self.credits.with_label_values(&[movement]).set(total);
        }
        let depths = &store.queue_depths;
        for (queue, depth) in [
            ("bulk_waiting", depths.bulk_waiting),
            ("bulk_running", depths.bulk_running),
            ("bulk_retry_wait", depths.bulk_retry_wait),
            ("webhooks_pending", depths.webhooks_pending),
        ] {
            self.queue_depth.with_label_values(&[queue]).set(depth);
        }
        self.webhook_attempts
            .with_label_values(&["delivered"])
            .set(store.webhooks_delivered);
        self.webhook_attempts
            .with_label_values(&["failed"])
            .set(store.webhooks_failed);
        for (name, lag) in &store.subscriber_lags {
            self.projection_lag.with_label_values(&[name]).set(*lag);
        }
        let mut text = Vec::new();
        TextEncoder::new().encode(&self.registry.gather(), &mut text)?;
        Ok(String::from_utf8_lossy(&text).into_owned())
    }
}

/// What the shared store holds, read once per scrape, before any gauge is set, so that two
/// scrapes at once never see a gauge half updated.
#[derive(Debug, Clone, Default)]
pub struct StoreFigures {
    /// Credits by movement (reserved, captured, released) since the log began.
    pub credits: Vec<(String, i64)>,
    pub queue_depths: QueueDepths,
    pub webhooks_delivered: i64,
    pub webhooks_failed: i64,
    /// Events each subscriber (read model or process manager) has yet to apply.
    pub subscriber_lags: Vec<(&'static str, i64)>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}
