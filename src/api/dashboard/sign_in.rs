//! Signing in, out and (when open) up. A wrong password, an unknown e-mail and a limit
//! reached each get a page that says so; the password field is never filled back in.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use super::page::{self, PageError};
use super::session::{self, Owner, FORM_COOKIE, SESSION_COOKIE};
use super::Signup;
use crate::adapters::ids;
use crate::api::ApiState;
use crate::usecases::logins::{self, LoginError, SignedIn, MIN_PASSWORD_CHARS};

/// The connection's facts a sign-in needs, taken from the request.
pub struct Visitor {
    https: bool,
    client: String,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Visitor {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Visitor {
            https: session::is_https(parts),
            client: session::client_address(parts),
        })
    }
}

/// The minimum length, for the form's hint.
pub const PASSWORD_HINT_CHARS: usize = MIN_PASSWORD_CHARS;

#[derive(Template)]
#[template(path = "dashboard/sign_in.html")]
struct SignInPage {
    signing_up: bool,
    signup_open: bool,
    csrf: String,
    next: String,
    email: String,
    error: Option<FieldError>,
    notice: Option<&'static str>,
}

/// An error of the form, and the field it is about (the summary links to it).
struct FieldError {
    field: &'static str,
    message: String,
}

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    #[serde(default)]
    next: String,
    #[serde(default)]
    signed_out: Option<String>,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// Only a dashboard page of ours is a place to go back to after signing in.
fn safe_next(next: &str) -> &str {
    let local = next.starts_with("/dashboard")
        && !next.contains("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace());
    if local {
        next
    } else {
        "/dashboard"
    }
}

fn form_page(
    jar: CookieJar,
    visitor: &Visitor,
    status: StatusCode,
    mut page: SignInPage,
) -> Response {
    let token = ids::csrf_token();
    page.csrf = token.clone();
    let jar = jar.add(session::form_cookie(token, visitor.https));
    (jar, page::render(status, &page)).into_response()
}

fn blank(signing_up: bool, signup_open: bool, next: &str) -> SignInPage {
    SignInPage {
        signing_up,
        signup_open,
        csrf: String::new(),
        next: safe_next(next).to_string(),
        email: String::new(),
        error: None,
        notice: None,
    }
}

pub async fn get_sign_in(
    Extension(signup): Extension<Signup>,
    Query(query): Query<SignInQuery>,
    jar: CookieJar,
    visitor: Visitor,
) -> Response {
    let mut page = blank(false, signup == Signup::Open, &query.next);
    if query.signed_out.is_some() {
        page.notice = Some("You have signed out.");
    }
    form_page(jar, &visitor, StatusCode::OK, page)
}

pub async fn get_sign_up(jar: CookieJar, visitor: Visitor) -> Response {
    form_page(jar, &visitor, StatusCode::OK, blank(true, true, ""))
}

/// The form's token must match the cookie the form page set.
fn form_token_matches(jar: &CookieJar, token: &str) -> bool {
    jar.get(FORM_COOKIE)
        .is_some_and(|c| !token.is_empty() && session::same_token(c.value(), token))
}

fn signed_in(jar: CookieJar, visitor: &Visitor, signed: SignedIn, next: &str) -> Response {
    let jar = jar
        .remove(session::expired(FORM_COOKIE))
        .add(session::session_cookie(signed.secret, visitor.https));
    (jar, Redirect::to(safe_next(next))).into_response()
}

fn refused(
    jar: CookieJar,
    visitor: &Visitor,
    mut page: SignInPage,
    e: LoginError,
) -> Result<Response, PageError> {
    let (status, field) = match &e {
        LoginError::WrongCredentials => (StatusCode::UNAUTHORIZED, "email"),
        LoginError::TooManyAttempts { .. } | LoginError::TooManySignUps { .. } => {
            (StatusCode::TOO_MANY_REQUESTS, "email")
        }
        LoginError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "email"),
        LoginError::BadEmail | LoginError::EmailTaken(_) => (StatusCode::BAD_REQUEST, "email"),
        LoginError::PasswordTooShort | LoginError::PasswordTooLong => {
            (StatusCode::BAD_REQUEST, "password")
        }
        _ => return Err(e.into()),
    };
    let message = match e {
        LoginError::WrongCredentials => {
            "The e-mail or password is not right. Check both and try again.".to_string()
        }
        LoginError::TooManyAttempts { minutes } => format!(
            "Too many failed sign-ins. For your account's safety, sign-in is paused: try again in {minutes} minutes."
        ),
        other => crate::api::text::sentence(&other.to_string()),
    };
    page.error = Some(FieldError { field, message });
    Ok(form_page(jar, visitor, status, page))
}

pub async fn post_sign_in(
    State(state): State<ApiState>,
    Extension(signup): Extension<Signup>,
    jar: CookieJar,
    visitor: Visitor,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    if !form_token_matches(&jar, &form.csrf) {
        return Err(PageError::FormExpired);
    }
    let mut page = blank(false, signup == Signup::Open, &form.next);
    page.email = form.email.clone();
    let old = jar.get(SESSION_COOKIE).map(|c| c.value().to_string());
    let signed = logins::sign_in(
        &state.app,
        &form.email,
        form.password,
        &visitor.client,
        old.as_deref(),
    );
    match signed.await {
        Ok(signed) => Ok(signed_in(jar, &visitor, signed, &form.next)),
        Err(e) => refused(jar, &visitor, page, e),
    }
}

pub async fn post_sign_up(
    State(state): State<ApiState>,
    jar: CookieJar,
    visitor: Visitor,
    Form(form): Form<SignInForm>,
) -> Result<Response, PageError> {
    if !form_token_matches(&jar, &form.csrf) {
        return Err(PageError::FormExpired);
    }
    let mut page = blank(true, true, "");
    page.email = form.email.clone();
    match logins::sign_up(&state.app, &form.email, form.password, &visitor.client).await {
        Ok(signed) => Ok(signed_in(jar, &visitor, signed, "/dashboard")),
        Err(e) => refused(jar, &visitor, page, e),
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// Ends the session in the database, so no process honours it again, and clears the cookie.
pub async fn post_sign_out(
    State(state): State<ApiState>,
    owner: Owner,
    jar: CookieJar,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    owner.check_csrf(&form.csrf)?;
    if let Some(secret) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) {
        logins::sign_out(&state.app, &secret).await?;
    }
    let jar = jar.remove(session::expired(SESSION_COOKIE));
    Ok((jar, Redirect::to("/sign-in?signed_out=1")).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_our_dashboard_is_a_place_to_return_to() {
        assert_eq!(safe_next("/dashboard/keys"), "/dashboard/keys");
        assert_eq!(safe_next("https://evil.example/"), "/dashboard");
        assert_eq!(safe_next("//evil.example/dashboard"), "/dashboard");
        assert_eq!(safe_next("/dashboard//evil.example"), "/dashboard");
        assert_eq!(safe_next(""), "/dashboard");
        assert_eq!(safe_next("/dashboard\n"), "/dashboard");
    }
}
