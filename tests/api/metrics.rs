//! GET /metrics: requests by route and status, latency, model calls and tokens, credits moved,
//! queues, webhook deliveries and projection lag, in Prometheus' text format.
use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use altframe::adapters::subscriber::Subscriber;
use altframe::api::HttpConfig;

use crate::bulk::finished_batch;
use crate::on_both_backends;
use crate::support::fake_openai::{Behaviour, FakeOpenAi};
use crate::support::receiver::Receiver;
use crate::support::{spawn_with, spawn_with_model, tiny_image, Backend, Options, TestApp};

on_both_backends!(
    metrics_count_what_happened,
    a_metrics_token_guards_the_endpoint
);

/// `name{a="1",b="2"}` (labels sorted) to value.
fn parse(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let key = match series.split_once('{') {
                Some((name, labels)) => {
                    let mut labels: Vec<&str> = labels.trim_end_matches('}').split(',').collect();
                    labels.sort_unstable();
                    format!("{name}{{{}}}", labels.join(","))
                }
                None => series.to_string(),
            };
            Some((key, value.parse().ok()?))
        })
        .collect()
}

async fn scrape(app: &TestApp) -> BTreeMap<String, f64> {
    app.services
        .projector
        .catch_up_fully(Duration::from_secs(10))
        .await
        .unwrap();
    let response = app
        .http
        .get(format!("{}/metrics", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/plain"));
    parse(&response.text().await.unwrap())
}

fn value(metrics: &BTreeMap<String, f64>, key: &str) -> f64 {
    *metrics.get(key).unwrap_or_else(|| {
        panic!(
            "no series {key} in {:#?}",
            metrics.keys().collect::<Vec<_>>()
        )
    })
}

async fn metrics_count_what_happened(backend: Backend) {
    let fake = FakeOpenAi::start(Behaviour::Answer {
        alt_text: "A white pixel".into(),
    })
    .await;
    let app = spawn_with_model(backend, &fake, Options::default()).await;
    let receiver = Receiver::start(1).await;
    let tiny = tiny_image();
    assert_eq!(app.post_generate(&tiny).await.status(), 200);
    let anonymous = app
        .http
        .get(format!("{}/api/v1/usage", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let batch = app
        // `regenerate`: the second item must not be answered from the first's result.
        .post_bulk(
            &json!({ "images": [tiny, tiny], "webhook_url": receiver.url, "regenerate": true }),
        )
        .await;
    assert_eq!(batch.status(), 202);
    let batch_id = batch.json::<serde_json::Value>().await.unwrap()["batch_id"]
        .as_str()
        .unwrap()
        .to_string();
    finished_batch(&app, &batch_id).await;
    receiver.wait_for(2).await;

    // The delivered attempt is recorded just after the receiver answered.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let metrics = loop {
        let metrics = scrape(&app).await;
        if metrics.get(r#"altframe_webhook_delivery_attempts{outcome="delivered"}"#) == Some(&1.0) {
            break metrics;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "delivery not recorded"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };

    let requests = |method: &str, route: &str, status: u16| {
        value(
            &metrics,
            &format!(
                r#"altframe_http_requests_total{{method="{method}",route="{route}",status="{status}"}}"#
            ),
        )
    };
    assert_eq!(requests("POST", "/api/v1/generate", 200), 1.0);
    assert_eq!(requests("POST", "/api/v1/generate/bulk", 202), 1.0);
    assert_eq!(requests("GET", "/api/v1/usage", 401), 1.0);
    assert_eq!(
        value(
            &metrics,
            r#"altframe_http_request_duration_seconds_count{method="POST",route="/api/v1/generate"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &metrics,
            r#"altframe_model_request_duration_seconds_count{model="gpt-4.1-nano",outcome="ok"}"#
        ),
        3.0
    );
    assert_eq!(
        value(
            &metrics,
            r#"altframe_model_tokens_total{direction="input",model="gpt-4.1-nano"}"#
        ),
        3.0 * 1180.0
    );
    assert_eq!(
        value(&metrics, r#"altframe_credits{movement="reserved"}"#),
        3.0
    );
    assert_eq!(
        value(&metrics, r#"altframe_credits{movement="captured"}"#),
        3.0
    );
    assert_eq!(
        value(&metrics, r#"altframe_queue_depth{queue="bulk_waiting"}"#),
        0.0
    );
    assert_eq!(
        value(
            &metrics,
            r#"altframe_queue_depth{queue="webhooks_pending"}"#
        ),
        0.0
    );
    assert_eq!(
        value(
            &metrics,
            r#"altframe_webhook_delivery_attempts{outcome="failed"}"#
        ),
        1.0
    );
    assert_eq!(
        value(
            &metrics,
            r#"altframe_projection_lag_events{subscriber="usage"}"#
        ),
        0.0
    );
    assert!(metrics.contains_key(r#"altframe_projection_lag_events{subscriber="process_manager"}"#));
}

async fn a_metrics_token_guards_the_endpoint(backend: Backend) {
    let app = spawn_with(
        backend,
        Options {
            http: HttpConfig {
                metrics_token: Some("s3cret".into()),
                ..HttpConfig::default()
            },
            ..Options::default()
        },
    )
    .await;
    let url = format!("{}/metrics", app.base);
    let refused = app.http.get(&url).send().await.unwrap();
    crate::support::error_of(refused, 401).await;
    let wrong = app
        .http
        .get(&url)
        .bearer_auth("guess")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let allowed = app
        .http
        .get(&url)
        .bearer_auth("s3cret")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);
    assert!(allowed.text().await.unwrap().contains("altframe_credits"));
}
