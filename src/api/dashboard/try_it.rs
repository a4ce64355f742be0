//! Try it: one generation from a form, with every option of POST /api/v1/generate. The form
//! is turned into the API's own request and checked by the API's own rules, then run by the
//! same use case, recorded with `source: "dashboard"`.
use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;

use altframe_domain::generation::{Field, GeneratedText, Mode, Role};
use altframe_domain::job::Source;

use super::format;
use super::page::{self, Chrome, PageError};
use super::session::Owner;
use crate::adapters::rate_limits::Endpoint;
use crate::api::error::ApiError;
use crate::api::ApiState;
use crate::api::GenerateRequest;
use crate::usecases::generate::{generate, GenerateError, GenerateOutcome, CUSTOM_PROMPT_TIER};
use crate::usecases::Failure;

/// What the owner typed, kept to fill the form again.
#[derive(Debug, Default, Clone)]
pub struct TryForm {
    pub csrf: String,
    pub image_url: String,
    pub file: Option<Vec<u8>>,
    pub file_name: String,
    pub mode: String,
    pub language: String,
    pub fields: Vec<String>,
    pub max_length: String,
    pub keywords: String,
    pub negative_keywords: String,
    pub page_url: String,
    pub page_context: String,
    pub product_name: String,
    pub product_sku: String,
    pub product_attributes: String,
    pub custom_prompt: String,
    /// Languages beyond the first, comma separated (`languages` after the first).
    pub more_languages: String,
    pub role: String,
    pub link_url: String,
    /// "Generate anew" was ticked: skip the generation cache.
    pub regenerate: bool,
}

fn present(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

impl TryForm {
    async fn read(mut multipart: Multipart) -> Result<TryForm, String> {
        let mut form = TryForm::default();
        while let Some(field) = multipart.next_field().await.map_err(|e| e.body_text())? {
            let name = field.name().unwrap_or_default().to_string();
            if name == "image_file" {
                let file_name = field.file_name().unwrap_or_default().to_string();
                let bytes = field.bytes().await.map_err(|e| e.body_text())?;
                if !bytes.is_empty() {
                    form.file = Some(bytes.to_vec());
                    form.file_name = file_name;
                }
                continue;
            }
            let value = field.text().await.map_err(|e| e.body_text())?;
            match name.as_str() {
                "csrf" => form.csrf = value,
                "image_url" => form.image_url = value,
                "mode" => form.mode = value,
                "language" => form.language = value,
                "fields" => form.fields.push(value),
                "max_length" => form.max_length = value,
                "keywords" => form.keywords = value,
                "negative_keywords" => form.negative_keywords = value,
                "page_url" => form.page_url = value,
                "page_context" => form.page_context = value,
                "product_name" => form.product_name = value,
                "product_sku" => form.product_sku = value,
                "product_attributes" => form.product_attributes = value,
                "custom_prompt" => form.custom_prompt = value,
                "more_languages" => form.more_languages = value,
                "role" => form.role = value,
                "link_url" => form.link_url = value,
                "regenerate" => form.regenerate = value == "true",
                _ => {}
            }
        }
        Ok(form)
    }

    /// The API request this form stands for; what the API would refuse, this refuses in the
    /// API's words. Other languages make it a `languages` request whose first is the form's
    /// language, or else `default_language`.
    fn request(&self, default_language: &str) -> Result<GenerateRequest, String> {
        let max_length = present(&self.max_length)
            .map(|m| {
                m.parse::<i64>()
                    .map_err(|_| "max_length must be a whole number".to_string())
            })
            .transpose()?;
        let list = |text: &str| -> Option<Vec<String>> {
            let words: Vec<String> = text.split(',').filter_map(present).collect();
            (!words.is_empty()).then_some(words)
        };
        let mut attributes = BTreeMap::new();
        for line in self.product_attributes.lines().filter_map(present) {
            let (name, value) = line.split_once(':').ok_or_else(|| {
                format!("product attributes are one “name: value” per line; “{line}” has no colon")
            })?;
            attributes.insert(name.trim().to_string(), value.trim().to_string());
        }
        let image_base64 = self
            .file
            .as_ref()
            .map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes));
        Ok(GenerateRequest {
            image_url: present(&self.image_url),
            image_base64,
            mode: present(&self.mode),
            language: present(&self.language),
            keywords: list(&self.keywords),
            negative_keywords: list(&self.negative_keywords),
            max_length,
            page_url: present(&self.page_url),
            page_context: present(&self.page_context),
            product_name: present(&self.product_name),
            product_sku: present(&self.product_sku),
            product_attributes: (!attributes.is_empty()).then_some(attributes),
            fields: (!self.fields.is_empty()).then(|| self.fields.clone()),
            custom_prompt: present(&self.custom_prompt),
            languages: list(&self.more_languages).map(|more| {
                let first = present(&self.language).unwrap_or_else(|| default_language.to_string());
                std::iter::once(first).chain(more).collect()
            }),
            role: present(&self.role),
            link_url: present(&self.link_url),
            regenerate: self.regenerate.then_some(true),
        })
    }

    pub fn has_field(&self, field: &&str) -> bool {
        if self.fields.is_empty() {
            return *field == "alt_text";
        }
        self.fields.iter().any(|f| f == field)
    }
}

pub struct ResultView {
    pub job_id: String,
    pub fields: Vec<(&'static str, String)>,
    /// In auto mode: "Decorative" or "Not decorative", and why.
    pub verdict: Option<(&'static str, String)>,
    /// Each other language delivered, and its fields.
    pub translations: Vec<(String, Vec<(&'static str, String)>)>,
    /// Languages not delivered, comma separated; empty when none.
    pub failed_languages: String,
    pub language: String,
    pub model: String,
    pub credits_used: String,
    pub credits_remaining: String,
    pub processing_ms: String,
    /// The job whose text this is, when the generation cache answered.
    pub cached_from: Option<String>,
}

/// The requested fields of `text`, in the contract's order, then a chart's long description.
fn fields_of(text: &GeneratedText) -> Vec<(&'static str, String)> {
    let long = text
        .long_description
        .as_ref()
        .map(|t| ("long_description", t.clone()));
    Field::ALL
        .into_iter()
        .filter_map(|f| text.get(f).map(|t| (f.as_str(), t.to_string())))
        .chain(long)
        .collect()
}

impl From<GenerateOutcome> for ResultView {
    fn from(o: GenerateOutcome) -> Self {
        ResultView {
            fields: fields_of(&o.results),
            verdict: o.results.decorative.map(|decorative| {
                let label = if decorative {
                    "Decorative"
                } else {
                    "Not decorative"
                };
                (
                    label,
                    o.results.decorative_reason.clone().unwrap_or_default(),
                )
            }),
            translations: o
                .translations
                .iter()
                .map(|(language, text)| (language.as_str().to_string(), fields_of(text)))
                .collect(),
            failed_languages: o
                .failed_languages
                .iter()
                .map(|l| l.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            job_id: o.job_id.into_string(),
            language: o.language.as_str().to_string(),
            model: o.model,
            credits_used: format::credits(i64::from(o.credits_used)),
            credits_remaining: format::credits(i64::from(o.credits_remaining)),
            processing_ms: format::thousands(o.processing_ms as i64),
            cached_from: o.cached_from.map(|id| id.into_string()),
        }
    }
}

#[derive(Template)]
#[template(path = "dashboard/try.html")]
struct TryPage {
    chrome: Chrome,
    form: TryForm,
    modes: Vec<&'static str>,
    roles: Vec<&'static str>,
    all_fields: Vec<&'static str>,
    default_language: String,
    custom_prompt_allowed: bool,
    /// The generation cache's window; 0 when it is off (no "Generate anew" box then).
    cache_days: u32,
    error: Option<String>,
    result: Option<ResultView>,
}

fn try_page(state: &ApiState, owner: &Owner, form: TryForm) -> TryPage {
    TryPage {
        chrome: Chrome::new(owner, "try"),
        form,
        cache_days: state.app.cache_days(),
        modes: Mode::ALL.iter().map(|m| m.as_str()).collect(),
        roles: Role::ALL.iter().map(|r| r.as_str()).collect(),
        all_fields: Field::ALL.iter().map(|f| f.as_str()).collect(),
        default_language: owner
            .session
            .requester
            .default_language
            .as_str()
            .to_string(),
        custom_prompt_allowed: owner.session.requester.plan.tier() >= CUSTOM_PROMPT_TIER,
        error: None,
        result: None,
    }
}

/// The API names a bad language by its place in `languages`, whose first the form adds (the
/// language field, or the default): the form's own list counts from 1 after it.
fn in_the_forms_words(message: String) -> String {
    let place = message
        .strip_prefix("languages[")
        .and_then(|rest| rest.split_once(']'));
    match place.and_then(|(n, rest)| Some((n.parse::<usize>().ok()?, rest))) {
        Some((n, rest)) if n > 0 => format!("Other languages, code {n}{rest}"),
        _ => message,
    }
}

pub async fn get_try(State(state): State<ApiState>, owner: Owner) -> Response {
    page::ok(&try_page(&state, &owner, TryForm::default()))
}

/// Generations from the dashboard count against the plan's generate limit, like a key's, in
/// a count of the account's own; `Some(seconds to wait)` when over it.
async fn over_the_limit(state: &ApiState, owner: &Owner) -> Result<Option<i64>, PageError> {
    let requester = &owner.session.requester;
    let now = state.app.clock().now();
    let counted_as = format!("dashboard:{}", requester.account_id);
    let decision = state
        .rate_limiter
        .hit(&counted_as, requester.plan, Endpoint::Generate, now)
        .await
        .map_err(|e| PageError::Failure(Failure::from(e)))?;
    Ok((!decision.allowed).then(|| decision.retry_after(now)))
}

pub async fn post_try(
    State(state): State<ApiState>,
    owner: Owner,
    multipart: Multipart,
) -> Result<Response, PageError> {
    let form = match TryForm::read(multipart).await {
        Ok(form) => form,
        Err(message) => {
            let mut page = try_page(&state, &owner, TryForm::default());
            page.error = Some(message);
            return Ok(page::render(StatusCode::BAD_REQUEST, &page));
        }
    };
    owner.check_csrf(&form.csrf)?;
    if let Some(wait) = over_the_limit(&state, &owner).await? {
        let mut page = try_page(&state, &owner, TryForm::default());
        page.error = Some(format!(
            "Rate limit exceeded: this plan allows {} generations a minute. Try again in {wait} seconds.",
            state.rate_limiter.table().limit(owner.session.requester.plan, Endpoint::Generate)
        ));
        return Ok(page::render(StatusCode::TOO_MANY_REQUESTS, &page));
    }
    let mut form = form;
    let request = form.request(owner.session.requester.default_language.as_str());
    // The page shows the form again, without the image's bytes.
    form.file = None;
    let mut page = try_page(&state, &owner, form);
    let input = match request.and_then(|r| r.parse().map_err(|e| e.0)) {
        Ok(input) => input,
        Err(message) => {
            page.error = Some(in_the_forms_words(message));
            return Ok(page::render(StatusCode::BAD_REQUEST, &page));
        }
    };
    let requester = &owner.session.requester;
    match generate(&state.app, requester, Source::Dashboard, input).await {
        Ok(outcome) => {
            page.result = Some(outcome.into());
            Ok(page::ok(&page))
        }
        // Ours, not the owner's: the error page, with the cause logged.
        Err(GenerateError::Failure(e)) => Err(PageError::Failure(e)),
        Err(e) => {
            // The API's status and words for the same refusal.
            let refused = ApiError::from(e);
            page.error = Some(refused.message);
            Ok(page::render(refused.status, &page))
        }
    }
}
