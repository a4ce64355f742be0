//! Property tests of the POST bodies: whatever JSON (or not-JSON) arrives, the answer is a
//! success or a 4xx with exactly `{"error": "..."}`; never a 5xx, a hang or a dropped
//! connection. Cases are generated afresh each run (no corpus); `PROPTEST_CASES` sets how many.
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Value};

use altframe::adapters::rate_limits::RateLimitTable;
use altframe_domain::plan::Plan;

use crate::on_both_backends;
use crate::support::site::serve_site;
use crate::support::{base64_of, spawn_with, Backend, Options, TestApp};

on_both_backends!(
    generate_bodies_never_break_the_server,
    bulk_bodies_never_break_the_server,
    scan_bodies_never_break_the_server
);

/// Strings that are never URLs a test could reach: no scheme separator, so nothing is fetched
/// (beside a few fixed URLs that are refused before any connection).
fn unfetchable_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[^:]{0,40}",
        Just("ftp://example.com/a.png".to_string()),
        Just("http://127.0.0.1:9/private.png".to_string()),
        Just("http://[::1]:9/x.jpg".to_string()),
        "[a-z]{1,5}".prop_map(|s| format!("{s}:nothing")),
        // Control characters, NUL among them (Postgres cannot store it).
        "[\\x00-\\x1f]{1,4}",
    ]
}

fn any_scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        unfetchable_text().prop_map(Value::from),
        "\\PC{0,300}".prop_map(Value::from),
        (0usize..5_000).prop_map(|n| Value::from("w".repeat(n))),
    ]
}

fn any_json() -> impl Strategy<Value = Value> {
    any_scalar().prop_recursive(4, 64, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const GENERATE_FIELDS: [&str; 13] = [
    "image_url",
    "image_base64",
    "mode",
    "language",
    "keywords",
    "max_length",
    "page_url",
    "page_context",
    "product_name",
    "product_sku",
    "product_attributes",
    "fields",
    "custom_prompt",
];

/// A value that might be right for `field`, or anything at all.
fn value_for(field: &'static str, image: Value) -> BoxedStrategy<Value> {
    let plausible: BoxedStrategy<Value> = match field {
        "image_base64" => {
            prop_oneof![Just(image), "[A-Za-z0-9+/=]{0,64}".prop_map(Value::from)].boxed()
        }
        "image_url" | "page_url" | "webhook_url" => {
            unfetchable_text().prop_map(Value::from).boxed()
        }
        "mode" => prop_oneof![
            Just(json!("standard")),
            Just(json!("ecommerce")),
            Just(json!("decorative")),
            Just(json!("seo"))
        ]
        .boxed(),
        "language" => prop_oneof![
            Just(json!("en")),
            Just(json!("de")),
            "[a-z]{0,4}".prop_map(Value::from)
        ]
        .boxed(),
        "max_length" => (-10i64..2_000).prop_map(Value::from).boxed(),
        "generate" => any::<bool>().prop_map(Value::from).boxed(),
        "fields" => prop::collection::vec(
            prop_oneof![
                Just("alt_text"),
                Just("title"),
                Just("caption"),
                Just("og_description"),
                Just("x")
            ],
            0..6,
        )
        .prop_map(|v| json!(v))
        .boxed(),
        "keywords" => prop::collection::vec("\\PC{0,60}", 0..25)
            .prop_map(|v| json!(v))
            .boxed(),
        "product_attributes" => prop::collection::btree_map("\\PC{0,10}", "\\PC{0,10}", 0..35)
            .prop_map(|m| json!(m))
            .boxed(),
        _ => "\\PC{0,80}".prop_map(Value::from).boxed(),
    };
    prop_oneof![3 => plausible, 1 => any_json()].boxed()
}

/// Objects made of the real field names (each present or not) and a stray key now and then.
fn object_of(fields: &'static [&'static str], image: Value) -> impl Strategy<Value = Value> {
    let parts: Vec<_> = fields
        .iter()
        .map(|&f| prop::option::of(value_for(f, image.clone())).prop_map(move |v| (f, v)))
        .collect();
    (parts, prop::option::of(("[a-z]{1,8}", any_json()))).prop_map(|(parts, stray)| {
        let mut object = Map::new();
        for (field, value) in parts {
            if let Some(value) = value {
                object.insert(field.to_string(), value);
            }
        }
        if let Some((key, value)) = stray {
            object.insert(key, value);
        }
        Value::Object(object)
    })
}

/// A valid request with one field changed to something else, or taken out.
fn nearly_valid(
    valid: Value,
    fields: &'static [&'static str],
    image: Value,
) -> impl Strategy<Value = Value> {
    prop::sample::select(fields.to_vec()).prop_flat_map(move |field| {
        let valid = valid.clone();
        prop::option::of(value_for(field, image.clone())).prop_map(move |value| {
            let mut body = valid.clone();
            match value {
                Some(value) => body[field] = value,
                None => {
                    body.as_object_mut().map(|o| o.remove(field));
                }
            }
            body
        })
    })
}

fn generate_body(image: Value) -> impl Strategy<Value = Value> {
    let valid = json!({ "image_base64": image.clone(), "fields": ["alt_text"] });
    prop_oneof![
        4 => object_of(&GENERATE_FIELDS, image.clone()),
        4 => nearly_valid(valid, &GENERATE_FIELDS, image),
        1 => any_json(),
    ]
}

const BULK_IMAGE_FIELDS: [&str; 7] = [
    "image_url",
    "image_base64",
    "page_url",
    "page_context",
    "product_name",
    "product_sku",
    "product_attributes",
];
const BULK_FIELDS: [&str; 4] = ["mode", "language", "keywords", "fields"];

fn bulk_body(image: Value) -> impl Strategy<Value = Value> {
    let images = prop_oneof![
        4 => prop::collection::vec(object_of(&BULK_IMAGE_FIELDS, image.clone()), 0..4).prop_map(Value::Array),
        1 => any_json(),
    ];
    let batch = (
        prop::option::of(images),
        object_of(&BULK_FIELDS, image.clone()),
        prop::option::of(unfetchable_text()),
    )
        .prop_map(|(images, rest, webhook)| {
            let mut object = rest.as_object().cloned().unwrap_or_default();
            if let Some(images) = images {
                object.insert("images".into(), images);
            }
            if let Some(webhook) = webhook {
                object.insert("webhook_url".into(), webhook.into());
            }
            Value::Object(object)
        });
    let valid = json!({ "images": [{ "image_base64": image.clone() }], "fields": ["alt_text"] });
    prop_oneof![
        4 => batch,
        2 => nearly_valid(valid.clone(), &BULK_FIELDS, image.clone()),
        2 => nearly_valid(valid, &["images", "webhook_url"], image),
        1 => any_json(),
    ]
}

const SCAN_FIELDS: [&str; 7] = [
    "page_url",
    "generate",
    "mode",
    "language",
    "keywords",
    "fields",
    "webhook_url",
];

/// Bodies around a scan of `page` (a page that can be fetched), which may submit a batch.
fn scan_body(page: String) -> impl Strategy<Value = Value> {
    let valid = json!({ "page_url": page, "generate": false });
    prop_oneof![
        4 => object_of(&SCAN_FIELDS, Value::Null),
        4 => nearly_valid(valid, &SCAN_FIELDS, Value::Null),
        1 => any_json(),
    ]
}

/// Sends `body` and checks the answer's shape. Returns whether the request succeeded.
async fn check(app: &TestApp, path: &str, body: Vec<u8>) -> Result<bool, TestCaseError> {
    let response = app
        .http
        .post(format!("{}{path}", app.base))
        .header("x-api-key", &app.key)
        .header("content-type", "application/json")
        .timeout(std::time::Duration::from_secs(30))
        .body(body)
        .send()
        .await
        .map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    prop_assert!(status < 500, "{status}: {text}");
    let value: Value = serde_json::from_str(&text)
        .map_err(|_| TestCaseError::fail(format!("{status}: not JSON: {text}")))?;
    if status >= 400 {
        let object = value.as_object();
        prop_assert!(
            object.is_some_and(|o| o.len() == 1 && o["error"].is_string()),
            "{status}: {text}"
        );
        return Ok(false);
    }
    prop_assert!(
        value["id"].is_string() || value["batch_id"].is_string() || value["page_url"].is_string(),
        "{text}"
    );
    Ok(true)
}

/// A service that refuses every private address, but for `allowed_hosts`.
async fn fuzz_app(backend: Backend, allowed_hosts: &'static str) -> TestApp {
    spawn_with(
        backend,
        Options {
            plan: Plan::Business,
            allow_private_networks: false,
            rate_limits: "generate=1000000,bulk=1000000,scan=1000000"
                .parse::<RateLimitTable>()
                .unwrap(),
            settings: std::sync::Arc::new(move |settings| {
                settings.outbound.allowed_hosts = allowed_hosts.parse().expect("allowed hosts");
            }),
            ..Options::default()
        },
    )
    .await
}

fn runner() -> TestRunner {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(200);
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

/// Runs the property with the async check on the test's runtime.
async fn run<S>(app: &TestApp, path: &'static str, strategy: S)
where
    S: Strategy<Value = Vec<u8>>,
{
    let handle = tokio::runtime::Handle::current();
    let successes = std::sync::atomic::AtomicUsize::new(0);
    let result = tokio::task::block_in_place(|| {
        runner().run(&strategy, |body| {
            if handle.block_on(check(app, path, body))? {
                successes.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("{path}: {e}");
    }
    // The generator must reach the paths past validation, not only the refusals.
    assert!(
        successes.into_inner() > 0,
        "{path}: no generated request succeeded"
    );
}

/// JSON bodies, and now and then bytes that are not JSON at all.
fn as_bytes(json: impl Strategy<Value = Value>) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        9 => json.prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..200),
    ]
}

async fn generate_bodies_never_break_the_server(backend: Backend) {
    let app = fuzz_app(backend, "").await;
    let image = Value::from(base64_of("tiny-1x1.png"));
    run(&app, "/api/v1/generate", as_bytes(generate_body(image))).await;
}

async fn bulk_bodies_never_break_the_server(backend: Backend) {
    let app = fuzz_app(backend, "").await;
    let image = Value::from(base64_of("tiny-1x1.png"));
    run(&app, "/api/v1/generate/bulk", as_bytes(bulk_body(image))).await;
}

async fn scan_bodies_never_break_the_server(backend: Backend) {
    // The scanned page is on the test's own site: 127.0.0.1 is the one private address allowed.
    let app = fuzz_app(backend, "127.0.0.1").await;
    let site = serve_site().await;
    let page = site.url("/shop/boots/index.html");
    run(&app, "/api/v1/scan", as_bytes(scan_body(page))).await;
}
