//! The command line: `serve`, and the operator's commands. Each command is a door onto a use
//! case: it parses its arguments, calls the use case, and prints the answer (as JSON with
//! `--json`).
mod accounts;
mod audit;
mod logins;

use altframe_domain::generation::Language;
use altframe_domain::plan::Plan;
use clap::{Parser, Subcommand};
use serde_json::json;

use crate::adapters::store::{DatabaseUrl, StoreConfig};
use crate::run::mcp::{mcp_command, McpArgs, McpError};
use crate::run::server;
use crate::run::settings::{ServeArgs, Settings, SettingsError};
use crate::run::startup::{Overrides, Services, StartupError};
use crate::usecases::accounts::AccountsError;
use crate::usecases::audit::AuditError;
use crate::usecases::logins::LoginError;
use crate::usecases::{read_models, Failure};

pub use audit::AuditFormat;

#[derive(Debug, Parser)]
#[command(
    name = "altframe",
    version,
    about = "Alt text, titles, captions and Open Graph descriptions for images, with every credit accounted for"
)]
pub struct Cli {
    /// The store: a postgres:// URL, or a SQLite file (default ./altframe.db).
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API.
    Serve(Box<ServeArgs>),
    /// Run the MCP server on standard input and output, for an AI agent that starts it, acting
    /// with the API key in ALTFRAME_API_KEY. The background tasks run beside it.
    Mcp(Box<McpArgs>),
    /// Open and inspect accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Issue, list and revoke API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Owners' sign-in to the dashboard: the password is read from standard input (or asked
    /// for on a terminal), never from the command line.
    #[command(subcommand)]
    Logins(LoginsCommand),
    /// The secret that signs an account's webhooks.
    #[command(subcommand)]
    Webhooks(WebhooksCommand),
    /// Read models.
    #[command(subcommand)]
    Projections(ProjectionsCommand),
    /// Print the OpenAPI 3.1 spec (YAML; `openapi.yaml` in the repository is this output).
    Openapi {
        /// Print it as JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Replay an account's events into a credit ledger and reconcile it with the read models;
    /// exits non-zero on any mismatch.
    Audit {
        #[arg(long)]
        account: String,
        /// First day (YYYY-MM-DD) or instant (RFC 3339) of ledger rows to print.
        #[arg(long)]
        from: Option<String>,
        /// Last day or instant of ledger rows to print.
        #[arg(long)]
        to: Option<String>,
        #[arg(long, value_enum, default_value = "text")]
        format: AuditFormat,
        /// Same as --format json.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ProjectionsCommand {
    /// Drop every read model and rebuild it from the events.
    Rebuild {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum LoginsCommand {
    /// Give an e-mail address a login to an account.
    Create {
        #[arg(long)]
        account: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        json: bool,
    },
    /// Set a new password for a login; every session it has ends.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum WebhooksCommand {
    /// Print the account's webhook signing secret (made on first use), or replace it.
    Secret {
        #[arg(long)]
        account: String,
        /// Replace the secret; webhooks sent from now on are signed with the new one.
        #[arg(long)]
        rotate: bool,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Open an account.
    Create {
        #[arg(long)]
        name: String,
        /// free, starter, pro or business.
        #[arg(long, default_value = "free", value_parser = parse_plan)]
        plan: Plan,
        /// Default language (ISO 639-1) for requests that name none.
        #[arg(long, default_value = "en", value_parser = parse_language)]
        language: Language,
        #[arg(long)]
        json: bool,
    },
    /// List accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one account with its balance.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Move an account to another plan: an upgrade at once (the balance grows by the
    /// difference of the allocations), a downgrade when the next period starts. The current
    /// plan cancels a scheduled downgrade.
    SetPlan {
        #[arg(long)]
        account: String,
        /// free, starter, pro or business.
        #[arg(long, value_parser = parse_plan)]
        plan: Plan,
        #[arg(long)]
        json: bool,
    },
    /// Turn overage billing on or off (pro and business plans only).
    SetOverage {
        #[arg(long)]
        account: String,
        #[arg(long, action = clap::ArgAction::Set)]
        enabled: bool,
        #[arg(long)]
        json: bool,
    },
    /// Set the language (ISO 639-1) of requests that name none.
    SetLanguage {
        #[arg(long)]
        account: String,
        #[arg(long, value_parser = parse_language)]
        language: Language,
        #[arg(long)]
        json: bool,
    },
}

fn parse_plan(s: &str) -> Result<Plan, String> {
    Plan::parse(s).ok_or_else(|| format!("unknown plan {s}: use free, starter, pro or business"))
}

fn parse_language(s: &str) -> Result<Language, String> {
    Language::parse(s).map_err(|e| e.to_string())
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Issue a key; the secret is printed once.
    Create {
        #[arg(long)]
        account: String,
        /// What the key is for, shown in listings ("production", "staging").
        #[arg(long, visible_alias = "name", default_value = "default")]
        label: String,
        #[arg(long)]
        json: bool,
    },
    /// List an account's keys (never their secrets).
    List {
        #[arg(long)]
        account: String,
        #[arg(long)]
        json: bool,
    },
    /// Revoke a key for good.
    Revoke {
        key_id: String,
        #[arg(long)]
        json: bool,
    },
}

/// Why a command failed; printed with its causes, and the process exits 1.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error(transparent)]
    Startup(#[from] StartupError),
    #[error(transparent)]
    Mcp(#[from] McpError),
    #[error(transparent)]
    Accounts(#[from] AccountsError),
    #[error(transparent)]
    Audit(#[from] AuditError),
    #[error(transparent)]
    Login(#[from] LoginError),
    #[error(transparent)]
    Failure(#[from] Failure),
    #[error("the ledger does not reconcile: {0}")]
    NotReconciled(String),
    /// An argument that is not what the command takes; the message says which and why.
    #[error("{0}")]
    BadArgument(String),
    #[error("{raw} is neither a date (YYYY-MM-DD) nor an RFC 3339 instant")]
    BadDate {
        raw: String,
        #[source]
        source: chrono::ParseError,
    },
    #[error("writing the output")]
    Output(#[from] std::io::Error),
    #[error("writing JSON")]
    Json(#[from] serde_json::Error),
}

pub async fn run(cli: Cli) -> Result<(), CliError> {
    let database_url = cli.database_url.as_deref();
    // Every command but `openapi`, `serve` and `mcp` works on the store, through the use cases.
    let app = || async { Ok::<_, CliError>(open(database_url).await?.app) };
    match cli.command {
        Command::Openapi { json } => print_openapi(json),
        Command::Serve(args) => Ok(server::serve_command(args.settings(database_url)?).await?),
        Command::Mcp(args) => Ok(mcp_command(*args, database_url).await?),
        Command::Accounts(c) => accounts::accounts(c, &app().await?).await,
        Command::Keys(c) => accounts::keys(c, &app().await?).await,
        Command::Webhooks(c) => accounts::webhooks(c, &app().await?).await,
        Command::Logins(c) => logins::logins(c, &app().await?).await,
        Command::Audit {
            account,
            from,
            to,
            format,
            json,
        } => {
            let format = if json { AuditFormat::Json } else { format };
            let app = app().await?;
            audit::audit(&app, &account, from.as_deref(), to.as_deref(), format).await
        }
        Command::Projections(ProjectionsCommand::Rebuild { json }) => {
            let app = app().await?;
            let started = std::time::Instant::now();
            let applied = read_models::rebuild(&app).await?;
            let seconds = started.elapsed().as_secs_f64();
            if json {
                print_json(&json!({ "events_applied": applied, "seconds": seconds }))
            } else {
                println!("Rebuilt every read model: {applied} events applied in {seconds:.2} s");
                Ok(())
            }
        }
    }
}

/// The store and the use cases, as `serve` builds them, without the server and its tasks.
async fn open(database_url: Option<&str>) -> Result<Services, CliError> {
    let url = DatabaseUrl::parse(database_url).map_err(SettingsError::Database)?;
    let settings = Settings::new(StoreConfig::new(url));
    Ok(Services::open(&settings, Overrides::default()).await?)
}

/// The spec needs no store.
fn print_openapi(json: bool) -> Result<(), CliError> {
    if json {
        print_json(&crate::api::openapi::document())
    } else {
        print!("{}", crate::api::openapi::yaml());
        Ok(())
    }
}

fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> Result<(), CliError> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}
