//! `altframe accounts`, `altframe keys` and `altframe webhooks`: the operator's doors onto the
//! account and key use cases.
use altframe_domain::generation::Language;
use altframe_domain::plan::Plan;
use altframe_domain::{AccountId, KeyId};
use serde_json::json;

use super::{print_json, AccountsCommand, CliError, KeysCommand, WebhooksCommand};
use crate::adapters::ids;
use crate::usecases::{accounts, keys, read_models, webhooks, App};

pub async fn accounts(command: AccountsCommand, app: &App) -> Result<(), CliError> {
    match command {
        AccountsCommand::Create {
            name,
            plan,
            language,
            json,
        } => {
            let plan = Plan::parse(&plan).ok_or_else(|| {
                CliError::BadArgument(format!(
                    "unknown plan {plan}: use free, starter, pro or business"
                ))
            })?;
            let language =
                Language::parse(&language).map_err(|e| CliError::BadArgument(e.to_string()))?;
            let id = ids::account_id();
            accounts::open_account(app, &id, &name, plan, language).await?;
            let row = accounts::show(app, &id).await?.account;
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
            let rows = accounts::list(app).await?;
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
            let shown = accounts::show(app, &AccountId::new(id)).await?;
            let row = shown.account;
            if json {
                return print_json(&json!({
                    "account": row,
                    "credits_remaining": shown.credits_remaining,
                    "at": app.clock().now(),
                }));
            }
            println!(
                "Account   {}\nName      {}\nPlan      {}\nLanguage  {}\nOverage   {}\nCreated   {}\nRemaining {} credits",
                row.id,
                row.name,
                row.plan,
                row.language,
                if row.overage_enabled { "enabled" } else { "disabled" },
                row.created_at,
                shown.credits_remaining
            );
            Ok(())
        }
    }
}

pub async fn keys(command: KeysCommand, app: &App) -> Result<(), CliError> {
    match command {
        KeysCommand::Create {
            account,
            name,
            json,
        } => {
            let issued = keys::issue_key(app, &AccountId::new(account), &name).await?;
            // A running service finds the key without this, but a listing right after should.
            read_models::catch_up(app).await?;
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
            let rows = keys::list(app, &AccountId::new(account)).await?;
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
            let row = keys::revoke_key(app, &KeyId::new(&key_id)).await?;
            if json {
                return print_json(&json!(row));
            }
            println!("Revoked key {key_id}");
            Ok(())
        }
    }
}

pub async fn webhooks(command: WebhooksCommand, app: &App) -> Result<(), CliError> {
    let WebhooksCommand::Secret {
        account,
        rotate,
        json,
    } = command;
    let (secret, rotated) = webhooks::secret(app, &AccountId::new(&account), rotate).await?;
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
