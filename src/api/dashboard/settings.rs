//! Settings: the webhook signing secret (reveal, rotate), the default language, and the
//! owner's password.
use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use axum_extra::extract::cookie::CookieJar;
use serde::Deserialize;

use altframe_domain::generation::Language;
use altframe_domain::languages::ISO_639_1;

use super::page::{self, Chrome, PageError};
use super::session::{self, Owner};
use crate::api::ApiState;
use crate::usecases::logins::{self, LoginError};
use crate::usecases::{accounts, webhooks};

#[derive(Template)]
#[template(path = "dashboard/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    secret: Option<String>,
    languages: &'static [&'static str],
    language: String,
    notice: Option<String>,
    error: Option<(&'static str, String)>,
}

/// The page for `owner`; the language shown is the account's, as this request's session
/// read it.
fn settings_page(owner: &Owner) -> SettingsPage {
    let language = owner
        .session
        .requester
        .default_language
        .as_str()
        .to_string();
    SettingsPage {
        chrome: Chrome::new(owner, "settings"),
        secret: None,
        languages: &ISO_639_1,
        language,
        notice: None,
        error: None,
    }
}

#[derive(Deserialize, Default)]
pub struct SettingsQuery {
    done: Option<String>,
}

fn notice_for(done: &str) -> Option<String> {
    Some(
        match done {
            "language" => {
                "Your default language is saved. Requests that name no language use it from now on."
            }
            "password" => {
                "Your password is changed. Other browsers signed in with it have been signed out."
            }
            _ => return None,
        }
        .to_string(),
    )
}

pub async fn get_settings(
    owner: Owner,
    Query(query): Query<SettingsQuery>,
) -> Result<Response, PageError> {
    let mut page = settings_page(&owner);
    page.notice = query.done.as_deref().and_then(notice_for);
    Ok(page::ok(&page))
}

#[derive(Deserialize)]
pub struct SecretForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    action: String,
}

/// Shows the secret (made on first use), or replaces it. Either way it is shown in this
/// answer only.
pub async fn post_webhook_secret(
    State(state): State<ApiState>,
    owner: Owner,
    Form(form): Form<SecretForm>,
) -> Result<Response, PageError> {
    owner.check_csrf(&form.csrf)?;
    let rotate = form.action == "rotate";
    let account_id = &owner.session.requester.account_id;
    let (secret, _) = webhooks::secret(&state.app, account_id, rotate).await?;
    let mut page = settings_page(&owner);
    page.secret = Some(secret);
    if rotate {
        page.notice = Some("A new webhook secret is in use: webhooks sent from now on are signed with it. Update your receiver.".into());
    }
    Ok(page::ok(&page))
}

#[derive(Deserialize)]
pub struct LanguageForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    language: String,
}

pub async fn post_language(
    State(state): State<ApiState>,
    owner: Owner,
    Form(form): Form<LanguageForm>,
) -> Result<Response, PageError> {
    owner.check_csrf(&form.csrf)?;
    let Ok(language) = Language::parse(form.language.trim()) else {
        let mut page = settings_page(&owner);
        page.error = Some(("language", "Choose a language from the list".into()));
        return Ok(page::render(StatusCode::BAD_REQUEST, &page));
    };
    accounts::set_language(&state.app, &owner.session.requester.account_id, language).await?;
    Ok(Redirect::to("/dashboard/settings?done=language").into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    confirm: String,
}

/// Changes the password after checking the current one; every session of the login ends
/// and this browser gets a new one.
pub async fn post_password(
    State(state): State<ApiState>,
    owner: Owner,
    jar: CookieJar,
    Form(form): Form<PasswordForm>,
) -> Result<Response, PageError> {
    owner.check_csrf(&form.csrf)?;
    let refuse = |field: &'static str, message: String| {
        let mut page = settings_page(&owner);
        page.error = Some((field, message));
        Ok(page::render(StatusCode::BAD_REQUEST, &page))
    };
    if form.new != form.confirm {
        return refuse(
            "confirm",
            "The new password and its confirmation differ".into(),
        );
    }
    match logins::change_password(&state.app, &owner.session, form.current, form.new).await {
        Ok(signed) => {
            let jar = jar.add(session::session_cookie(signed.secret, owner.https));
            Ok((jar, Redirect::to("/dashboard/settings?done=password")).into_response())
        }
        Err(LoginError::WrongCurrentPassword) => {
            refuse("current", "The current password is not right".into())
        }
        Err(e @ (LoginError::PasswordTooShort | LoginError::PasswordTooLong)) => {
            refuse("new", crate::api::text::sentence(&e.to_string()))
        }
        Err(e @ (LoginError::TooManyAttempts { .. } | LoginError::Busy)) => {
            let status = match e {
                LoginError::Busy => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::TOO_MANY_REQUESTS,
            };
            let mut page = settings_page(&owner);
            page.error = Some(("current", crate::api::text::sentence(&e.to_string())));
            Ok(page::render(status, &page))
        }
        Err(e) => Err(e.into()),
    }
}
