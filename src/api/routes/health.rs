//! GET /healthz (the process is up) and GET /readyz (it can serve: database reachable,
//! migrations applied). Neither needs a key.
use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::api::error::ApiError;
use crate::api::ApiState;
use crate::usecases::status;

pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn readyz(State(state): State<ApiState>) -> Result<Json<Value>, ApiError> {
    status::readiness(&state.app).await?;
    Ok(Json(json!({ "status": "ready" })))
}
