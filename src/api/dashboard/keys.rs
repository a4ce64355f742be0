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
use crate::usecases::accounts::AccountsError;
use crate::usecases::keys::{self, IssuedKey, ListedKey};

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

/// The keys page; `revoked` names a key of the owner's just revoked, for the notice.
async fn keys_page(
    state: &ApiState,
    owner: &Owner,
    status: StatusCode,
    issued: Option<IssuedKey>,
    error: Option<String>,
    revoked: Option<String>,
) -> Result<Response, PageError> {
    let listed = keys::list(&state.app, &owner.session.requester.account_id).await?;
    let notice = revoked.and_then(|id| {
        listed.iter().find(|k| k.key.id == id).map(|k| {
            format!(
                "Key “{}” is revoked. Requests that send it now get 401.",
                k.key.name
            )
        })
    });
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
    keys_page(&state, &owner, StatusCode::OK, None, None, query.revoked).await
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
    let account_id = &owner.session.requester.account_id;
    match keys::issue_key(&state.app, account_id, &form.label).await {
        Ok(issued) => {
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
        Err(AccountsError::BadLabel(problem)) => {
            let problem = crate::api::text::sentence(&problem);
            keys_page(
                &state,
                &owner,
                StatusCode::BAD_REQUEST,
                None,
                Some(problem),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
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
    let key_id = KeyId::new(key_id);
    match keys::revoke_own_key(&state.app, account_id, &key_id).await {
        // Revoked a moment ago (a second click, another tab): the outcome the owner wanted.
        Ok(_) | Err(AccountsError::AlreadyRevoked(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let to = format!("/dashboard/keys?revoked={}", key_id.as_str());
    Ok(Redirect::to(&to).into_response())
}
