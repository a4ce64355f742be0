//! The command line: `serve`, and the operator's commands for accounts and keys.
use altframe_domain::generation::Language;
use altframe_domain::plan::Plan;
use altframe_projections::{accounts as account_rows, api_keys as key_rows};
use anyhow::{bail, Context};
use clap::{Parser, Subcommand};
use serde_json::json;

use crate::adapters::clock::{Clock, SystemClock};
use crate::adapters::ids;
use crate::adapters::read_models::Projector;
use crate::adapters::store::{DatabaseUrl, Store};
use crate::adapters::subscriber::Subscriber;
use crate::run::settings::ServeConfig;
use crate::usecases::accounts as admin;

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
    Serve(Box<ServeConfig>),
    /// Open and inspect accounts.
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Issue, list and revoke API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    Text,
    Json,
    Csv,
}

/// A date means its whole day: from its first instant, or to its last.
fn parse_instant(raw: &str, end_of_day: bool) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&chrono::Utc));
    }
    let day = chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .with_context(|| format!("{raw} is neither a date (YYYY-MM-DD) nor an RFC 3339 instant"))?;
    let time = if end_of_day {
        chrono::NaiveTime::from_hms_milli_opt(23, 59, 59, 999).unwrap_or_default()
    } else {
        chrono::NaiveTime::MIN
    };
    Ok(day.and_time(time).and_utc())
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
        #[arg(long, default_value = "free")]
        plan: String,
        /// Default language (ISO 639-1) for requests that name none.
        #[arg(long, default_value = "en")]
        language: String,
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
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Issue a key; the secret is printed once.
    Create {
        #[arg(long)]
        account: String,
        #[arg(long, default_value = "default")]
        name: String,
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

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Openapi { json } => print_openapi(json),
        command => {
            let url = DatabaseUrl::parse(cli.database_url.as_deref())?;
            on_store(command, Store::open(&url).await?).await
        }
    }
}

/// The spec needs no store.
fn print_openapi(json: bool) -> anyhow::Result<()> {
    if json {
        print_json(&crate::api::openapi::document())
    } else {
        print!("{}", crate::api::openapi::yaml());
        Ok(())
    }
}

async fn on_store(command: Command, store: Store) -> anyhow::Result<()> {
    match command {
        Command::Openapi { json } => print_openapi(json),
        Command::Serve(config) => crate::run::server::serve(*config, store).await,
        Command::Accounts(c) => accounts(c, &store).await,
        Command::Keys(c) => keys(c, &store).await,
        Command::Webhooks(c) => webhooks(c, &store).await,
        Command::Audit {
            account,
            from,
            to,
            format,
            json,
        } => {
            let from = from
                .as_deref()
                .map(|f| parse_instant(f, false))
                .transpose()?;
            let to = to.as_deref().map(|t| parse_instant(t, true)).transpose()?;
            up_to_date(&store).await?;
            let report = crate::usecases::audit::audit(&store, &account, from, to).await?;
            match if json { AuditFormat::Json } else { format } {
                AuditFormat::Text => print!("{}", crate::usecases::audit::to_text(&report)),
                AuditFormat::Json => print_json(&report)?,
                AuditFormat::Csv => print!("{}", crate::usecases::audit::to_csv(&report)),
            }
            if !report.ok {
                let failed: Vec<String> = report
                    .checks
                    .iter()
                    .filter(|c| !c.ok)
                    .map(|c| format!("{} (expected {}, found {})", c.name, c.expected, c.actual))
                    .collect();
                bail!("the ledger does not reconcile: {}", failed.join("; "));
            }
            Ok(())
        }
        Command::Projections(ProjectionsCommand::Rebuild { json }) => {
            let started = std::time::Instant::now();
            let applied = Projector::new(store.db.clone()).rebuild().await?;
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

async fn up_to_date(store: &Store) -> anyhow::Result<()> {
    Projector::new(store.db.clone())
        .catch_up_fully(std::time::Duration::from_secs(10))
        .await
        .context("bringing read models up to date")?;
    Ok(())
}

fn print_json<T: serde::Serialize + ?Sized>(value: &T) -> anyhow::Result<()> {
    use std::io::Write;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    out.flush()?;
    Ok(())
}

async fn accounts(command: AccountsCommand, store: &Store) -> anyhow::Result<()> {
    let clock = SystemClock;
    match command {
        AccountsCommand::Create {
            name,
            plan,
            language,
            json,
        } => {
            let plan = Plan::parse(&plan).with_context(|| {
                format!("unknown plan {plan}: use free, starter, pro or business")
            })?;
            let language = Language::parse(&language).map_err(|e| anyhow::anyhow!("{e}"))?;
            let id = ids::account_id();
            admin::open_account(store, &clock, &id, &name, plan, language).await?;
            up_to_date(store).await?;
            let row = account_rows::find(&store.db, &id)
                .await?
                .context("account not projected")?;
            if json {
                print_json(&json!(row))
            } else {
                println!(
                    "Opened account {} ({}, {} plan)",
                    row.id, row.name, row.plan
                );
                Ok(())
            }
        }
        AccountsCommand::List { json } => {
            up_to_date(store).await?;
            let rows = account_rows::list(&store.db).await?;
            if json {
                return print_json(&json!(rows));
            }
            println!(
                "{:<22} {:<10} {:<8} {:<26} NAME",
                "ID", "PLAN", "LANG", "CREATED"
            );
            for r in rows {
                println!(
                    "{:<22} {:<10} {:<8} {:<26} {}",
                    r.id, r.plan, r.language, r.created_at, r.name
                );
            }
            Ok(())
        }
        AccountsCommand::Show { id, json } => {
            up_to_date(store).await?;
            let Some(row) = account_rows::find(&store.db, &id).await? else {
                bail!("account {id} does not exist");
            };
            let state = store.accounts.load(&id).await?;
            let value = json!({
                "account": row,
                "credits_remaining": state.remaining(),
                "at": clock.now(),
            });
            if json {
                return print_json(&value);
            }
            println!("Account   {}\nName      {}\nPlan      {}\nLanguage  {}\nOverage   {}\nCreated   {}\nRemaining {} credits",
                row.id, row.name, row.plan, row.language,
                if row.overage_enabled { "enabled" } else { "disabled" },
                row.created_at, state.remaining());
            Ok(())
        }
    }
}

async fn keys(command: KeysCommand, store: &Store) -> anyhow::Result<()> {
    let clock = SystemClock;
    match command {
        KeysCommand::Create {
            account,
            name,
            json,
        } => {
            let issued = admin::issue_key(store, &clock, &account, &name).await?;
            up_to_date(store).await?;
            if json {
                return print_json(&json!(issued));
            }
            println!(
                "Issued key {} for account {}. The key, shown this once:\n\n    {}\n",
                issued.id, issued.account_id, issued.key
            );
            Ok(())
        }
        KeysCommand::List { account, json } => {
            up_to_date(store).await?;
            if account_rows::find(&store.db, &account).await?.is_none() {
                bail!("account {account} does not exist");
            }
            let rows = key_rows::list_for_account(&store.db, &account).await?;
            if json {
                return print_json(&json!(rows));
            }
            println!(
                "{:<22} {:<14} {:<26} {:<26} NAME",
                "ID", "PREFIX", "CREATED", "REVOKED"
            );
            for r in rows {
                println!(
                    "{:<22} {:<14} {:<26} {:<26} {}",
                    r.id,
                    format!("{}…", r.key_prefix),
                    r.created_at,
                    r.revoked_at.as_deref().unwrap_or("-"),
                    r.name
                );
            }
            Ok(())
        }
        KeysCommand::Revoke { key_id, json } => {
            admin::revoke_key(store, &clock, &key_id).await?;
            up_to_date(store).await?;
            let row = key_rows::find(&store.db, &key_id)
                .await?
                .context("key not projected")?;
            if json {
                return print_json(&json!(row));
            }
            println!("Revoked key {key_id}");
            Ok(())
        }
    }
}

async fn webhooks(command: WebhooksCommand, store: &Store) -> anyhow::Result<()> {
    let WebhooksCommand::Secret {
        account,
        rotate,
        json,
    } = command;
    let (secret, rotated) = admin::webhook_secret(store, &SystemClock, &account, rotate).await?;
    if json {
        return print_json(&json!({ "account_id": account, "secret": secret, "rotated": rotated }));
    }
    if rotated {
        println!("New webhook secret for {account} (webhooks are signed with it from now on):");
    } else {
        println!("Webhook secret for {account}:");
    }
    println!("\n    {secret}\n");
    Ok(())
}
