//! `altframe accounts`, `altframe keys` and `altframe webhooks`: the operator's doors onto the
//! account and key use cases.
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
                    "pending_plan": shown.pending_plan,
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
            if let Some(plan) = shown.pending_plan {
                println!("Pending   {plan} plan from the next period");
            }
            Ok(())
        }
        AccountsCommand::SetPlan {
            account,
            plan,
            json,
        } => {
            let changed = accounts::change_plan(app, &AccountId::new(account), plan).await?;
            print_change(&changed, json)
        }
        AccountsCommand::SetOverage {
            account,
            enabled,
            json,
        } => {
            let changed = accounts::set_overage(app, &AccountId::new(account), enabled).await?;
            print_change(&changed, json)
        }
        AccountsCommand::SetLanguage {
            account,
            language,
            json,
        } => {
            let changed = accounts::set_language(app, &AccountId::new(account), language).await?;
            print_change(&changed, json)
        }
    }
}

/// The account after a change, as `accounts show` would print the parts a change touches.
fn print_change(changed: &accounts::Changed, json: bool) -> Result<(), CliError> {
    if json {
        return print_json(&json!(changed));
    }
    let (row, usage) = (&changed.account, &changed.usage);
    if !changed.changed {
        println!("Nothing to change.");
    }
    println!(
        "Account   {}\nPlan      {}\nLanguage  {}\nOverage   {}\nRemaining {} credits of {} this period",
        row.id,
        row.plan,
        row.language,
        if row.overage_enabled { "enabled" } else { "disabled" },
        usage.remaining,
        usage.monthly_allocation,
    );
    if let (Some(plan), Some(at)) = (&usage.pending_plan, &usage.pending_plan_at) {
        println!("Pending   {plan} plan from {at}");
    }
    Ok(())
}

pub async fn keys(command: KeysCommand, app: &App) -> Result<(), CliError> {
    match command {
        KeysCommand::Create {
            account,
            label,
            json,
        } => {
            let issued = keys::issue_key(app, &AccountId::new(account), &label).await?;
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
                "{:<30} {:<14} {:<26} {:<26} {:<26} LABEL",
                "ID", "PREFIX", "CREATED", "LAST USED", "REVOKED"
            );
            for listed in rows {
                let r = &listed.key;
                println!(
                    "{:<30} {:<14} {:<26} {:<26} {:<26} {}",
                    r.id,
                    format!("{}…", r.key_prefix),
                    r.created_at,
                    listed.last_used_at.as_deref().unwrap_or("never"),
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
