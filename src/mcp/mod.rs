//! The MCP server: one more door onto the use cases, for AI agents. It speaks the Model Context
//! Protocol (the official SDK, `rmcp`) over standard input and output (`altframe mcp`,
//! [`stdio`]) and over streamable HTTP at `/mcp` on `serve` ([`http`]).
//!
//! Its tools are the API's endpoints ([`tools`]): the same arguments as the endpoint's body,
//! parsed by the same code, the same answer, the same error messages, the same rate limits and
//! the same credits. Like the API edge, it calls use cases only and never reaches the store,
//! the queue or the read models (`tests/api/layers.rs`).
pub mod http;
pub mod stdio;
mod tools;

use std::sync::Arc;

use axum::http::request::Parts;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tracing::Instrument;

use crate::api::error::Miswired;
use crate::api::json::JsonBody;
use crate::api::layers::auth::Caller;
use crate::api::layers::rate_limit;
use crate::api::{ApiError, ApiState, HttpConfig};
use crate::usecases::keys;

use tools::{Body, Call, ToolSpec};

const INSTRUCTIONS: &str = "AltFrame writes alt text, titles, captions and Open Graph \
    descriptions for images. Use generate for one image and bulk for many (then batch_status \
    to follow the batch); usage shows the credits left. Each tool takes the same JSON as the \
    AltFrame REST endpoint it names, and answers the same JSON.";

/// The MCP server of one transport. Cheap to clone.
#[derive(Clone)]
pub struct McpServer {
    state: ApiState,
    http: Arc<HttpConfig>,
    callers: Callers,
}

/// How a tool call's caller is found.
#[derive(Clone)]
enum Callers {
    /// Over HTTP, the API's authentication layer checked the request's key and left its
    /// [`Caller`] in the request.
    Request,
    /// Over standard input and output, the key the process was started with. It is checked
    /// again at every call, as every HTTP request is: a revoked key stops working and a plan
    /// change applies at the next call.
    Key(Arc<SecretString>),
}

impl McpServer {
    /// The server behind `/mcp`, whose requests were authenticated by the API's layer.
    pub fn over_http(state: ApiState, http: HttpConfig) -> McpServer {
        McpServer {
            state,
            http: Arc::new(http),
            callers: Callers::Request,
        }
    }

    /// The server of `altframe mcp`, acting with `key`.
    pub fn with_key(state: ApiState, http: HttpConfig, key: SecretString) -> McpServer {
        McpServer {
            state,
            http: Arc::new(http),
            callers: Callers::Key(Arc::new(key)),
        }
    }

    /// The caller of this call, or the 401 the API would answer.
    async fn caller(&self, context: &RequestContext<RoleServer>) -> Result<Caller, ApiError> {
        match &self.callers {
            Callers::Request => context
                .extensions
                .get::<Parts>()
                .and_then(|parts| parts.extensions.get::<Caller>())
                .cloned()
                .ok_or_else(|| {
                    ApiError::internal(Miswired("/mcp is mounted without authentication"))
                }),
            Callers::Key(key) => Ok(keys::authenticate(&self.state.app, key.expose_secret())
                .await?
                .into()),
        }
    }

    /// Runs one tool for its caller, as the API runs a request to the tool's endpoint:
    /// authentication, the rate limit, the body's checks, then the tool.
    async fn run(
        &self,
        tool: &ToolSpec,
        arguments: Value,
        context: &RequestContext<RoleServer>,
    ) -> Result<Body, ApiError> {
        let caller = self.caller(context).await?;
        let span = tracing::Span::current();
        span.record("account_id", caller.account_id.as_str());
        span.record("key_id", caller.key_id.as_str());
        let decision = rate_limit::count(&self.state, &caller, tool.endpoint).await?;
        if !decision.allowed {
            return Err(rate_limit::exceeded(&self.state, tool.endpoint, &decision));
        }
        let checked = JsonBody::from_value(&arguments, self.http.body_limit(tool.endpoint));
        // A batch of inline images is then held once, as the checked text, while it runs.
        drop(arguments);
        let call = Call {
            app: self.state.app.clone(),
            caller,
            arguments: checked?,
        };
        (tool.run)(call).await
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(
                Implementation::new("altframe", env!("CARGO_PKG_VERSION")).with_title("AltFrame"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(
            tools::TOOLS.iter().map(ToolSpec::describe).collect(),
        ))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        tools::find(name).map(ToolSpec::describe)
    }

    /// A tool's failure, whatever its cause, is a result marked as an error whose text is the
    /// API's message for it; only a call the server cannot route is a protocol error.
    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let Some(tool) = tools::find(&request.name) else {
            return Err(ErrorData::invalid_params(
                format!("Unknown tool {}", request.name),
                None,
            ));
        };
        let arguments = Value::Object(request.arguments.unwrap_or_default());
        // rmcp runs the call on a task of its own, outside the HTTP request's span: the
        // request's id goes with it, so that a failure logged here can be found by it.
        let request_id = context
            .extensions
            .get::<Parts>()
            .and_then(|parts| parts.headers.get("x-request-id"))
            .and_then(|id| id.to_str().ok())
            .unwrap_or_default();
        let span = tracing::info_span!(
            "tool",
            tool = tool.name,
            request_id,
            account_id = tracing::field::Empty,
            key_id = tracing::field::Empty,
        );
        let result = match self
            .run(tool, arguments, &context)
            .instrument(span.clone())
            .await
        {
            Ok(body) => {
                span.in_scope(|| tracing::info!("tool answered"));
                let mut result = CallToolResult::structured(body.json);
                result.content = vec![ContentBlock::text(body.text)];
                result
            }
            Err(e) => {
                let status = e.status.as_u16();
                span.in_scope(|| tracing::info!(status, error = %e.message, "tool refused"));
                CallToolResult::error(vec![ContentBlock::text(e.message)])
            }
        };
        Ok(result.into())
    }
}
