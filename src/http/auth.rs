//! API key authentication: `x-api-key` or `Authorization: Bearer`, looked up by hash.
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;

use altframe_projections::api_keys;

use super::error::ApiError;
use crate::app::App;
use crate::ids::hash_api_key;
use crate::subscriber::Subscriber;

/// How long an unknown key waits for a key just issued elsewhere to be projected.
const KEY_CATCH_UP_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// The caller, once its key checked out.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
}

fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim());
    }
    let auth = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, token) = auth.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<App> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let key = presented_key(&parts.headers).filter(|k| !k.is_empty()).ok_or_else(|| {
            ApiError::unauthorized(
                "Missing API key: send it in the x-api-key header or as Authorization: Bearer <key>",
            )
        })?;
        let hash = hash_api_key(key);
        let mut found = api_keys::find_by_hash(&app.store.db, &hash)
            .await
            .map_err(ApiError::internal)?;
        if found.is_none() {
            // A key issued a moment ago by another process may not be projected yet.
            app.projector
                .catch_up_fully(KEY_CATCH_UP_PATIENCE)
                .await
                .map_err(ApiError::internal)?;
            found = api_keys::find_by_hash(&app.store.db, &hash)
                .await
                .map_err(ApiError::internal)?;
        }
        let row = found.ok_or_else(|| ApiError::unauthorized("Invalid API key"))?;
        if row.revoked_at.is_some() {
            return Err(ApiError::unauthorized("This API key has been revoked"));
        }
        let span = tracing::Span::current();
        span.record("account_id", row.account_id.as_str());
        span.record("key_id", row.id.as_str());
        Ok(Caller {
            account_id: row.account_id,
        })
    }
}
