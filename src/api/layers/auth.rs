//! API key authentication: `x-api-key` or `Authorization: Bearer`, looked up by hash. A
//! middleware on every `/api/v1` route; handlers take the result as a `Caller` argument.
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use altframe_domain::plan::Plan;
use altframe_projections::api_keys;

use crate::adapters::ids::hash_api_key;
use crate::adapters::subscriber::Subscriber;
use crate::api::error::ApiError;
use crate::usecases::app::App;

/// How long an unknown key waits for a key just issued elsewhere to be projected.
const KEY_CATCH_UP_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// The caller, once its key checked out.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: String,
    pub key_id: String,
    pub plan: Plan,
}

fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(key) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) {
        return Some(key.trim());
    }
    let auth = headers.get("authorization")?.to_str().ok()?.trim();
    let (scheme, token) = auth.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Finds the caller of a request, or answers 401.
pub async fn authenticate(State(app): State<App>, mut request: Request, next: Next) -> Response {
    match identify(&app, request.headers()).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

async fn identify(app: &App, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let key = presented_key(headers)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized(
            "Missing API key: send it in the x-api-key header or as Authorization: Bearer <key>",
        )
        })?;
    let hash = hash_api_key(key);
    let mut found = api_keys::find_holder_by_hash(&app.store.db, &hash)
        .await
        .map_err(ApiError::internal)?;
    if found.is_none() {
        // A key issued a moment ago by another process may not be projected yet.
        app.projector
            .catch_up_fully(KEY_CATCH_UP_PATIENCE)
            .await
            .map_err(ApiError::internal)?;
        found = api_keys::find_holder_by_hash(&app.store.db, &hash)
            .await
            .map_err(ApiError::internal)?;
    }
    let holder = found.ok_or_else(|| ApiError::unauthorized("Invalid API key"))?;
    if holder.revoked_at.is_some() {
        return Err(ApiError::unauthorized("This API key has been revoked"));
    }
    let plan = Plan::parse(&holder.plan)
        .ok_or_else(|| ApiError::internal(format!("account has unknown plan {}", holder.plan)))?;
    let span = tracing::Span::current();
    span.record("account_id", holder.account_id.as_str());
    span.record("key_id", holder.key_id.as_str());
    Ok(Caller {
        account_id: holder.account_id,
        key_id: holder.key_id,
        plan,
    })
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or_else(|| ApiError::internal("a route that needs a caller has no authentication"))
    }
}
