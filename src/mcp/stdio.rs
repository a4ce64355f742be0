//! The MCP server over standard input and output, for an agent that starts `altframe mcp` as a
//! child process: one JSON-RPC message a line. Standard output carries the protocol and nothing
//! else; logs go to standard error (`run/telemetry.rs`).
use rmcp::service::{QuitReason, ServerInitializeError};
use rmcp::transport::async_rw::AsyncRwTransport;

use super::McpServer;

#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    #[error("starting the MCP session")]
    Start(#[source] Box<ServerInitializeError>),
    #[error("serving MCP")]
    Serve(#[source] tokio::task::JoinError),
}

/// Serves `server` until the client closes standard input (or hangs up before it began).
/// `max_message_bytes` bounds one message: a tool call with an inline image is one line.
pub async fn serve(server: McpServer, max_message_bytes: usize) -> Result<(), StdioError> {
    let (stdin, stdout) = rmcp::transport::stdio_pipes();
    let transport =
        AsyncRwTransport::new_server(stdin, stdout).with_max_line_length(max_message_bytes);
    let running = match rmcp::serve_server(server, transport).await {
        Ok(running) => running,
        Err(ServerInitializeError::ConnectionClosed(_)) => return Ok(()),
        Err(e) => return Err(StdioError::Start(Box::new(e))),
    };
    tracing::info!("MCP client connected");
    match running.waiting().await.map_err(StdioError::Serve)? {
        QuitReason::JoinError(e) => Err(StdioError::Serve(e)),
        // Closed (the client closed its end) or cancelled.
        _ => Ok(()),
    }
}
