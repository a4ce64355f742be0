//! The one place where errors become HTTP statuses and `{"error"}` bodies. Every error a use
//! case can return has its status here; a failure of ours is a 500 that says nothing inside
//! and is logged once, with its whole chain of causes and the request's id (the request span).
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use altframe_domain::generation::Invalid;

use crate::usecases::batches::BatchesError;
use crate::usecases::bulk::BulkError;
use crate::usecases::generate::GenerateError;
use crate::usecases::keys::AuthError;
use crate::usecases::scan::ScanError;
use crate::usecases::status::NotReady;
use crate::usecases::validate::ValidateError;
use crate::usecases::{error_chain, Failure};

/// The body of every error answer.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// What is wrong, naming the field when a field is at fault.
    pub error: String,
}

/// A layer or handler wired in the wrong order (a route that needs a caller before
/// authentication, say): a bug of ours, answered with a 500.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Miswired(pub &'static str);

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
    pub fn internal(cause: impl std::error::Error + 'static) -> ApiError {
        tracing::error!(error = %error_chain(&cause), "internal error");
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

impl From<Failure> for ApiError {
    fn from(e: Failure) -> Self {
        ApiError::internal(e)
    }
}

impl From<NotReady> for ApiError {
    fn from(e: NotReady) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("Not ready: {e}"))
    }
}

impl From<AuthError> for ApiError {
    fn from(e: AuthError) -> Self {
        match e {
            AuthError::Unknown | AuthError::Revoked => ApiError::unauthorized(e.to_string()),
            AuthError::Failure(e) => e.into(),
        }
    }
}

impl From<ValidateError> for ApiError {
    fn from(e: ValidateError) -> Self {
        match e {
            ValidateError::CannotJudge => ApiError::bad_request(e.to_string()),
            ValidateError::Generate(e) => e.into(),
        }
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
            GenerateError::Failure(e) => e.into(),
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
            BulkError::Failure(e) => e.into(),
        }
    }
}

impl From<BatchesError> for ApiError {
    fn from(e: BatchesError) -> Self {
        match e {
            BatchesError::NotFound => ApiError::new(StatusCode::NOT_FOUND, "Batch not found"),
            BatchesError::NoWebhook => ApiError::bad_request("This batch has no webhook_url"),
            BatchesError::StillProcessing => ApiError::new(
                StatusCode::CONFLICT,
                "The batch is still processing; its webhook is sent when it finishes",
            ),
            BatchesError::DeliveryPending => ApiError::new(
                StatusCode::CONFLICT,
                "The webhook is still being delivered; see its attempts",
            ),
            BatchesError::Failure(e) => e.into(),
        }
    }
}

impl From<ScanError> for ApiError {
    fn from(e: ScanError) -> Self {
        match e {
            // The page is the caller's: unreachable, not HTML, too large, not public.
            ScanError::Page(e) => ApiError::bad_request(e.to_string()),
            ScanError::Batch(e) => e.into(),
            ScanError::Failure(e) => e.into(),
        }
    }
}
