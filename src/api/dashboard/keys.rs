//! API keys: create one with a label (its secret shown this once), list them by what
//! identifies them, and revoke one after a confirmation that says what breaks.
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use serde::Deserialize;

use altframe_domain::KeyId;

use super::format;
use super::page::{self, Chrome, PageError};
use super::session::Owner;
use crate::api::ApiState;
use crate::usecases::keys::{self, IssuedKey, ListedKey};

/// Longest label, in characters.
const MAX_LABEL_CHARS: usize = 60;

pub struct KeyView {
    pub id: String,
    pub label: String,
    pub prefix: String,
    pub created: String,
    pub created_at: String,
    pub last_used: Option<(String, String)>,
    pub revoked: Option<(String, String)>,
}

impl From<ListedKey> for KeyView {
    fn from(listed: ListedKey) -> Self {
        let key = listed.key;
        let moment = |at: String| (format::moment(&at), at);
        KeyView {
            created: format::moment(&key.created_at),
            created_at: key.created_at,
            label: key.name,
            prefix: format!("{}…", key.key_prefix),
            last_used: listed.last_used_at.map(moment),
            revoked: key.revoked_at.map(moment),
            id: key.id,
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/keys.html")]
struct KeysPage {
    chrome: Chrome,
    keys: Vec<KeyView>,
    issued: Option<IssuedKey>,
    label: String,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct KeysQuery {
    revoked: Option<String>,
}

async fn keys_page(
    state: &ApiState,
    owner: &Owner,
    status: StatusCode,
    issued: Option<IssuedKey>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let listed = keys::list(&state.app, &owner.session.requester.account_id).await?;
    let page = KeysPage {
        chrome: Chrome::new(owner, "keys"),
        keys: listed.into_iter().rev().map(KeyView::from).collect(),
        issued,
        label: String::new(),
        error,
        notice,
    };
    Ok(page::render(status, &page))
}

pub async fn get_keys(
    State(state): State<ApiState>,
    owner: Owner,
    Query(query): Query<KeysQuery>,
) -> Result<Response, PageError> {
    let notice = query
        .revoked
        .map(|label| format!("Key “{label}” is revoked. Requests that send it now get 401."));
    keys_page(&state, &owner, StatusCode::OK, None, None, notice).await
}

#[derive(Deserialize)]
pub struct NewKeyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    label: String,
}

/// Issues a key and shows its secret in this answer only: not a redirect, so the secret is
/// never in a URL or a page that can be reloaded.
pub async fn post_key(
    State(state): State<ApiState>,
    owner: Owner,
    Form(form): Form<NewKeyForm>,
) -> Result<Response, PageError> {
    owner.check_csrf(&form.csrf)?;
    let label = form.label.trim();
    let problem = if label.is_empty() {
        Some("Enter a label, such as production or staging".to_string())
    } else if label.chars().count() > MAX_LABEL_CHARS {
        Some(format!(
            "The label must be {MAX_LABEL_CHARS} characters or fewer"
        ))
    } else {
        None
    };
    if let Some(problem) = problem {
        return keys_page(
            &state,
            &owner,
            StatusCode::BAD_REQUEST,
            None,
            Some(problem),
            None,
        )
        .await;
    }
    let issued = keys::issue_key(&state.app, &owner.session.requester.account_id, label).await?;
    keys_page(
        &state,
        &owner,
        StatusCode::CREATED,
        Some(issued),
        None,
        None,
    )
    .await
}

#[derive(Template)]
#[template(path = "dashboard/revoke.html")]
struct RevokePage {
    chrome: Chrome,
    key: KeyView,
}

async fn own_key(state: &ApiState, owner: &Owner, key_id: &str) -> Result<KeyView, PageError> {
    keys::list(&state.app, &owner.session.requester.account_id)
        .await?
        .into_iter()
        .find(|k| k.key.id == key_id && k.key.revoked_at.is_none())
        .map(KeyView::from)
        .ok_or(PageError::NotFound)
}

/// Asks once, in words that say what breaks.
pub async fn get_revoke(
    State(state): State<ApiState>,
    owner: Owner,
    Path(key_id): Path<String>,
) -> Result<Response, PageError> {
    let key = own_key(&state, &owner, &key_id).await?;
    Ok(page::ok(&RevokePage {
        chrome: Chrome::new(&owner, "keys"),
        key,
    }))
}

pub async fn post_revoke(
    State(state): State<ApiState>,
    owner: Owner,
    Path(key_id): Path<String>,
    Form(form): Form<super::sign_in::CsrfForm>,
) -> Result<Response, PageError> {
    owner.check_csrf(&form.csrf)?;
    let account_id = &owner.session.requester.account_id;
    let row = keys::revoke_own_key(&state.app, account_id, &KeyId::new(key_id)).await?;
    let to = format!("/dashboard/keys?revoked={}", url_encode(&row.name));
    Ok(Redirect::to(&to).into_response())
}

/// Percent-encodes everything but unreserved characters, for a query value.
fn url_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
