//! The MCP server, driven by the official SDK's client (rmcp): over streamable HTTP at `/mcp`
//! on the running service (`http.rs`), and over standard input and output with the real
//! `altframe mcp` binary as a child process (`stdio.rs`). Each tool must take its endpoint's
//! body, answer its endpoint's body, refuse in its endpoint's words, charge the same credits
//! and count against the same rate limits.
mod http;
mod stdio;

use std::time::Duration;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::RoleClient;
use serde_json::Value;

/// A connected MCP client that does nothing of its own (no sampling, no roots).
pub type Client = RunningService<RoleClient, ()>;

/// The tools every transport lists.
pub const TOOLS: [&str; 6] = [
    "batch_status",
    "bulk",
    "generate",
    "scan",
    "usage",
    "validate",
];

/// Calls `tool` with `arguments` (a JSON object); the call itself must go through.
pub async fn call(client: &Client, tool: &str, arguments: Value) -> CallToolResult {
    let arguments = arguments
        .as_object()
        .cloned()
        .expect("arguments are an object");
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments))
        .await
        .unwrap_or_else(|e| panic!("tools/call {tool}: {e}"))
}

/// The body a tool answered; the call must have succeeded.
pub fn answer(result: CallToolResult) -> Value {
    assert_ne!(result.is_error, Some(true), "the tool failed: {result:?}");
    let body = result.structured_content.expect("structured content");
    // The text content is the same JSON, for clients that read only text.
    let text = result.content[0].as_text().expect("text content");
    assert_eq!(serde_json::from_str::<Value>(&text.text).unwrap(), body);
    body
}

/// The message of a tool's refusal: a result marked as an error, its text the API's message.
pub fn refusal(result: CallToolResult) -> String {
    assert_eq!(
        result.is_error,
        Some(true),
        "expected a refusal: {result:?}"
    );
    assert!(result.structured_content.is_none(), "{result:?}");
    result.content[0]
        .as_text()
        .expect("text content")
        .text
        .clone()
}

/// The listed tools' names, sorted.
pub async fn tool_names(client: &Client) -> Vec<String> {
    let mut names: Vec<String> = client
        .list_all_tools()
        .await
        .expect("tools/list")
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    names.sort();
    names
}

/// Asks `batch_status` until the batch is no longer processing (bounded: two minutes).
pub async fn finished_batch(client: &Client, batch_id: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    loop {
        let status = answer(
            call(
                client,
                "batch_status",
                serde_json::json!({ "batch_id": batch_id }),
            )
            .await,
        );
        if status["status"] != "processing" {
            return status;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the batch did not finish: {status}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
