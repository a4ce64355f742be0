//! Schemas for request fields that the code reads as plain strings (so that a wrong value gets
//! our own message) but that the contract restricts: their allowed values come from the
//! domain's own lists and limits, so the spec cannot drift from what the code accepts.
use altframe_domain::generation::{limits, Field, MaxLength, Mode, Role};
use altframe_domain::job::Source;
use altframe_domain::validation::FindingCode;
use schemars::{json_schema, Schema, SchemaGenerator};

use crate::adapters::page::markup;
use crate::usecases::scan::Generation;

pub fn mode(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = Mode::ALL.iter().map(|m| m.as_str()).collect();
    json_schema!({
        "type": "string",
        "enum": names,
        "default": Mode::default().as_str(),
        "description": "How the text is written: plain description, product copy, an empty alt text for a decorative image, or (our addition) `auto`: the service decides whether the image is decorative and says why in `results.decorative` and `results.decorative_reason`."
    })
}

pub fn fields(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = Field::ALL.iter().map(|f| f.as_str()).collect();
    json_schema!({
        "type": "array",
        "items": { "type": "string", "enum": names },
        "minItems": 1,
        "uniqueItems": true,
        "description": "Which texts to generate. Defaults to all four."
    })
}

pub fn language(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "pattern": "^[a-z]{2}$",
        "description": "ISO 639-1 code of the language to write in. Defaults to the account's language."
    })
}

pub fn languages(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": { "type": "string", "pattern": "^[a-z]{2}$" },
        "minItems": 1,
        "maxItems": limits::LANGUAGES,
        "uniqueItems": true,
        "description": "Several languages in one call (ISO 639-1 codes, no repeats). The first is the language of `results`; each other one appears in `translations`, +1 credit each, charged only when delivered (a language the model fails on is listed in `failed_languages`). When `language` is sent too, it must equal the first."
    })
}

pub fn role(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    json_schema!({
        "type": "string",
        "enum": names,
        "description": "Where the image stands on its page. A link's or button's alt text says where it goes or what it does; a logo's names the organisation when the context gives it; a chart's gets `results.long_description` (its data and trend); a background is usually decorative."
    })
}

pub fn link_url(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "maxLength": limits::URL_CHARS,
        "description": "Where the link or button that holds the image leads (context only; never fetched)."
    })
}

pub fn keywords(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": { "type": "string", "maxLength": limits::KEYWORD_CHARS },
        "maxItems": limits::KEYWORDS,
        "description": "SEO keywords to work into the text naturally."
    })
}

pub fn negative_keywords(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": { "type": "string", "maxLength": limits::KEYWORD_CHARS },
        "maxItems": limits::KEYWORDS,
        "description": "Words the text must never hold: they are kept out of the prompt's wishes and removed from the answer, whole words, any case."
    })
}

pub fn max_length(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "integer",
        "minimum": MaxLength::MIN,
        "maximum": MaxLength::MAX,
        "default": MaxLength::DEFAULT.get(),
        "description": "Longest alt text, in characters."
    })
}

pub fn url(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "maxLength": limits::URL_CHARS })
}

pub fn image_url(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "maxLength": limits::URL_CHARS,
        "description": "Public http(s) URL of a JPEG, PNG, WebP, GIF, AVIF, HEIC or TIFF image. Wins over image_base64."
    })
}

pub fn image_base64(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "description": "The image's bytes in base64, with or without a data: URL prefix."
    })
}

pub fn alt_text(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": ["string", "null"], "maxLength": limits::CONTEXT_CHARS })
}

pub fn context(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "maxLength": limits::CONTEXT_CHARS })
}

pub fn product_text(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "maxLength": limits::PRODUCT_TEXT_CHARS })
}

pub fn product_attributes(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "object",
        "additionalProperties": { "type": "string", "maxLength": limits::PRODUCT_TEXT_CHARS },
        "propertyNames": { "maxLength": limits::KEYWORD_CHARS },
        "maxProperties": limits::PRODUCT_ATTRIBUTES,
        "description": "Product details such as colour or material."
    })
}

pub fn completed(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "const": "completed" })
}

pub fn job_status(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "enum": crate::api::JOB_STATUSES })
}

pub fn source(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = Source::ALL.into_iter().map(Source::as_str).collect();
    json_schema!({
        "type": "string",
        "enum": names,
        "description": "Where the job came from: a single request, a batch, the dashboard, or a tool call through the MCP server."
    })
}

pub fn page_url(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "string",
        "maxLength": limits::URL_CHARS,
        "description": "The page to scan: an http(s) URL that must resolve to a public address, fetched like an image URL (same timeout and redirects), at most ALTFRAME_SCAN_MAX_PAGE_BYTES (5 MiB by default) of HTML."
    })
}

pub fn generate_flag(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "boolean",
        "default": false,
        "description": "Submit the images that need alt text as a batch, under bulk's rules: 1 credit per image reserved up front (402 and no batch if short), `webhook_url` honoured. Without it the scan is free."
    })
}

/// One of a list of names, as a response field always present.
fn one_of(names: Vec<&str>, description: &str) -> Schema {
    json_schema!({ "type": "string", "enum": names, "description": description })
}

/// A string or `null`, always present: `null` says something that absence would not.
pub fn text_or_null(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": ["string", "null"] })
}

/// The rules' findings. Each code is one of the domain's own, listed as a plain `enum` (its
/// derived schema is a `oneOf` of constants, which client generators type less well) and
/// described from the domain's words.
pub fn findings(_: &mut SchemaGenerator) -> Schema {
    let derived = schemars::schema_for!(FindingCode);
    let variants = derived
        .get("oneOf")
        .and_then(serde_json::Value::as_array)
        .cloned()
        .unwrap_or_default();
    let names: Vec<serde_json::Value> = variants
        .iter()
        .filter_map(|v| v.get("const").cloned())
        .collect();
    let described: Vec<String> = variants
        .iter()
        .filter_map(|v| {
            Some(format!(
                "`{}`: {}",
                v.get("const")?.as_str()?,
                v.get("description")?.as_str()?
            ))
        })
        .collect();
    json_schema!({
        "type": "array",
        "description": "What the rules found in its alt text, in the order its codes are listed; empty when nothing.",
        "items": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "enum": names,
                    "description": format!("What it is about. {}", described.join(" "))
                },
                "message": { "type": "string", "description": "What is wrong and what to do, in a sentence." }
            },
            "required": ["code", "message"]
        }
    })
}

pub fn scan_element(_: &mut SchemaGenerator) -> Schema {
    let names = markup::Kind::ALL.iter().map(|k| k.as_str()).collect();
    one_of(names, "`img`; `picture`, an img inside a `<picture>`, listed once with its sources' candidates; `background`, a background image of an inline `style`.")
}

pub fn scan_role(_: &mut SchemaGenerator) -> Schema {
    let names = markup::Role::ALL.iter().map(|r| r.as_str()).collect();
    one_of(names, "From the markup around it: `link` (inside an `<a href>`), `button` (inside a `<button>` or an element with `role=\"button\"`), `background`, else `content`.")
}

pub fn decorative_reason(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = markup::Decorative::ALL.iter().map(|d| d.as_str()).collect();
    json_schema!({
        "type": "string",
        "enum": names,
        "description": "Why the markup marks it decorative: `alt=\"\"`, `role=\"presentation\"` or `\"none\"`, `aria-hidden=\"true\"` on it or around it, or a background whose element is not `role=\"img\"`. Absent when it does not."
    })
}

pub fn generation(_: &mut SchemaGenerator) -> Schema {
    let names: Vec<&str> = Generation::ALL.iter().map(|g| g.as_str()).collect();
    json_schema!({
        "type": "string",
        "enum": names,
        "description": "With `generate`, on an image that needs alt text: `submitted` (in the batch; images at one address share an item), `left_out` (the batch was full at 100 addresses), `unusable` (its address cannot be fetched; see `unusable`)."
    })
}

/// For a request that takes one image: every field is optional to the schema. One of
/// `image_url` and `image_base64` is needed, which the description says rather than an
/// `anyOf`, which client generators turn into an untyped body.
pub fn needs_an_image(schema: &mut Schema) {
    schema.remove("required");
}

/// A scan needs its page; everything else is optional.
pub fn needs_page_url(schema: &mut Schema) {
    schema.insert("required".into(), serde_json::json!(["page_url"]));
}

/// A batch needs its images; everything else is optional.
pub fn needs_images(schema: &mut Schema) {
    schema.insert("required".into(), serde_json::json!(["images"]));
}

/// Drops a field schema's `default`: it tells what a server assumes for a request field, and
/// means nothing on a response field that is always present.
pub fn no_default(schema: &mut Schema) {
    schema.remove("default");
}
