//! API keys: issued to an account, revoked for good, and recognised on every request.
use std::time::Duration;

use altframe_domain::api_key::{ApiKeyCommand, ApiKeyError};
use altframe_domain::plan::Plan;
use altframe_domain::{AccountId, KeyId};
use altframe_projections::{accounts, api_keys};

pub use altframe_projections::api_keys::ApiKeyRow;

use super::accounts::AccountsError;
use super::{App, Failure};
use crate::adapters::ids;
use crate::adapters::store::CommandError;
use crate::adapters::subscriber::Subscriber;

/// How long an unknown key waits for a key just issued elsewhere to be projected.
const KEY_CATCH_UP_PATIENCE: Duration = Duration::from_secs(2);

/// A key as issued: the secret is in this value and nowhere else.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IssuedKey {
    pub id: KeyId,
    pub account_id: AccountId,
    pub name: String,
    pub key: String,
}

pub async fn issue_key(
    app: &App,
    account_id: &AccountId,
    name: &str,
) -> Result<IssuedKey, AccountsError> {
    if app.account(account_id).await?.is_none() {
        return Err(AccountsError::NoSuchAccount(account_id.clone()));
    }
    let id = ids::api_key_id();
    let secret = ids::api_key_secret();
    let command = ApiKeyCommand::IssueApiKey {
        account_id: account_id.clone(),
        name: name.to_string(),
        key_hash: ids::hash_api_key(&secret),
        key_prefix: ids::api_key_display_prefix(&secret),
        at: app.clock.now(),
    };
    app.store
        .api_keys
        .execute(&id, command)
        .await
        .map_err(Failure::from)?;
    Ok(IssuedKey {
        id,
        account_id: account_id.clone(),
        name: name.to_string(),
        key: secret,
    })
}

/// Revokes the key; the read model shows it at once. Returns the key as it now stands.
pub async fn revoke_key(app: &App, key_id: &KeyId) -> Result<ApiKeyRow, AccountsError> {
    let command = ApiKeyCommand::RevokeApiKey {
        at: app.clock.now(),
    };
    match app.store.api_keys.execute(key_id, command).await {
        Ok(_) => {}
        Err(CommandError::Rejected(ApiKeyError::NotIssued)) => {
            return Err(AccountsError::NoSuchKey(key_id.clone()))
        }
        Err(CommandError::Rejected(ApiKeyError::AlreadyRevoked)) => {
            return Err(AccountsError::AlreadyRevoked(key_id.clone()))
        }
        Err(e) => return Err(Failure::from(e).into()),
    }
    app.events_committed();
    app.read_your_writes().await;
    api_keys::find(&app.store.db, key_id.as_str())
        .await?
        .ok_or_else(|| Failure::Inconsistent(format!("key {key_id} is not projected")).into())
}

/// The account's keys, revoked ones included (never their secrets).
pub async fn list(app: &App, account_id: &AccountId) -> Result<Vec<ApiKeyRow>, AccountsError> {
    app.read_your_writes().await;
    if accounts::find(&app.store.db, account_id.as_str())
        .await?
        .is_none()
    {
        return Err(AccountsError::NoSuchAccount(account_id.clone()));
    }
    Ok(api_keys::list_for_account(&app.store.db, account_id.as_str()).await?)
}

/// Who presents a key: its account, the key's id and the account's plan.
#[derive(Debug, Clone)]
pub struct KeyHolder {
    pub account_id: AccountId,
    pub key_id: KeyId,
    pub plan: Plan,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("Invalid API key")]
    Unknown,
    #[error("This API key has been revoked")]
    Revoked,
    #[error(transparent)]
    Failure(#[from] Failure),
}

/// Finds whose key `secret` is. Keys are looked up by their hash; a key issued a moment ago
/// by another process may not be projected yet, so an unknown key waits for the read models
/// to catch up before it is refused.
pub async fn authenticate(app: &App, secret: &str) -> Result<KeyHolder, AuthError> {
    let hash = ids::hash_api_key(secret);
    let db = &app.store.db;
    let mut found = api_keys::find_holder_by_hash(db, &hash)
        .await
        .map_err(Failure::from)?;
    if found.is_none() {
        app.read_models
            .catch_up_fully(KEY_CATCH_UP_PATIENCE)
            .await
            .map_err(Failure::from)?;
        found = api_keys::find_holder_by_hash(db, &hash)
            .await
            .map_err(Failure::from)?;
    }
    let holder = found.ok_or(AuthError::Unknown)?;
    if holder.revoked_at.is_some() {
        return Err(AuthError::Revoked);
    }
    let plan = Plan::parse(&holder.plan).ok_or_else(|| {
        Failure::Inconsistent(format!("account has unknown plan {}", holder.plan))
    })?;
    Ok(KeyHolder {
        account_id: AccountId::new(holder.account_id),
        key_id: KeyId::new(holder.key_id),
        plan,
    })
}
