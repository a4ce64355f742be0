//! The key lookup read model: a key's hash to its account, and whether it still works.
use altframe_domain::api_key::ApiKeyEvent;
use serde::Serialize;

use crate::{on_db, timestamp, Arg, Db, Tx};

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ApiKeyRow {
    pub id: String,
    pub account_id: String,
    /// The label its owner gave it ("production").
    #[serde(rename = "label")]
    pub name: String,
    #[serde(skip)]
    pub key_hash: String,
    pub key_prefix: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

pub(crate) async fn apply(tx: &mut Tx, id: &str, event: &ApiKeyEvent) -> Result<(), sqlx::Error> {
    match event {
        ApiKeyEvent::ApiKeyIssued {
            account_id,
            name,
            key_hash,
            key_prefix,
            at,
        } => {
            tx.execute(
                "INSERT INTO api_keys (id, account_id, name, key_hash, key_prefix, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
                vec![
                    id.into(),
                    account_id.clone().into(),
                    name.clone().into(),
                    key_hash.clone().into(),
                    key_prefix.clone().into(),
                    timestamp(*at).into(),
                ],
            )
            .await?;
        }
        ApiKeyEvent::ApiKeyRevoked { at, .. } => {
            tx.execute(
                "UPDATE api_keys SET revoked_at = $1 WHERE id = $2",
                vec![Arg::Text(timestamp(*at)), id.into()],
            )
            .await?;
        }
    }
    Ok(())
}

const COLUMNS: &str = "id, account_id, name, key_hash, key_prefix, created_at, revoked_at";

pub async fn find_by_hash(db: &Db, key_hash: &str) -> Result<Option<ApiKeyRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1");
    on_db!(db, pool => sqlx::query_as::<_, ApiKeyRow>(&sql).bind(key_hash).fetch_optional(pool).await)
}

pub async fn find(db: &Db, id: &str) -> Result<Option<ApiKeyRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1");
    on_db!(db, pool => sqlx::query_as::<_, ApiKeyRow>(&sql).bind(id).fetch_optional(pool).await)
}

pub async fn list_for_account(db: &Db, account_id: &str) -> Result<Vec<ApiKeyRow>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM api_keys WHERE account_id = $1 ORDER BY created_at, id");
    on_db!(db, pool => sqlx::query_as::<_, ApiKeyRow>(&sql).bind(account_id).fetch_all(pool).await)
}

/// What a request's authentication needs of a key: whose it is, on which plan and default
/// language, and whether it
/// still works. One read for every authenticated request.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct KeyHolder {
    pub key_id: String,
    pub account_id: String,
    pub plan: String,
    pub language: String,
    pub revoked_at: Option<String>,
    /// A scheduled downgrade and when it applies (from the usage read model).
    pub pending_plan: Option<String>,
    pub pending_plan_at: Option<String>,
}

pub async fn find_holder_by_hash(
    db: &Db,
    key_hash: &str,
) -> Result<Option<KeyHolder>, sqlx::Error> {
    let sql = "SELECT k.id AS key_id, k.account_id, a.plan, a.language, k.revoked_at,
                      u.pending_plan, u.pending_plan_at
               FROM api_keys k JOIN accounts a ON a.id = k.account_id
               LEFT JOIN usage u ON u.account_id = k.account_id
               WHERE k.key_hash = $1";
    on_db!(db, pool => sqlx::query_as::<_, KeyHolder>(sql).bind(key_hash).fetch_optional(pool).await)
}
