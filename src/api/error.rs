//! The one place where errors become HTTP statuses and `{"error"}` bodies.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use altframe_domain::generation::Invalid;

use crate::usecases::bulk::BulkError;
use crate::usecases::generate::GenerateError;

/// The body of every error answer.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// What is wrong, naming the field when a field is at fault.
    pub error: String,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    /// A failure of ours: the client sees a generic message, the log gets the cause.
    pub fn internal(cause: impl std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "An unexpected error occurred. Retry the request; if it persists, contact support with the x-request-id.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ErrorBody {
                error: self.message,
            }),
        )
            .into_response()
    }
}

impl From<Invalid> for ApiError {
    fn from(e: Invalid) -> Self {
        ApiError::bad_request(e.0)
    }
}

impl From<GenerateError> for ApiError {
    fn from(e: GenerateError) -> Self {
        match e {
            GenerateError::Image(e) => ApiError::bad_request(e.to_string()),
            GenerateError::PlanTooLow { .. } => ApiError::new(StatusCode::FORBIDDEN, e.to_string()),
            GenerateError::InsufficientCredits { needed, remaining } => ApiError::new(
                StatusCode::PAYMENT_REQUIRED,
                format!(
                    "Insufficient credits: this request needs {needed} and {remaining} remain. \
                     Upgrade your plan, wait for the monthly reset, or enable overage billing."
                ),
            ),
            GenerateError::Vision(e) => {
                tracing::warn!(error = %e, "vision model failed");
                ApiError::new(
                    StatusCode::BAD_GATEWAY,
                    format!("{e}. No credits were charged."),
                )
            }
            GenerateError::NoAccount(_) | GenerateError::Internal(_) => ApiError::internal(e),
        }
    }
}

impl From<BulkError> for ApiError {
    fn from(e: BulkError) -> Self {
        match e {
            BulkError::Image { .. } | BulkError::WebhookUrl(_) => ApiError::bad_request(e.to_string()),
            BulkError::InsufficientCredits { needed, remaining } => ApiError::new(
                StatusCode::PAYMENT_REQUIRED,
                format!(
                    "Insufficient credits: this batch needs {needed} and {remaining} remain. \
                     Nothing was reserved. Upgrade your plan, wait for the monthly reset, or enable overage billing."
                ),
            ),
            BulkError::Internal(_) => ApiError::internal(e),
        }
    }
}
