//! The dashboard: the account owner's door onto the same use cases as the API and the CLI.
//! Server-rendered pages (askama templates in `templates/dashboard/`), every form a plain
//! POST that works without JavaScript, signed in with a session cookie and guarded by a
//! per-session CSRF token.
mod batches;
mod format;
mod history;
mod keys;
mod overview;
mod page;
mod session;
mod settings;
mod sign_in;
mod try_it;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{Extension, Router};

use crate::api::ApiState;

pub use session::SESSION_COOKIE;

/// Whether visitors may open a free account from the sign-in page (`ALTFRAME_SIGNUP`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Signup {
    #[default]
    Closed,
    Open,
}

/// Whether `path` is the dashboard's, so that what answers it (a 404, say) is a page.
pub fn owns(path: &str) -> bool {
    ["/dashboard", "/sign-in", "/sign-out", "/sign-up"]
        .iter()
        .any(|prefix| path == *prefix || path.starts_with(&format!("{prefix}/")))
}

/// The page for a dashboard path that leads nowhere.
pub fn not_found() -> axum::response::Response {
    axum::response::IntoResponse::into_response(page::PageError::NotFound)
}

/// The dashboard's routes; `max_upload` bounds the try-it page's form (an image and its
/// options).
pub fn router(signup: Signup, max_upload: usize) -> Router<ApiState> {
    let mut router = Router::new()
        .route(
            "/sign-in",
            get(sign_in::get_sign_in).post(sign_in::post_sign_in),
        )
        .route("/sign-out", post(sign_in::post_sign_out))
        .route("/dashboard", get(overview::get_overview))
        .route("/dashboard/overage", post(overview::post_overage))
        .route("/dashboard/keys", get(keys::get_keys).post(keys::post_key))
        .route(
            "/dashboard/keys/{key_id}/revoke",
            get(keys::get_revoke).post(keys::post_revoke),
        )
        .route("/dashboard/history", get(history::get_history))
        .route(
            "/dashboard/try",
            get(try_it::get_try)
                .post(try_it::post_try)
                .layer(DefaultBodyLimit::max(max_upload)),
        )
        .route("/dashboard/batches", get(batches::get_batches))
        .route("/dashboard/batches/{batch_id}", get(batches::get_batch))
        .route(
            "/dashboard/batches/{batch_id}/redeliver",
            post(batches::post_redeliver),
        )
        .route("/dashboard/settings", get(settings::get_settings))
        .route(
            "/dashboard/settings/webhook-secret",
            post(settings::post_webhook_secret),
        )
        .route(
            "/dashboard/settings/language",
            post(settings::post_language),
        )
        .route(
            "/dashboard/settings/password",
            post(settings::post_password),
        );
    if signup == Signup::Open {
        router = router.route(
            "/sign-up",
            get(sign_in::get_sign_up).post(sign_in::post_sign_up),
        );
    }
    router.layer(Extension(signup))
}
