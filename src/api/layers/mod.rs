//! The layers every API request passes through, besides tower-http's.
pub mod auth;
pub mod headers;
pub mod https;
pub mod idempotency;
pub mod observe;
pub mod rate_limit;
