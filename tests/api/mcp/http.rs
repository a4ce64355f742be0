//! `/mcp` on the running service, with rmcp's streamable HTTP client: the key in either of the
//! API's headers, the tools answering as their endpoints do, refusals in the API's words, 401
//! before any MCP, and each tool counted against its endpoint's rate limit.
use std::collections::HashMap;
use std::sync::Arc;

use altframe::adapters::clock::ManualClock;
use axum::http::{HeaderName, HeaderValue};
use chrono::{DateTime, Utc};
use rmcp::model::CallToolRequestParams;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::ServiceExt;
use serde_json::{json, Value};

use super::{answer, call, finished_batch, refusal, tool_names, Client, TOOLS};
use crate::on_both_backends;
use crate::scan::scanning_app;
use crate::support::site::serve_site;
use crate::support::{base64_of, error_of, spawn, spawn_with, Backend, Options, TestApp};

/// How the client presents its key.
enum Key<'a> {
    Bearer(&'a str),
    Header(&'a str),
}

async fn connect(app: &TestApp, key: Key<'_>) -> Client {
    let config = StreamableHttpClientTransportConfig::with_uri(format!("{}/mcp", app.base));
    let config = match key {
        Key::Bearer(key) => config.auth_header(key.to_string()),
        Key::Header(key) => config.custom_headers(HashMap::from([(
            HeaderName::from_static("x-api-key"),
            HeaderValue::from_str(key).unwrap(),
        )])),
    };
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .expect("connect to /mcp")
}

on_both_backends!(
    the_tools_answer_what_their_endpoints_answer,
    a_batch_submitted_with_the_bulk_tool_finishes,
    refusals_are_tool_errors_in_the_apis_words,
    mcp_needs_a_key_before_anything_else,
    each_tool_counts_against_its_endpoints_rate_limit,
    the_scan_tool_reports_a_page_and_submits_its_batch,
);

async fn the_tools_answer_what_their_endpoints_answer(backend: Backend) {
    let app = spawn(backend).await;
    let client = connect(&app, Key::Bearer(&app.key)).await;

    assert_eq!(tool_names(&client).await, TOOLS);
    let tools = client.list_all_tools().await.unwrap();
    let schema = |name: &str| {
        let tool = tools.iter().find(|t| t.name == name).unwrap();
        assert!(
            tool.description.is_some() && tool.output_schema.is_some(),
            "{name}"
        );
        Value::Object(tool.input_schema.as_ref().clone())
    };
    // The endpoints' own request schemas.
    let generate = schema("generate");
    for field in [
        "image_url",
        "image_base64",
        "max_length",
        "fields",
        "languages",
    ] {
        assert!(
            generate["properties"].get(field).is_some(),
            "generate: {field}"
        );
    }
    assert_eq!(generate["properties"]["max_length"]["minimum"], 10);
    let bulk = schema("bulk");
    assert_eq!(bulk["required"], json!(["images"]));
    assert!(bulk["properties"].get("webhook_url").is_some());
    assert_eq!(schema("batch_status")["required"], json!(["batch_id"]));
    assert_eq!(schema("usage")["type"], "object");

    // The same body, to the byte in its text content.
    let result = call(&client, "usage", json!({})).await;
    let over_http = app.get("/api/v1/usage").await.text().await.unwrap();
    assert_eq!(result.content[0].as_text().unwrap().text, over_http);
    let usage = answer(result);
    assert_eq!(usage["credits"]["remaining"], 50);

    let generated = answer(
        call(
            &client,
            "generate",
            json!({ "image_base64": base64_of("sample.jpg"), "keywords": ["tomato seeds"] }),
        )
        .await,
    );
    assert_eq!(generated["status"], "completed");
    assert!(!generated["results"]["alt_text"]
        .as_str()
        .unwrap()
        .is_empty());
    assert_eq!(generated["meta"]["credits_used"], 1);
    assert_eq!(generated["meta"]["credits_remaining"], 49);
    assert_eq!(app.remaining().await, 49, "charged as a request is");

    // History shows the job, and which door it came through.
    let history: Value = app.get("/api/v1/history").await.json().await.unwrap();
    let job = &history["jobs"][0];
    assert_eq!(job["id"], generated["id"]);
    assert_eq!(job["status"], "completed");
    assert_eq!(job["source"], "mcp");
    let usage = answer(call(&client, "usage", json!({})).await);
    assert_eq!(usage["credits"]["used_this_period"], 1);
    assert_eq!(usage["credits"]["remaining"], 49);

    // Validate: the rules free, a suggestion one credit, as the endpoint.
    assert!(schema("validate")["properties"].get("alt_text").is_some());
    let checked = answer(
        call(
            &client,
            "validate",
            json!({ "image_base64": base64_of("sample.jpg"), "alt_text": "IMG_2043.jpg" }),
        )
        .await,
    );
    assert_eq!(checked["findings"][0]["code"], "file_name", "{checked}");
    assert_eq!(checked["score"], 30);
    assert_eq!(checked["meta"]["credits_used"], 0);
    let suggested = answer(
        call(
            &client,
            "validate",
            json!({ "image_base64": base64_of("sample.jpg"), "alt_text": "", "suggest": true }),
        )
        .await,
    );
    assert!(
        suggested["suggestion"]["alt_text"].is_string(),
        "{suggested}"
    );
    assert_eq!(suggested["meta"]["credits_used"], 1);
    assert_eq!(app.remaining().await, 48);
    client.cancel().await.unwrap();
}

async fn a_batch_submitted_with_the_bulk_tool_finishes(backend: Backend) {
    let app = spawn(backend).await;
    let client = connect(&app, Key::Header(&app.key)).await;

    let image = base64_of("tiny-1x1.png");
    let accepted = answer(
        call(
            &client,
            "bulk",
            json!({ "images": [{ "image_base64": image }, { "image_base64": image }],
                    "fields": ["alt_text"] }),
        )
        .await,
    );
    assert_eq!(accepted["total_images"], 2);
    assert_eq!(accepted["credits_reserved"], 2);
    let batch_id = accepted["batch_id"].as_str().unwrap();
    assert_eq!(
        accepted["status_url"],
        format!("/api/v1/batches/{batch_id}").as_str()
    );

    let finished = finished_batch(&client, batch_id).await;
    assert_eq!(finished["status"], "completed", "{finished}");
    assert_eq!(finished["completed"], 2);
    let over_http: Value = app
        .get(&format!("/api/v1/batches/{batch_id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(finished, over_http);
    client.cancel().await.unwrap();
}

async fn refusals_are_tool_errors_in_the_apis_words(backend: Backend) {
    let app = spawn(backend).await;
    let client = connect(&app, Key::Bearer(&app.key)).await;
    let image = base64_of("tiny-1x1.png");

    // The same body refused by the endpoint and by the tool, in the same words.
    for body in [
        json!({ "image_base64": image, "max_length": 5 }),
        json!({ "image_base64": image, "max_length": "long" }),
        json!({ "image_base64": image, "custom_prompt": "Be brief" }),
        json!({ "mode": "standard" }),
    ] {
        let message = error_of(
            app.post_generate(&body).await,
            match body.get("custom_prompt") {
                Some(_) => 403,
                None => 400,
            },
        )
        .await;
        assert_eq!(
            refusal(call(&client, "generate", body.clone()).await),
            message,
            "{body}"
        );
    }
    let message = refusal(
        call(
            &client,
            "generate",
            json!({ "image_base64": image, "max_length": 5 }),
        )
        .await,
    );
    assert!(message.contains("max_length"), "{message}");
    let empty_batch = json!({ "images": [] });
    let message = error_of(app.post_bulk(&empty_batch).await, 400).await;
    assert_eq!(refusal(call(&client, "bulk", empty_batch).await), message);

    let unknown = "00000000-0000-4000-8000-000000000000";
    let message = error_of(app.get(&format!("/api/v1/batches/{unknown}")).await, 404).await;
    assert_eq!(
        refusal(call(&client, "batch_status", json!({ "batch_id": unknown })).await),
        message
    );
    let missing = refusal(call(&client, "batch_status", json!({})).await);
    assert!(missing.starts_with("batch_id is required"), "{missing}");

    // Out of credits: refused as the endpoint refuses, and nothing charged.
    app.spend_down_to(0).await;
    let message = error_of(
        app.post_generate(&json!({ "image_base64": image })).await,
        402,
    )
    .await;
    assert_eq!(
        refusal(call(&client, "generate", json!({ "image_base64": image })).await),
        message
    );
    assert_eq!(app.remaining().await, 0);

    // A tool that does not exist is the protocol's error, not a tool's.
    let unknown_tool = client
        .call_tool(CallToolRequestParams::new("describe_everything"))
        .await;
    assert!(unknown_tool.is_err(), "{unknown_tool:?}");
    client.cancel().await.unwrap();
}

fn initialize() -> Value {
    json!({
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": { "protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": { "name": "curl", "version": "1" } }
    })
}

async fn post_mcp(app: &TestApp, key: Option<&str>) -> reqwest::Response {
    let mut request = app
        .http
        .post(format!("{}/mcp", app.base))
        .header("accept", "application/json, text/event-stream")
        .json(&initialize());
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    request.send().await.unwrap()
}

async fn mcp_needs_a_key_before_anything_else(backend: Backend) {
    let app = spawn(backend).await;
    let missing = error_of(post_mcp(&app, None).await, 401).await;
    assert!(missing.starts_with("Missing API key"), "{missing}");
    let wrong = error_of(post_mcp(&app, Some("af_live_wrong")).await, 401).await;
    assert_eq!(wrong, "Invalid API key");

    // With a key, one request is one plain JSON answer, and no session is kept.
    let answered = post_mcp(&app, Some(&app.key)).await;
    assert_eq!(answered.status(), 200);
    assert!(!answered.headers().contains_key("mcp-session-id"));
    assert!(answered.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    let body: Value = answered.json().await.unwrap();
    assert_eq!(body["result"]["serverInfo"]["name"], "altframe");
    assert!(body["result"]["capabilities"]["tools"].is_object());

    // rmcp's own refusals get the API's error shape, in rmcp's words.
    let not_acceptable = app
        .http
        .post(format!("{}/mcp", app.base))
        .header("x-api-key", &app.key)
        .header("accept", "text/html")
        .json(&initialize())
        .send()
        .await
        .unwrap();
    let message = error_of(not_acceptable, 406).await;
    assert!(message.starts_with("Not Acceptable"), "{message}");
}

/// 12:00:10 UTC: ten seconds into a one-minute window.
fn ten_seconds_into_a_window() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-02T12:00:10Z")
        .unwrap()
        .with_timezone(&Utc)
}

async fn each_tool_counts_against_its_endpoints_rate_limit(backend: Backend) {
    let clock = ManualClock::at(ten_seconds_into_a_window());
    let app = spawn_with(
        backend,
        Options {
            clock: Arc::new(clock.clone()),
            rate_limits: "generate=1,usage=2".parse().unwrap(),
            ..Options::default()
        },
    )
    .await;
    let client = connect(&app, Key::Bearer(&app.key)).await;
    let image = json!({ "image_base64": base64_of("tiny-1x1.png") });

    answer(call(&client, "generate", image.clone()).await);
    let remaining = app.remaining().await;
    let refused = refusal(call(&client, "generate", image.clone()).await);
    assert_eq!(
        refused,
        "Rate limit exceeded: 1 requests per minute to this endpoint. Retry after 50 seconds."
    );
    assert_eq!(app.remaining().await, remaining, "nothing charged");

    // The tool and its endpoint share one count per key.
    answer(call(&client, "usage", json!({})).await);
    assert_eq!(app.get("/api/v1/usage").await.status(), 200);
    let message = refusal(call(&client, "usage", json!({})).await);
    assert!(
        message.starts_with("Rate limit exceeded: 2 requests"),
        "{message}"
    );
    error_of(app.get("/api/v1/usage").await, 429).await;

    // The next window starts afresh.
    clock.set(ten_seconds_into_a_window() + chrono::Duration::seconds(50));
    answer(call(&client, "generate", image).await);
    client.cancel().await.unwrap();
}

async fn the_scan_tool_reports_a_page_and_submits_its_batch(backend: Backend) {
    let site = serve_site().await;
    let app = scanning_app(
        backend,
        altframe_domain::plan::Plan::Free,
        Options::default(),
    )
    .await;
    let client = connect(&app, Key::Bearer(&app.key)).await;
    let page = site.url("/shop/boots/index.html");

    // The report is the endpoint's, field for field, and free.
    let report = answer(call(&client, "scan", json!({ "page_url": page })).await);
    let over_http: Value = app
        .post_scan(&json!({ "page_url": page }))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(report, over_http);
    assert_eq!(report["summary"]["need_alt_text"], 4);
    assert_eq!(app.remaining().await, 50);

    // With generate, the images that need alt text go as one batch, reserved up front.
    let submitted = answer(
        call(
            &client,
            "scan",
            json!({ "page_url": page, "generate": true }),
        )
        .await,
    );
    let batch_id = submitted["batch"]["batch_id"].as_str().unwrap().to_string();
    assert_eq!(submitted["batch"]["credits_reserved"], 4);
    assert_eq!(app.remaining().await, 46);
    let status = finished_batch(&client, &batch_id).await;
    assert_eq!(status["completed"], 4, "{status}");

    // A page it may not fetch is refused in the endpoint's words.
    let refused = refusal(
        call(
            &client,
            "scan",
            json!({ "page_url": site.url("/go/localhost") }),
        )
        .await,
    );
    let over_http = error_of(
        app.post_scan(&json!({ "page_url": site.url("/go/localhost") }))
            .await,
        400,
    )
    .await;
    assert_eq!(refused, over_http);
    client.cancel().await.unwrap();
}
