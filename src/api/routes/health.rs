//! GET /healthz (the process is up) and GET /readyz (it can serve: database reachable,
//! migrations applied). Neither needs a key.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

use crate::api::error::ApiError;
use crate::usecases::app::App;

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(app): State<App>) -> Result<Json<Value>, ApiError> {
    app.store
        .readiness()
        .await
        .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("Not ready: {e}")))?;
    Ok(Json(json!({ "status": "ready" })))
}
