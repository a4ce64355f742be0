//! API key authentication: `x-api-key` or `Authorization: Bearer`, looked up by hash. A
//! middleware on every `/api/v1` route; handlers take the result as a `Caller` argument.
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use altframe_domain::plan::Plan;
use altframe_domain::{AccountId, KeyId};

use crate::api::error::{ApiError, Miswired};
use crate::api::ApiState;
use crate::usecases::accounts::Requester;
use crate::usecases::keys::{self, KeyHolder};

/// The caller, once its key checked out.
#[derive(Debug, Clone)]
pub struct Caller {
    pub account_id: AccountId,
    pub key_id: KeyId,
    pub plan: Plan,
    /// The account as the key's lookup found it, for use cases that act for it.
    pub requester: Requester,
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
pub async fn authenticate(
    State(state): State<ApiState>,
    mut request: Request,
    next: Next,
) -> Response {
    match identify(&state, request.headers()).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(e) => e.into_response(),
    }
}

async fn identify(state: &ApiState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let key = presented_key(headers)
        .filter(|k| !k.is_empty())
        .ok_or_else(|| {
            ApiError::unauthorized(
                "Missing API key: send it in the x-api-key header or as Authorization: Bearer <key>",
            )
        })?;
    let caller = Caller::from(keys::authenticate(&state.app, key).await?);
    let span = tracing::Span::current();
    span.record("account_id", caller.account_id.as_str());
    span.record("key_id", caller.key_id.as_str());
    Ok(caller)
}

impl From<KeyHolder> for Caller {
    fn from(holder: KeyHolder) -> Caller {
        let requester = holder.requester;
        Caller {
            account_id: requester.account_id.clone(),
            key_id: holder.key_id,
            plan: requester.plan,
            requester,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            ApiError::internal(Miswired(
                "a route that needs a caller has no authentication",
            ))
        })
    }
}
