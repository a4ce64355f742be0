//! Opening and reading accounts, and the default account of a new installation.
use altframe_domain::account::{AccountCommand, AccountError};
use altframe_domain::generation::Language;
use altframe_domain::plan::Plan;
use altframe_domain::{AccountId, Credits, KeyId};
use altframe_projections::accounts;

pub use altframe_projections::accounts::AccountRow;

use super::keys::{self, IssuedKey};
use super::{App, Failure};
use crate::adapters::store::CommandError;

/// The account opened on the first start of an empty store. A fixed id makes that opening
/// idempotent: of two processes starting at once, only one opens it and prints a key.
pub const DEFAULT_ACCOUNT_ID: &str = "acct_default";

#[derive(Debug, thiserror::Error)]
pub enum AccountsError {
    #[error("account {0} does not exist")]
    NoSuchAccount(AccountId),
    #[error("API key {0} does not exist")]
    NoSuchKey(KeyId),
    #[error("API key {0} is already revoked")]
    AlreadyRevoked(KeyId),
    #[error("account {0} already exists")]
    AccountExists(AccountId),
    #[error("the account is already on the {0} plan")]
    AlreadyOnPlan(Plan),
    #[error("the {0} plan has no overage billing: upgrade to pro or business to enable it")]
    NoOverageOnPlan(Plan),
    #[error("{0}")]
    BadLabel(String),
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl From<sqlx::Error> for AccountsError {
    fn from(e: sqlx::Error) -> Self {
        AccountsError::Failure(e.into())
    }
}

pub async fn open_account(
    app: &App,
    id: &AccountId,
    name: &str,
    plan: Plan,
    language: Language,
) -> Result<(), AccountsError> {
    let command = AccountCommand::OpenAccount {
        name: name.to_string(),
        plan,
        language,
        at: app.clock.now(),
    };
    match app.store.accounts.execute(id, command).await {
        Ok(_) => Ok(()),
        Err(CommandError::Rejected(AccountError::AlreadyOpened)) => {
            Err(AccountsError::AccountExists(id.clone()))
        }
        Err(e) => Err(Failure::from(e).into()),
    }
}

/// On an empty store, opens the default account and issues its first key. Returns the key
/// when this call created it, `None` when the store already had events.
pub async fn bootstrap(app: &App, plan: Plan) -> Result<Option<IssuedKey>, AccountsError> {
    if !app.store.is_empty().await? {
        return Ok(None);
    }
    let id = AccountId::new(DEFAULT_ACCOUNT_ID);
    match open_account(app, &id, "Default", plan, Language::english()).await {
        Ok(()) => {}
        Err(AccountsError::AccountExists(_)) => return Ok(None),
        Err(e) => return Err(e),
    }
    keys::issue_key(app, &id, "default").await.map(Some)
}

pub async fn list(app: &App) -> Result<Vec<AccountRow>, AccountsError> {
    app.read_your_writes().await;
    Ok(accounts::list(&app.store.db).await?)
}

/// An account and its balance now (from the aggregate, not the read model).
#[derive(Debug, Clone)]
pub struct AccountView {
    pub account: AccountRow,
    pub credits_remaining: Credits,
    /// A downgrade waiting for the next period.
    pub pending_plan: Option<Plan>,
}

pub async fn show(app: &App, id: &AccountId) -> Result<AccountView, AccountsError> {
    app.read_your_writes().await;
    let account = accounts::find(&app.store.db, id.as_str())
        .await?
        .ok_or_else(|| AccountsError::NoSuchAccount(id.clone()))?;
    let state = app.store.accounts.load(id).await.map_err(Failure::from)?;
    Ok(AccountView {
        account,
        credits_remaining: state.remaining(),
        pending_plan: state.pending_plan(),
    })
}

/// The account a request acts for, as the accounts read model showed it when the request
/// arrived: what its plan allows and the language it writes in by default.
#[derive(Debug, Clone)]
pub struct Requester {
    pub account_id: AccountId,
    pub plan: Plan,
    pub default_language: Language,
}

/// A scheduled downgrade as the read models hold it: the plan and when it applies.
pub(super) struct Pending<'a> {
    pub plan: Option<&'a str>,
    pub at: Option<&'a str>,
}

impl Requester {
    /// The requester from read-model text. A downgrade whose time has come counts at once:
    /// the read models show it only after the account's next command or the billing tick.
    pub(super) fn from_row(
        account_id: &str,
        plan: &str,
        language: &str,
        pending: Pending<'_>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Requester, Failure> {
        let due = pending
            .at
            .and_then(|at| chrono::DateTime::parse_from_rfc3339(at).ok())
            .is_some_and(|at| at <= now);
        let plan = match pending.plan {
            Some(pending) if due => pending,
            _ => plan,
        };
        let plan = Plan::parse(plan)
            .ok_or_else(|| Failure::Inconsistent(format!("account has unknown plan {plan}")))?;
        let default_language = Language::parse(language).map_err(|_| {
            Failure::Inconsistent(format!("account has unknown language {language}"))
        })?;
        Ok(Requester {
            account_id: AccountId::new(account_id),
            plan,
            default_language,
        })
    }
}

/// The account as a request acting for it sees it.
pub async fn requester(app: &App, id: &AccountId) -> Result<Requester, AccountsError> {
    let row = accounts::acting(&app.store.db, id.as_str())
        .await?
        .ok_or_else(|| AccountsError::NoSuchAccount(id.clone()))?;
    let pending = Pending {
        plan: row.pending_plan.as_deref(),
        at: row.pending_plan_at.as_deref(),
    };
    Ok(Requester::from_row(
        &row.id,
        &row.plan,
        &row.language,
        pending,
        app.clock.now(),
    )?)
}

/// What an account change did: whether anything changed, and the account as it now stands.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Changed {
    pub changed: bool,
    pub account: AccountRow,
    pub usage: super::usage::UsageRow,
}

/// Moves the account to `plan`: an upgrade applies at once, a downgrade when the next period
/// starts (usage shows it as pending); the current plan cancels a pending downgrade.
pub async fn change_plan(app: &App, id: &AccountId, plan: Plan) -> Result<Changed, AccountsError> {
    let at = app.clock.now();
    account_command(app, id, AccountCommand::ChangePlan { plan, at }).await
}

/// Turns overage billing on or off; plans without an overage rate cannot turn it on.
pub async fn set_overage(
    app: &App,
    id: &AccountId,
    enabled: bool,
) -> Result<Changed, AccountsError> {
    let at = app.clock.now();
    account_command(app, id, AccountCommand::SetOverage { enabled, at }).await
}

/// Sets the language a request without one is written in.
pub async fn set_language(
    app: &App,
    id: &AccountId,
    language: Language,
) -> Result<Changed, AccountsError> {
    let at = app.clock.now();
    account_command(app, id, AccountCommand::SetLanguage { language, at }).await
}

async fn account_command(
    app: &App,
    id: &AccountId,
    command: AccountCommand,
) -> Result<Changed, AccountsError> {
    let written = match app.store.accounts.execute(id, command).await {
        Ok(events) => events,
        Err(CommandError::Rejected(AccountError::NotOpened)) => {
            return Err(AccountsError::NoSuchAccount(id.clone()))
        }
        Err(CommandError::Rejected(AccountError::AlreadyOnPlan(plan))) => {
            return Err(AccountsError::AlreadyOnPlan(plan))
        }
        Err(CommandError::Rejected(AccountError::NoOverageOnPlan(plan))) => {
            return Err(AccountsError::NoOverageOnPlan(plan));
        }
        Err(e) => return Err(Failure::from(e).into()),
    };
    app.events_committed();
    app.read_your_writes().await;
    let account = accounts::find(&app.store.db, id.as_str())
        .await?
        .ok_or_else(|| AccountsError::NoSuchAccount(id.clone()))?;
    let usage = altframe_projections::usage::find(&app.store.db, id.as_str())
        .await?
        .ok_or_else(|| Failure::Inconsistent(format!("account {id} has no usage row")))?;
    Ok(Changed {
        changed: !written.is_empty(),
        account,
        usage,
    })
}
