//! The OpenAPI 3.1 description of the API, built from the code: request and response bodies
//! are the handlers' own types (schemars), field restrictions come from the domain's lists and
//! limits, and the operations table below names, for each route, what it takes and every
//! status it can answer. `altframe openapi` prints it; `openapi.yaml` at the repository root
//! is that output, checked by a test.
mod docs_page;
mod examples;
pub mod schemas;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, SchemaGenerator};
use serde_json::{json, Map, Value};

use crate::api::{ErrorBody, IDEMPOTENT_REPLAYED, JOB_STATUSES};

pub use docs_page::render as docs_page;

/// Where an operation's answers come from, for the statuses it documents.
#[derive(Clone, Copy, PartialEq)]
enum Access {
    /// Needs no key: health, metrics, the spec itself.
    Open,
    /// Needs an API key; counted against the key's rate limit.
    Keyed,
}

struct Operation {
    method: &'static str,
    path: &'static str,
    id: &'static str,
    tag: &'static str,
    summary: &'static str,
    description: &'static str,
    access: Access,
    parameters: Vec<Value>,
    request: Option<Value>,
    /// The success status, its description, content type and schema.
    success: (u16, &'static str, &'static str, Value),
    /// Error statuses beyond those every operation has (431, 500, 504, and for a keyed one
    /// 401, 403 and 429).
    errors: &'static [u16],
    /// Accepts an `Idempotency-Key`.
    idempotent: bool,
    example_request: Option<Value>,
    example_response: Option<Value>,
}

/// What each error status means, as the contract words it.
fn error_description(status: u16) -> &'static str {
    match status {
        400 => "Missing or invalid parameters; the message names the field and what is wrong.",
        401 => "Invalid, missing or revoked API key.",
        402 => "Not enough credits and overage billing is off. Nothing was charged.",
        403 => "The plan does not include this (custom_prompt below tier 2), or HTTPS is required.",
        404 => "The resource does not exist or does not belong to this key's account.",
        409 => "A request with this Idempotency-Key is still running, or the batch cannot be redelivered yet.",
        413 => "The request body is larger than this endpoint accepts.",
        422 => "This Idempotency-Key was already used with a different request.",
        429 => "Rate limit exceeded for this endpoint. Retry after the Retry-After seconds.",
        431 => "The request headers are too large.",
        500 => "An unexpected error on our side. Retry with exponential backoff.",
        502 => "The vision model failed after retries. Nothing was charged.",
        503 => "Not ready: the database is unreachable or migrations are missing.",
        504 => "The request took longer than the server's deadline and was abandoned.",
        _ => "Error.",
    }
}

fn schema_ref<T: JsonSchema>(generator: &mut SchemaGenerator) -> Value {
    generator.subschema_for::<T>().to_value()
}

fn operations(g: &mut SchemaGenerator) -> Vec<Operation> {
    let batch_id = json!({ "$ref": "#/components/parameters/BatchId" });
    vec![
        Operation {
            method: "post",
            path: "/api/v1/generate",
            id: "generate",
            tag: "Generation",
            summary: "Generate alt text, title, caption and OG description for one image",
            description: "Processed synchronously. Costs 1 credit for JPEG, PNG, WebP and GIF, 2 for AVIF, HEIC and TIFF, +1 for each language of `languages` beyond the first (charged only when delivered). Nothing is charged for a failed request.",
            access: Access::Keyed,
            parameters: vec![json!({ "$ref": "#/components/parameters/IdempotencyKey" })],
            request: Some(schema_ref::<crate::api::GenerateRequest>(g)),
            success: (200, "The generated text.", "application/json", schema_ref::<crate::api::GenerateResponse>(g)),
            errors: &[400, 402, 409, 413, 422, 502],
            idempotent: true,
            example_request: Some(examples::generate_request()),
            example_response: Some(examples::generate_response()),
        },
        Operation {
            method: "post",
            path: "/api/v1/generate/bulk",
            id: "generateBulk",
            tag: "Generation",
            summary: "Submit up to 100 images for asynchronous processing",
            description: "Credits for every image are reserved up front (all or none). Poll the batch, or give a webhook_url to receive a signed batch.completed event.",
            access: Access::Keyed,
            parameters: vec![json!({ "$ref": "#/components/parameters/IdempotencyKey" })],
            request: Some(schema_ref::<crate::api::BulkRequest>(g)),
            success: (202, "The batch was accepted.", "application/json", schema_ref::<crate::api::BulkResponse>(g)),
            errors: &[400, 402, 409, 413, 422],
            idempotent: true,
            example_request: Some(examples::bulk_request()),
            example_response: Some(examples::bulk_response()),
        },
        Operation {
            method: "post",
            path: "/api/v1/validate",
            id: "validate",
            tag: "Checking",
            summary: "Check an image's existing alt text (our addition)",
            description: "Findings (missing, too long, a file name, a generic word, a redundant prefix, keyword stuffing, text on a decorative image, another language than the page's) and a score from 0 to 100, free. `suggest` (a replacement) and `check_match` (the model's verdict on the text; needs a vision model) run one generation between them, charged like a generate of the image only when it completes, and recorded as a job in history with source `validate`.",
            access: Access::Keyed,
            parameters: vec![json!({ "$ref": "#/components/parameters/IdempotencyKey" })],
            request: Some(schema_ref::<crate::api::ValidateRequest>(g)),
            success: (200, "The findings, the score, and what the model said when asked.", "application/json", schema_ref::<crate::api::ValidateResponse>(g)),
            errors: &[400, 402, 409, 413, 422, 502],
            idempotent: true,
            example_request: Some(examples::validate_request()),
            example_response: Some(examples::validate_response()),
        },
        Operation {
            method: "post",
            path: "/api/v1/scan",
            id: "scanPage",
            tag: "Generation",
            summary: "List a page's images with their alt text checked; optionally submit those that need it",
            description: "Our addition. The page is fetched like an image URL (public addresses only, the same timeout and redirects, at most 5 MiB of HTML) and every <img>, <picture> and inline background image is listed with its resolved URL, its alt text, the role the markup gives it and the rule-based findings. Free. With generate: true, the images that need alt text (not decorative, scored below 50; each address once, at most 100) are submitted as one batch under bulk's rules: credits reserved up front (402 and no batch if short), webhook_url honoured.",
            access: Access::Keyed,
            parameters: vec![json!({ "$ref": "#/components/parameters/IdempotencyKey" })],
            request: Some(schema_ref::<crate::api::ScanRequest>(g)),
            success: (200, "The page's images, and the batch when one was submitted.", "application/json", schema_ref::<crate::api::ScanResponse>(g)),
            errors: &[400, 402, 409, 413, 422],
            idempotent: true,
            example_request: Some(examples::scan_request()),
            example_response: Some(examples::scan_response()),
        },
        Operation {
            method: "get",
            path: "/api/v1/batches/{batch_id}",
            id: "getBatch",
            tag: "Batches",
            summary: "A batch's status and its results so far",
            description: "Results and errors are listed in submission order.",
            access: Access::Keyed,
            parameters: vec![batch_id.clone()],
            request: None,
            success: (200, "The batch.", "application/json", schema_ref::<crate::usecases::batch_report::BatchReport>(g)),
            errors: &[404],
            idempotent: false,
            example_request: None,
            example_response: Some(examples::batch_response()),
        },
        Operation {
            method: "get",
            path: "/api/v1/batches/{batch_id}/webhook",
            id: "getBatchWebhook",
            tag: "Batches",
            summary: "Every delivery attempt of a batch's webhook",
            description: "Each attempt with its HTTP status or error, and when the next retry is due.",
            access: Access::Keyed,
            parameters: vec![batch_id.clone()],
            request: None,
            success: (200, "The delivery attempts.", "application/json", schema_ref::<crate::api::WebhookDeliveries>(g)),
            errors: &[404],
            idempotent: false,
            example_request: None,
            example_response: Some(examples::webhook_deliveries()),
        },
        Operation {
            method: "post",
            path: "/api/v1/batches/{batch_id}/webhook/redeliver",
            id: "redeliverBatchWebhook",
            tag: "Batches",
            summary: "Send a finished batch's webhook again",
            description: "The redelivery carries the same webhook-id, so a receiver that deduplicates sees one event.",
            access: Access::Keyed,
            parameters: vec![batch_id],
            request: None,
            success: (202, "The redelivery is scheduled.", "application/json", schema_ref::<crate::api::RedeliveryAccepted>(g)),
            errors: &[400, 404, 409],
            idempotent: false,
            example_request: None,
            example_response: Some(examples::redelivery()),
        },
        Operation {
            method: "get",
            path: "/api/v1/history",
            id: "listHistory",
            tag: "Account",
            summary: "Past generations, newest first",
            description: "Both single requests and batch items; filter by status and page with limit and offset.",
            access: Access::Keyed,
            parameters: vec![
                json!({ "$ref": "#/components/parameters/Limit" }),
                json!({ "$ref": "#/components/parameters/Offset" }),
                json!({ "$ref": "#/components/parameters/Status" }),
            ],
            request: None,
            success: (200, "A page of history.", "application/json", schema_ref::<crate::api::HistoryResponse>(g)),
            errors: &[400],
            idempotent: false,
            example_request: None,
            example_response: Some(examples::history_response()),
        },
        Operation {
            method: "get",
            path: "/api/v1/usage",
            id: "getUsage",
            tag: "Account",
            summary: "Credits of the current billing period",
            description: "Allocation, remaining credits, rollover and overage.",
            access: Access::Keyed,
            parameters: vec![],
            request: None,
            success: (200, "The account's usage.", "application/json", schema_ref::<crate::api::UsageResponse>(g)),
            errors: &[],
            idempotent: false,
            example_request: None,
            example_response: Some(examples::usage_response()),
        },
        Operation {
            method: "get",
            path: "/healthz",
            id: "healthz",
            tag: "Operations",
            summary: "The process is up",
            description: "Needs no key; answers over plain HTTP even when HTTPS is required.",
            access: Access::Open,
            parameters: vec![],
            request: None,
            success: (200, "Up.", "application/json", json!({ "$ref": "#/components/schemas/Health" })),
            errors: &[],
            idempotent: false,
            example_request: None,
            example_response: Some(json!({ "status": "ok" })),
        },
        Operation {
            method: "get",
            path: "/readyz",
            id: "readyz",
            tag: "Operations",
            summary: "The process can serve: database reachable, migrations applied",
            description: "Needs no key; answers over plain HTTP even when HTTPS is required.",
            access: Access::Open,
            parameters: vec![],
            request: None,
            success: (200, "Ready.", "application/json", json!({ "$ref": "#/components/schemas/Health" })),
            errors: &[503],
            idempotent: false,
            example_request: None,
            example_response: Some(json!({ "status": "ready" })),
        },
        Operation {
            method: "get",
            path: "/metrics",
            id: "metrics",
            tag: "Operations",
            summary: "Prometheus metrics",
            description: "In Prometheus' text format. When the server has a metrics token, only for Authorization: Bearer <token>.",
            access: Access::Open,
            parameters: vec![],
            request: None,
            success: (200, "The metrics.", "text/plain", json!({ "type": "string" })),
            errors: &[401],
            idempotent: false,
            example_request: None,
            example_response: Some(examples::metrics()),
        },
        Operation {
            method: "get",
            path: "/openapi.yaml",
            id: "openapi",
            tag: "Operations",
            summary: "This document",
            description: "The OpenAPI 3.1 description of the API, in YAML.",
            access: Access::Open,
            parameters: vec![],
            request: None,
            success: (200, "The spec.", "application/yaml", json!({ "type": "object" })),
            errors: &[],
            idempotent: false,
            example_request: None,
            example_response: Some(json!({ "openapi": "3.1.0", "info": { "title": "AltFrame API" } })),
        },
        Operation {
            method: "get",
            path: "/docs",
            id: "docs",
            tag: "Operations",
            summary: "Human-readable API documentation",
            description: "An HTML page rendered from this document.",
            access: Access::Open,
            parameters: vec![],
            request: None,
            success: (200, "The page.", "text/html", json!({ "type": "string" })),
            errors: &[],
            idempotent: false,
            example_request: None,
            example_response: Some(json!("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>AltFrame API</title>…")),
        },
    ]
}

fn rate_limit_headers() -> Value {
    json!({
        "X-RateLimit-Limit": { "$ref": "#/components/headers/X-RateLimit-Limit" },
        "X-RateLimit-Remaining": { "$ref": "#/components/headers/X-RateLimit-Remaining" },
        "X-RateLimit-Reset": { "$ref": "#/components/headers/X-RateLimit-Reset" },
        "x-request-id": { "$ref": "#/components/headers/x-request-id" },
    })
}

fn operation_object(op: &Operation) -> Value {
    let (status, description, content_type, schema) = &op.success;
    let mut success_content = json!({ "schema": schema });
    if let Some(example) = &op.example_response {
        success_content["example"] = example.clone();
    }
    let mut success_headers = match op.access {
        Access::Keyed => rate_limit_headers(),
        Access::Open => json!({ "x-request-id": { "$ref": "#/components/headers/x-request-id" } }),
    };
    if op.idempotent {
        success_headers[IDEMPOTENT_REPLAYED] =
            json!({ "$ref": "#/components/headers/Idempotent-Replayed" });
    }
    let mut responses = Map::new();
    responses.insert(
        status.to_string(),
        json!({
            "description": description,
            "headers": success_headers,
            "content": { *content_type: success_content },
        }),
    );
    // Any request can meet the header bound, the deadline or a failure of ours; every one but
    // the health probes can be refused as plain HTTP when HTTPS is required.
    let mut errors: Vec<u16> = op.errors.to_vec();
    errors.extend([431, 500, 504]);
    if op.access == Access::Keyed {
        errors.extend([401, 403, 429]);
    } else if !matches!(op.path, "/healthz" | "/readyz") {
        errors.push(403);
    }
    errors.sort_unstable();
    errors.dedup();
    for status in errors {
        responses.insert(
            status.to_string(),
            json!({ "$ref": format!("#/components/responses/{status}") }),
        );
    }
    let mut object = json!({
        "operationId": op.id,
        "tags": [op.tag],
        "summary": op.summary,
        "description": op.description,
        "responses": responses,
    });
    if !op.parameters.is_empty() {
        object["parameters"] = Value::Array(op.parameters.clone());
    }
    if let Some(schema) = &op.request {
        let mut content = json!({ "schema": schema });
        if let Some(example) = &op.example_request {
            content["example"] = example.clone();
        }
        object["requestBody"] = json!({
            "required": true,
            "content": { "application/json": content },
        });
    }
    object["security"] = match op.access {
        Access::Keyed => json!([{ "ApiKeyHeader": [] }, { "BearerAuth": [] }]),
        Access::Open => json!([]),
    };
    object
}

fn error_responses(error_schema: &Value) -> Value {
    let mut responses = Map::new();
    for status in [
        400, 401, 402, 403, 404, 409, 413, 422, 429, 431, 500, 502, 503, 504,
    ] {
        let mut headers =
            json!({ "x-request-id": { "$ref": "#/components/headers/x-request-id" } });
        if status == 429 {
            headers = rate_limit_headers();
            headers["Retry-After"] = json!({ "$ref": "#/components/headers/Retry-After" });
        }
        if status == 409 {
            headers["Retry-After"] = json!({ "$ref": "#/components/headers/Retry-After" });
        }
        responses.insert(
            status.to_string(),
            json!({
                "description": error_description(status),
                "headers": headers,
                "content": { "application/json": { "schema": error_schema } },
            }),
        );
    }
    Value::Object(responses)
}

fn parameters() -> Value {
    json!({
        "IdempotencyKey": {
            "name": "Idempotency-Key",
            "in": "header",
            "required": false,
            "description": "Makes a retry return the first answer (same id, no second charge) for 24 hours. A different request with the same key gets 422; a retry while the first still runs gets 409.",
            "schema": { "type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$" },
        },
        "BatchId": {
            "name": "batch_id",
            "in": "path",
            "required": true,
            "description": "The batch's id, as returned by POST /api/v1/generate/bulk.",
            "schema": { "type": "string", "format": "uuid" },
        },
        "Limit": {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "Number of results per page.",
            "schema": { "type": "integer", "minimum": 1, "maximum": 100, "default": 50 },
        },
        "Offset": {
            "name": "offset",
            "in": "query",
            "required": false,
            "description": "Number of results to skip.",
            "schema": { "type": "integer", "minimum": 0, "default": 0 },
        },
        "Status": {
            "name": "status",
            "in": "query",
            "required": false,
            "description": "Only jobs with this status.",
            "schema": { "type": "string", "enum": JOB_STATUSES },
        },
    })
}

fn headers() -> Value {
    json!({
        "X-RateLimit-Limit": {
            "description": "Requests allowed per minute to this endpoint with this key.",
            "schema": { "type": "integer", "minimum": 0 },
        },
        "X-RateLimit-Remaining": {
            "description": "Requests left in the current window.",
            "schema": { "type": "integer", "minimum": 0 },
        },
        "X-RateLimit-Reset": {
            "description": "When the window ends, in seconds since the Unix epoch.",
            "schema": { "type": "integer" },
        },
        "Retry-After": {
            "description": "Seconds to wait before retrying.",
            "schema": { "type": "integer", "minimum": 1 },
        },
        "x-request-id": {
            "description": "The request's id (taken from the request when it has one); quote it to support.",
            "schema": { "type": "string" },
        },
        "Idempotent-Replayed": {
            "description": "`true` when this answer is the replay of an earlier request with the same Idempotency-Key.",
            "schema": { "type": "string", "enum": ["true"] },
        },
    })
}

fn webhooks(g: &mut SchemaGenerator) -> Value {
    let header = |name: &str, description: &str| json!({ "name": name, "in": "header", "required": true, "description": description, "schema": { "type": "string" } });
    json!({
        "batch.completed": {
            "post": {
                "operationId": "batchCompleted",
                "summary": "A batch finished",
                "description": "Sent to the batch's webhook_url once every item has completed or failed, signed as Standard Webhooks: verify webhook-signature (v1,<base64 HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` with the account's secret) before trusting it. Retried until a 2xx, 9 times over about three days (5 s, 5 min, 30 min, then 2, 5, 10, 14, 20 and 24 hours apart; a 410 stops the retries); every retry has the same webhook-id.",
                "parameters": [
                    header("webhook-id", "The event's id: the same on every retry, for deduplication."),
                    header("webhook-timestamp", "Seconds since the Unix epoch when this attempt was signed."),
                    header("webhook-signature", "Space-separated `v1,<signature>` values."),
                ],
                "requestBody": {
                    "required": true,
                    "content": { "application/json": {
                        "schema": schema_ref::<crate::usecases::batch_report::BatchCompleted>(g),
                        "example": examples::webhook_payload(),
                    } },
                },
                "responses": { "2XX": { "description": "Received. Any other answer is retried." } },
            }
        }
    })
}

/// The whole document.
pub fn document() -> Value {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "#/components/schemas".into();
    let mut generator = settings.into_generator();
    let error_schema = schema_ref::<ErrorBody>(&mut generator);
    let operations = operations(&mut generator);
    let webhooks = webhooks(&mut generator);

    let mut paths = Map::new();
    for op in &operations {
        let item = paths
            .entry(op.path.to_string())
            .or_insert_with(|| json!({}));
        item[op.method] = operation_object(op);
    }
    let mut schemas: Map<String, Value> = generator.take_definitions(true).into_iter().collect();
    schemas.insert(
        "Health".into(),
        json!({ "type": "object", "properties": { "status": { "type": "string" } }, "required": ["status"] }),
    );
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "AltFrame API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Alt text, titles, captions and Open Graph descriptions for images, written by a vision-language model and billed in credits. Every error is `{\"error\": \"...\"}`; every response carries x-request-id; every answer to an authenticated request carries X-RateLimit-* headers.",
            "license": { "name": "MIT", "identifier": "MIT" },
        },
        "servers": [
            { "url": "https://altframe.app", "description": "Hosted" },
            { "url": "http://127.0.0.1:8080", "description": "A local `altframe serve`" },
        ],
        "tags": [
            { "name": "Generation" },
            { "name": "Checking", "description": "Our addition: what is wrong with the alt text a page already has." },
            { "name": "Batches" },
            { "name": "Account" },
            { "name": "Operations" },
        ],
        "paths": paths,
        "webhooks": webhooks,
        "components": {
            "schemas": schemas,
            "responses": error_responses(&error_schema),
            "parameters": parameters(),
            "headers": headers(),
            "securitySchemes": {
                "ApiKeyHeader": { "type": "apiKey", "in": "header", "name": "x-api-key" },
                "BearerAuth": { "type": "http", "scheme": "bearer", "description": "The API key as a bearer token." },
            },
        },
    })
}

/// The document as YAML, as `altframe openapi` prints it and `openapi.yaml` holds it.
pub fn yaml() -> String {
    serde_norway::to_string(&document()).unwrap_or_else(|e| format!("# cannot render: {e}\n"))
}
