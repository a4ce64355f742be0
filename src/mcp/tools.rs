//! The tools. Each mirrors one endpoint: its arguments are that endpoint's JSON body, parsed by
//! the endpoint's own code (so a bad field gets the same message), and its answer is the body
//! the endpoint answers, shaped by the same code.
//!
//! A tool is an entry in [`TOOLS`] and one small function that calls its use case. To add one,
//! write `async fn name(call: Call) -> Answer` and add its entry, naming the endpoint whose
//! rate limit and body limit it shares.
use std::sync::Arc;

use futures_util::future::BoxFuture;
use rmcp::handler::server::tool::{schema_for_input, schema_for_output};
use rmcp::model::{JsonObject, Tool, ToolAnnotations};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use altframe_domain::job::Source;

use crate::adapters::rate_limits::Endpoint;
use crate::api::json::JsonBody;
use crate::api::layers::auth::Caller;
use crate::api::routes::bulk::submit_body;
use crate::api::{
    ApiError, BulkRequest, BulkResponse, GenerateRequest, GenerateResponse, ScanRequest,
    ScanResponse, UsageResponse, ValidateRequest, ValidateResponse,
};
use crate::usecases::batch_report::BatchReport;
use crate::usecases::{self, App};

/// One tool call: its caller known, counted against its rate limit, and its arguments checked
/// as the endpoint checks a body.
pub(super) struct Call {
    pub app: App,
    pub caller: Caller,
    pub arguments: JsonBody,
}

/// What a tool answers: the endpoint's JSON body, or the error the endpoint would give.
pub(super) type Answer = Result<Body, ApiError>;

/// An endpoint's body, as a value for the result's structured content and as the text the
/// endpoint sends (its fields in the endpoint's order) for its text content.
pub(super) struct Body {
    pub json: Value,
    pub text: String,
}

pub(super) struct ToolSpec {
    pub name: &'static str,
    pub title: &'static str,
    pub description: &'static str,
    /// The endpoint it mirrors: a call counts against that endpoint's rate limit, and its
    /// arguments are held to that endpoint's body limit.
    pub endpoint: Endpoint,
    /// It only reads: no credits, nothing changes.
    pub read_only: bool,
    pub input: fn() -> Result<Arc<JsonObject>, String>,
    pub output: fn() -> Arc<JsonObject>,
    pub run: fn(Call) -> BoxFuture<'static, Answer>,
}

pub(super) const TOOLS: &[ToolSpec] = &[
    ToolSpec {
        name: "generate",
        title: "Describe one image",
        description: "Writes alt text, a title, a caption and an Open Graph description for one \
            image, given as image_url or image_base64. Takes the body of POST /api/v1/generate \
            and answers its response. Costs 1 credit (2 for AVIF, HEIC and TIFF, and 1 more for \
            each language beyond the first), charged only when the text is written. The same             image with the same options within the cache's window is answered with the text             written before, free (meta.cached: true); send regenerate: true for a new text.",
        endpoint: Endpoint::Generate,
        read_only: false,
        input: schema_for_input::<GenerateRequest>,
        output: schema_for_output::<GenerateResponse>,
        run: |call| Box::pin(generate(call)),
    },
    ToolSpec {
        name: "bulk",
        title: "Describe up to 100 images in the background",
        description: "Submits a batch of 1 to 100 images to be described in the background. \
            Takes the body of POST /api/v1/generate/bulk and answers its response. The credits \
            of every image are reserved at once, and given back for an image answered from             the cache (its result says cached: true; regenerate: true writes every text anew);             follow the batch with batch_status.",
        endpoint: Endpoint::Bulk,
        read_only: false,
        input: schema_for_input::<BulkRequest<'static>>,
        output: schema_for_output::<BulkResponse>,
        run: |call| Box::pin(bulk(call)),
    },
    ToolSpec {
        name: "batch_status",
        title: "A batch's status and results",
        description: "A batch's status, with each image's result or error so far, in the order \
            they were submitted: the answer of GET /api/v1/batches/{batch_id}.",
        endpoint: Endpoint::Batches,
        read_only: true,
        input: schema_for_input::<BatchStatusArguments>,
        output: schema_for_output::<BatchReport>,
        run: |call| Box::pin(batch_status(call)),
    },
    ToolSpec {
        name: "validate",
        title: "Check an image's alt text",
        description: "Checks the alt text a page gives an image: findings (missing, too long, a \
            file name, a generic word, a redundant prefix, keyword stuffing, text on a \
            decorative image, another language than the page's) and a score from 0 to 100, \
            free. Takes the body of POST /api/v1/validate and answers its response. suggest (a \
            replacement) and check_match (the model's verdict) run one generation between them, \
            charged like a generate only when it completes.",
        endpoint: Endpoint::Validate,
        read_only: false,
        input: schema_for_input::<ValidateRequest>,
        output: schema_for_output::<ValidateResponse>,
        run: |call| Box::pin(validate(call)),
    },
    ToolSpec {
        name: "scan",
        title: "Check every image of a web page",
        description: "Fetches a page and lists every image it shows with its address, its alt \
            text, the role its markup gives it and the findings, free. Takes the body of POST \
            /api/v1/scan and answers its response. With generate: true, the images that need \
            alt text are submitted as one batch under bulk's rules (credits reserved at once); \
            follow it with batch_status.",
        endpoint: Endpoint::Scan,
        read_only: false,
        input: schema_for_input::<ScanRequest>,
        output: schema_for_output::<ScanResponse>,
        run: |call| Box::pin(scan(call)),
    },
    ToolSpec {
        name: "usage",
        title: "Credits and plan",
        description: "The account's plan, the credits remaining and used this billing period, \
            when the period resets, and overage: the answer of GET /api/v1/usage.",
        endpoint: Endpoint::Usage,
        read_only: true,
        input: schema_for_input::<NoArguments>,
        output: schema_for_output::<UsageResponse>,
        run: |call| Box::pin(usage(call)),
    },
];

pub(super) fn find(name: &str) -> Option<&'static ToolSpec> {
    TOOLS.iter().find(|tool| tool.name == name)
}

impl ToolSpec {
    /// The tool as `tools/list` shows it.
    pub fn describe(&self) -> Tool {
        // The schemas are the request and response types' own; a type that is not a JSON
        // object is a mistake of ours, which the tests catch.
        let input = (self.input)().unwrap_or_else(|e| panic!("tool {}: {e}", self.name));
        Tool::new(self.name, self.description, input)
            .with_title(self.title)
            .with_raw_output_schema((self.output)())
            .with_annotations(
                ToolAnnotations::with_title(self.title)
                    .read_only(self.read_only)
                    .destructive(false)
                    .idempotent(self.read_only),
            )
    }
}

fn answer(body: impl Serialize) -> Answer {
    Ok(Body {
        json: serde_json::to_value(&body).map_err(ApiError::internal)?,
        text: serde_json::to_string(&body).map_err(ApiError::internal)?,
    })
}

async fn generate(call: Call) -> Answer {
    let request: GenerateRequest = call.arguments.parse()?;
    let input = request.parse()?;
    let outcome =
        usecases::generate::generate(&call.app, &call.caller.requester, Source::Mcp, input).await?;
    answer(GenerateResponse::from(outcome))
}

async fn bulk(call: Call) -> Answer {
    answer(submit_body(&call.app, &call.caller, call.arguments).await?)
}

/// The batch to look at.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(transform = needs_batch_id)]
struct BatchStatusArguments {
    #[schemars(schema_with = "batch_id")]
    batch_id: Option<String>,
}

fn batch_id(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "format": "uuid",
        "description": "The batch's id, as the bulk tool answered it."
    })
}

fn needs_batch_id(schema: &mut Schema) {
    schema.insert("required".into(), serde_json::json!(["batch_id"]));
}

async fn batch_status(call: Call) -> Answer {
    let arguments: BatchStatusArguments = call.arguments.parse()?;
    let batch_id = arguments.batch_id.ok_or_else(|| {
        ApiError::bad_request("batch_id is required: the batch_id the bulk tool answered")
    })?;
    answer(usecases::batches::status(&call.app, &call.caller.account_id, &batch_id).await?)
}

async fn validate(call: Call) -> Answer {
    let request: ValidateRequest = call.arguments.parse()?;
    let input = request.parse()?;
    let outcome = usecases::validate::validate(&call.app, &call.caller.requester, input).await?;
    answer(ValidateResponse::from(outcome))
}

async fn scan(call: Call) -> Answer {
    let request: ScanRequest = call.arguments.parse()?;
    let input = request.parse()?;
    let report = usecases::scan::scan(&call.app, &call.caller.account_id, input).await?;
    answer(ScanResponse::from(report))
}

/// Usage takes nothing; arguments sent anyway are ignored, as unknown fields are.
#[derive(Debug, Deserialize, JsonSchema)]
struct NoArguments {}

async fn usage(call: Call) -> Answer {
    answer(UsageResponse::from(
        usecases::usage::usage(&call.app, &call.caller.account_id).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_has_an_object_schema_and_a_name_of_its_own() {
        for (i, tool) in TOOLS.iter().enumerate() {
            let described = tool.describe();
            assert_eq!(described.input_schema["type"], "object", "{}", tool.name);
            assert!(described.output_schema.is_some(), "{}", tool.name);
            assert!(
                TOOLS[..i].iter().all(|other| other.name != tool.name),
                "{} twice",
                tool.name
            );
        }
    }

    #[test]
    fn the_generate_tool_takes_the_generate_body() {
        let schema = find("generate").unwrap().describe().input_schema;
        let properties = schema["properties"].as_object().unwrap();
        for field in [
            "image_url",
            "image_base64",
            "max_length",
            "languages",
            "fields",
        ] {
            assert!(properties.contains_key(field), "{field}");
        }
    }
}
