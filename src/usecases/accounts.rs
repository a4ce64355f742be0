//! Opening accounts and issuing and revoking keys.
use altframe_domain::account::{AccountCommand, AccountError};
use altframe_domain::api_key::{ApiKeyCommand, ApiKeyError};
use altframe_domain::generation::Language;
use altframe_domain::plan::Plan;

use crate::adapters::clock::Clock;
use crate::adapters::ids;
use crate::adapters::store::{CommandError, Store};

/// The account opened on the first start of an empty store. A fixed id makes that opening
/// idempotent: of two processes starting at once, only one opens it and prints a key.
pub const DEFAULT_ACCOUNT_ID: &str = "acct_default";

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("account {0} does not exist")]
    NoSuchAccount(String),
    #[error("API key {0} does not exist")]
    NoSuchKey(String),
    #[error("API key {0} is already revoked")]
    AlreadyRevoked(String),
    #[error("account {0} already exists")]
    AccountExists(String),
    #[error("{0}")]
    Store(String),
}

fn store_error<E: std::error::Error>(e: CommandError<E>) -> AdminError {
    AdminError::Store(e.to_string())
}

/// A key as issued: the secret is in this value and nowhere else.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IssuedKey {
    pub id: String,
    pub account_id: String,
    pub name: String,
    pub key: String,
}

pub async fn open_account(
    store: &Store,
    clock: &dyn Clock,
    id: &str,
    name: &str,
    plan: Plan,
    language: Language,
) -> Result<(), AdminError> {
    let command = AccountCommand::OpenAccount {
        name: name.to_string(),
        plan,
        language,
        at: clock.now(),
    };
    match store.accounts.execute(id, command).await {
        Ok(_) => Ok(()),
        Err(CommandError::Rejected(AccountError::AlreadyOpened)) => {
            Err(AdminError::AccountExists(id.to_string()))
        }
        Err(e) => Err(store_error(e)),
    }
}

pub async fn issue_key(
    store: &Store,
    clock: &dyn Clock,
    account_id: &str,
    name: &str,
) -> Result<IssuedKey, AdminError> {
    let account = store.accounts.load(account_id).await.map_err(store_error)?;
    if account.plan().is_none() {
        return Err(AdminError::NoSuchAccount(account_id.to_string()));
    }
    let id = ids::api_key_id();
    let secret = ids::api_key_secret();
    let command = ApiKeyCommand::IssueApiKey {
        account_id: account_id.to_string(),
        name: name.to_string(),
        key_hash: ids::hash_api_key(&secret),
        key_prefix: ids::api_key_display_prefix(&secret),
        at: clock.now(),
    };
    store
        .api_keys
        .execute(&id, command)
        .await
        .map_err(store_error)?;
    Ok(IssuedKey {
        id,
        account_id: account_id.to_string(),
        name: name.to_string(),
        key: secret,
    })
}

pub async fn revoke_key(store: &Store, clock: &dyn Clock, key_id: &str) -> Result<(), AdminError> {
    let command = ApiKeyCommand::RevokeApiKey { at: clock.now() };
    match store.api_keys.execute(key_id, command).await {
        Ok(_) => Ok(()),
        Err(CommandError::Rejected(ApiKeyError::NotIssued)) => {
            Err(AdminError::NoSuchKey(key_id.to_string()))
        }
        Err(CommandError::Rejected(ApiKeyError::AlreadyRevoked)) => {
            Err(AdminError::AlreadyRevoked(key_id.to_string()))
        }
        Err(e) => Err(store_error(e)),
    }
}

/// On an empty store, opens the default account and issues its first key. Returns the key
/// when this call created it, `None` when the store already had events.
pub async fn bootstrap(
    store: &Store,
    clock: &dyn Clock,
    plan: Plan,
) -> Result<Option<IssuedKey>, AdminError> {
    if !store
        .is_empty()
        .await
        .map_err(|e| AdminError::Store(e.to_string()))?
    {
        return Ok(None);
    }
    match open_account(
        store,
        clock,
        DEFAULT_ACCOUNT_ID,
        "Default",
        plan,
        Language::english(),
    )
    .await
    {
        Ok(()) => {}
        Err(AdminError::AccountExists(_)) => return Ok(None),
        Err(e) => return Err(e),
    }
    issue_key(store, clock, DEFAULT_ACCOUNT_ID, "default")
        .await
        .map(Some)
}

/// The account's webhook secret, made when it has none or when `rotate` asks for a new one.
/// Returns the secret and whether this call set it.
pub async fn webhook_secret(
    store: &Store,
    clock: &dyn Clock,
    account_id: &str,
    rotate: bool,
) -> Result<(String, bool), AdminError> {
    let account = store.accounts.load(account_id).await.map_err(store_error)?;
    if account.plan().is_none() {
        return Err(AdminError::NoSuchAccount(account_id.to_string()));
    }
    if let (Some(secret), false) = (account.webhook_secret(), rotate) {
        return Ok((secret.to_string(), false));
    }
    let secret = ids::webhook_secret();
    let command = AccountCommand::RotateWebhookSecret {
        secret: secret.clone(),
        at: clock.now(),
    };
    store
        .accounts
        .execute(account_id, command)
        .await
        .map_err(store_error)?;
    Ok((secret, true))
}
