//! A JSON body extractor whose rejections are the contract's `{"error"}` 400s, keeping serde's
//! message (it names the field and what is wrong).
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;

pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(reject(rejection)),
        }
    }
}

fn reject(rejection: JsonRejection) -> ApiError {
    let status = match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => {
            "Expected a JSON body with the header Content-Type: application/json".to_string()
        }
        JsonRejection::JsonSyntaxError(_) => {
            format!("The body is not valid JSON: {}", detail(&rejection))
        }
        JsonRejection::JsonDataError(_) => format!("Invalid request body: {}", detail(&rejection)),
        _ if status == StatusCode::PAYLOAD_TOO_LARGE => "The request body is too large".to_string(),
        _ => rejection.body_text(),
    };
    ApiError::new(status, message)
}

/// serde's own words, without axum's generic preamble.
fn detail(rejection: &JsonRejection) -> String {
    let text = rejection.body_text();
    match text.split_once(": ") {
        Some((_, rest)) => rest.to_string(),
        None => text,
    }
}
