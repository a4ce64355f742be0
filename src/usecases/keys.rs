//! API keys: issued to an account, revoked for good, and recognised on every request.
use std::time::Duration;

use altframe_domain::api_key::{ApiKeyCommand, ApiKeyError};
use altframe_domain::{AccountId, KeyId};
use altframe_projections::{accounts, api_keys};

pub use altframe_projections::api_keys::ApiKeyRow;

use super::accounts::{AccountsError, Pending, Requester};
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
    #[serde(rename = "label")]
    pub name: String,
    pub key: String,
}

/// Longest key label, in characters.
pub const MAX_LABEL_CHARS: usize = 60;

/// A label as keys keep it: trimmed, 1 to 60 characters, no control or direction-changing
/// characters (it is printed in operators' terminals and owners' pages).
fn label(raw: &str) -> Result<String, AccountsError> {
    let label = raw.trim();
    if label.is_empty() {
        return Err(AccountsError::BadLabel(
            "enter a label, such as production or staging".into(),
        ));
    }
    if label.chars().count() > MAX_LABEL_CHARS {
        return Err(AccountsError::BadLabel(format!(
            "the label must be {MAX_LABEL_CHARS} characters or fewer"
        )));
    }
    let unprintable = |c: char| {
        c.is_control()
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    if label.chars().any(unprintable) {
        return Err(AccountsError::BadLabel(
            "the label may hold letters, digits, spaces and punctuation only".into(),
        ));
    }
    Ok(label.to_string())
}

pub async fn issue_key(
    app: &App,
    account_id: &AccountId,
    name: &str,
) -> Result<IssuedKey, AccountsError> {
    let name = &label(name)?;
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

/// A key as listings show it: never its secret.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ListedKey {
    #[serde(flatten)]
    pub key: ApiKeyRow,
    /// When a request last presented it, to the minute; `None` if never.
    pub last_used_at: Option<String>,
}

/// The account's keys, revoked ones included, oldest first.
pub async fn list(app: &App, account_id: &AccountId) -> Result<Vec<ListedKey>, AccountsError> {
    app.read_your_writes().await;
    if accounts::find(&app.store.db, account_id.as_str())
        .await?
        .is_none()
    {
        return Err(AccountsError::NoSuchAccount(account_id.clone()));
    }
    let rows = api_keys::list_for_account(&app.store.db, account_id.as_str()).await?;
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut used = app.key_usage.last_used(&ids).await?;
    Ok(rows
        .into_iter()
        .map(|key| ListedKey {
            last_used_at: used.remove(&key.id),
            key,
        })
        .collect())
}

/// Revokes one of the account's own keys (an owner's revoke): a key of another account is
/// "no such key", so an owner cannot learn whether it exists.
pub async fn revoke_own_key(
    app: &App,
    account_id: &AccountId,
    key_id: &KeyId,
) -> Result<ApiKeyRow, AccountsError> {
    let owned = api_keys::find(&app.store.db, key_id.as_str())
        .await?
        .is_some_and(|k| k.account_id == account_id.as_str());
    if !owned {
        return Err(AccountsError::NoSuchKey(key_id.clone()));
    }
    revoke_key(app, key_id).await
}

/// Who presents a key: the account it acts for, and the key's id.
#[derive(Debug, Clone)]
pub struct KeyHolder {
    pub requester: Requester,
    pub key_id: KeyId,
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
    let now = app.clock.now();
    if let Err(e) = app.key_usage.used(&holder.key_id, now).await {
        // A missed last-used time is not worth refusing the request for.
        tracing::warn!(error = %super::error_chain(&e), "could not note the key's use");
    }
    Ok(KeyHolder {
        requester: Requester::from_row(
            &holder.account_id,
            &holder.plan,
            &holder.language,
            Pending {
                plan: holder.pending_plan.as_deref(),
                at: holder.pending_plan_at.as_deref(),
            },
            now,
        )?,
        key_id: KeyId::new(holder.key_id),
    })
}
