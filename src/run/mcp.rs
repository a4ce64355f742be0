//! `altframe mcp`: the MCP server on standard input and output, acting for the account of one
//! API key, with every background task of `serve` running beside it. On SQLite this is the only
//! process on the store, so it must do all the work: without its bulk worker and process
//! manager a batch submitted through it would never finish.
use clap::Args;
use secrecy::{ExposeSecret, SecretString};

use super::server::shutdown_signal;
use super::settings::{ServiceArgs, SettingsError};
use super::startup::{Overrides, Services, StartupError};
use crate::mcp::stdio::{self, StdioError};
use crate::mcp::McpServer;
use crate::usecases::keys::{self, AuthError};
use crate::usecases::Failure;

/// Room around a tool's arguments in one message (the JSON-RPC envelope); the arguments
/// themselves are held to their endpoint's body limit.
const ENVELOPE_BYTES: usize = 64 * 1024;

/// The flags and variables of `altframe mcp`: the key, and the service's settings as `serve`
/// reads them.
#[derive(Debug, Clone, Args)]
pub struct McpArgs {
    /// The API key the tools act with. Prefer the variable: a flag shows in the process list.
    #[arg(long, env = "ALTFRAME_API_KEY", hide_env_values = true)]
    pub api_key: Option<SecretString>,

    #[command(flatten)]
    pub service: ServiceArgs,
}

#[derive(Debug, thiserror::Error)]
pub enum McpError {
    #[error("altframe mcp needs an API key: set ALTFRAME_API_KEY (or pass --api-key)")]
    NoKey,
    #[error("the API key in ALTFRAME_API_KEY (or --api-key) was refused")]
    KeyRefused(#[source] AuthError),
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Failure(#[from] Failure),
    #[error(transparent)]
    Stdio(#[from] StdioError),
}

/// Checks the key, starts the background tasks and serves MCP until the client closes
/// standard input (or SIGTERM, or Ctrl-C); then stops the tasks as `serve` does.
pub async fn mcp_command(args: McpArgs, database_url: Option<&str>) -> Result<(), McpError> {
    let key = args
        .api_key
        .map(|k| k.expose_secret().trim().to_string())
        .filter(|k| !k.is_empty())
        .ok_or(McpError::NoKey)?;
    let settings = args.service.settings(database_url)?;
    let services = Services::open(&settings, Overrides::default()).await?;
    let holder = match keys::authenticate(&services.app, &key).await {
        Ok(holder) => holder,
        Err(AuthError::Failure(e)) => return Err(e.into()),
        Err(refused) => return Err(McpError::KeyRefused(refused)),
    };
    let runner = services.start_tasks(&settings).await?;
    tracing::info!(
        account_id = %holder.requester.account_id,
        key_id = %holder.key_id,
        model = services.app.model(),
        "AltFrame MCP server on standard input and output"
    );
    let http = settings.http.clone();
    let max_message = http.max_generate_body.max(http.max_bulk_body) + ENVELOPE_BYTES;
    let server = McpServer::with_key(services.api_state(), http, SecretString::from(key));
    let served = tokio::select! {
        served = stdio::serve(server, max_message) => served,
        () = shutdown_signal() => Ok(()),
    };
    runner.stop(settings.shutdown_grace).await;
    tracing::info!("stopped");
    Ok(served?)
}
