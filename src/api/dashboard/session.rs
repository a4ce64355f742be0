//! Who is signed in: the session cookie, checked against the sessions in the database on
//! every request, and the CSRF token every form of the session carries.
//!
//! The session cookie is HttpOnly (no script reads it), SameSite=Lax (other sites' forms do
//! not carry it) and Secure when the request came over HTTPS. Before sign-in there is no
//! session to hold a token, so the sign-in and sign-up forms use a short-lived cookie of
//! their own with the same value as the form's hidden field (double submit).
use std::net::{IpAddr, Ipv6Addr};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use time::Duration;

use super::page::PageError;
use crate::api::layers::https::Connection;
use crate::api::ApiState;
use crate::usecases::logins::{self, Session, SESSION_LIFETIME};

pub const SESSION_COOKIE: &str = "af_session";
/// The sign-in form's own anti-forgery cookie.
pub const FORM_COOKIE: &str = "af_form";

/// Whether the request arrived over HTTPS, as the HTTPS layer found.
pub fn is_https(parts: &Parts) -> bool {
    parts
        .extensions
        .get::<Connection>()
        .is_some_and(|c| c.https)
}

/// The client's address as the per-address sign-in limit counts it: an IPv4 address, or the
/// /64 network of an IPv6 one (a single host is usually given a whole /64, and could otherwise
/// take a fresh address for each try).
pub fn client_address(parts: &Parts) -> String {
    match parts
        .extensions
        .get::<Connection>()
        .and_then(|c| c.client)
        .map(|ip| ip.to_canonical())
    {
        Some(IpAddr::V4(ip)) => ip.to_string(),
        Some(IpAddr::V6(ip)) => {
            let network = u128::from(ip) & !(u128::from(u64::MAX));
            format!("{}/64", Ipv6Addr::from(network))
        }
        None => "unknown".to_string(),
    }
}

fn cookie(name: &'static str, value: String, https: bool, max_age: Duration) -> Cookie<'static> {
    Cookie::build((name, value))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(https)
        .max_age(max_age)
        .build()
}

pub fn session_cookie(secret: String, https: bool) -> Cookie<'static> {
    let lifetime = Duration::seconds(SESSION_LIFETIME.num_seconds());
    cookie(SESSION_COOKIE, secret, https, lifetime)
}

pub fn form_cookie(token: String, https: bool) -> Cookie<'static> {
    cookie(FORM_COOKIE, token, https, Duration::hours(1))
}

/// A cookie that tells the browser to forget `name`.
pub fn expired(name: &'static str) -> Cookie<'static> {
    Cookie::build((name, ""))
        .path("/")
        .max_age(Duration::ZERO)
        .build()
}

/// Compares two tokens in time that does not depend on where they differ.
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A signed-in owner: the handler's proof that the request carries a live session.
pub struct Owner {
    pub session: Session,
    pub https: bool,
}

impl Owner {
    /// Refuses a form whose token is not this session's.
    pub fn check_csrf(&self, token: &str) -> Result<(), PageError> {
        if same_token(token, &self.session.csrf_token) {
            Ok(())
        } else {
            Err(PageError::FormExpired)
        }
    }
}

/// Without a live session, a page sends the browser to sign in, and back here after.
pub struct SignInFirst(String);

impl IntoResponse for SignInFirst {
    fn into_response(self) -> Response {
        // Encoded as a query value, but for its slashes, which a path needs none for there.
        let next: String = url::form_urlencoded::byte_serialize(self.0.as_bytes())
            .collect::<String>()
            .replace("%2F", "/");
        Redirect::to(&format!("/sign-in?next={next}")).into_response()
    }
}

impl FromRequestParts<ApiState> for Owner {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, Response> {
        let https = is_https(parts);
        let jar = CookieJar::from_headers(&parts.headers);
        let here = if parts.method == axum::http::Method::GET {
            parts.uri.path().to_string()
        } else {
            "/dashboard".to_string()
        };
        let Some(secret) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) else {
            return Err(SignInFirst(here).into_response());
        };
        match logins::session(&state.app, &secret).await {
            Ok(Some(session)) => Ok(Owner { session, https }),
            Ok(None) => Err(SignInFirst(here).into_response()),
            Err(e) => Err(PageError::from(e).into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
        assert!(!same_token("", "a"));
    }
}
