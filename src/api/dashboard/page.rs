//! What every dashboard page shares: the navigation and the signed-in owner ("chrome"), the
//! headers of a page, and the error pages, which say what happened and what to do.
use askama::Template;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::session::Owner;
use crate::api::html;
use crate::usecases::accounts::AccountsError;
use crate::usecases::batches::BatchesError;
use crate::usecases::logins::LoginError;
use crate::usecases::{error_chain, Failure};

/// The dashboard's policy: the site's own, but images from anywhere on HTTPS too, for the
/// thumbnails of the owner's image URLs in history.
const DASHBOARD_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data: https:; connect-src 'self'; form-action 'self'; base-uri 'none'; \
    frame-ancestors 'none'";

/// The navigation's pages, in order: (path, name, the `current` that marks it).
pub const NAV: [(&str, &str, &str); 6] = [
    ("/dashboard", "Overview", "overview"),
    ("/dashboard/keys", "API keys", "keys"),
    ("/dashboard/history", "History", "history"),
    ("/dashboard/try", "Try it", "try"),
    ("/dashboard/batches", "Batches", "batches"),
    ("/dashboard/settings", "Settings", "settings"),
];

/// What the layout shows around every signed-in page.
pub struct Chrome {
    pub current: &'static str,
    pub email: String,
    pub csrf: String,
}

/// One link of the navigation.
pub struct NavLink {
    pub href: &'static str,
    pub name: &'static str,
    pub current: bool,
}

impl Chrome {
    pub fn nav(&self) -> Vec<NavLink> {
        NAV.iter()
            .map(|(href, name, key)| NavLink {
                href,
                name,
                current: *key == self.current,
            })
            .collect()
    }

    pub fn new(owner: &Owner, current: &'static str) -> Chrome {
        Chrome {
            current,
            email: owner.session.email.clone(),
            csrf: owner.session.csrf_token.clone(),
        }
    }
}

/// A rendered dashboard page with `status`; pages are never cached, as they show an
/// account's private state.
pub fn render<T: Template>(status: StatusCode, template: &T) -> Response {
    let mut response = html::render(template);
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DASHBOARD_CSP),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

pub fn ok<T: Template>(template: &T) -> Response {
    render(StatusCode::OK, template)
}

/// Why a page could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error("This form has expired or was not sent from this dashboard. Go back, reload the page and try again.")]
    FormExpired,
    #[error(
        "There is nothing here. It may belong to another account, or the address may be mistyped."
    )]
    NotFound,
    #[error(transparent)]
    Failure(#[from] Failure),
}

impl From<LoginError> for PageError {
    fn from(e: LoginError) -> Self {
        match e {
            LoginError::Failure(f) => PageError::Failure(f),
            LoginError::Accounts(e) => e.into(),
            other => PageError::Failure(Failure::Inconsistent(other.to_string())),
        }
    }
}

impl From<AccountsError> for PageError {
    /// What the pages ask for never names another account, so a missing account or key is
    /// "not found"; the rest are handled by the pages that can meet them, and reaching here
    /// means a page did not.
    fn from(e: AccountsError) -> Self {
        match e {
            AccountsError::Failure(f) => PageError::Failure(f),
            AccountsError::NoSuchKey(_) | AccountsError::NoSuchAccount(_) => PageError::NotFound,
            e @ (AccountsError::AlreadyRevoked(_)
            | AccountsError::AccountExists(_)
            | AccountsError::AlreadyOnPlan(_)
            | AccountsError::NoOverageOnPlan(_)
            | AccountsError::BadLabel(_)) => PageError::Failure(Failure::Inconsistent(format!(
                "a page met an account error it does not handle: {e}"
            ))),
        }
    }
}

impl From<BatchesError> for PageError {
    fn from(e: BatchesError) -> Self {
        match e {
            BatchesError::NotFound => PageError::NotFound,
            BatchesError::Failure(f) => PageError::Failure(f),
            other => PageError::Failure(Failure::Inconsistent(other.to_string())),
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/error.html")]
struct ErrorPage {
    status: u16,
    heading: &'static str,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let (status, heading) = match &self {
            PageError::FormExpired => (StatusCode::FORBIDDEN, "This form has expired"),
            PageError::NotFound => (StatusCode::NOT_FOUND, "Page not found"),
            PageError::Failure(e) => {
                // Logged with its causes, as the API logs its 500s; the owner sees no detail.
                tracing::error!(error = %error_chain(e), "dashboard page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side",
                )
            }
        };
        let message = match &self {
            PageError::Failure(_) => {
                "Nothing was changed. Try again in a moment; if it keeps happening, tell your operator."
                    .to_string()
            }
            other => other.to_string(),
        };
        render(
            status,
            &ErrorPage {
                status: status.as_u16(),
                heading,
                message,
            },
        )
    }
}
