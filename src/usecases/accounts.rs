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
    })
}
