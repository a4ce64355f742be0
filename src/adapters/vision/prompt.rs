//! The instructions sent to a language model, built from a request's options.
use altframe_domain::generation::{Field, GenerationOptions, Mode};
use serde_json::{json, Value};

pub fn system_prompt(o: &GenerationOptions) -> String {
    let mut s = String::from(
        "You write text that makes images accessible and findable on the web. Describe only \
         what is visible; never guess names, brands or text you cannot read. Do not start alt \
         text with \"Image of\" or \"Picture of\". Weave the given keywords in only where they \
         truly fit the picture.",
    );
    s.push_str(match o.mode {
        Mode::Standard => " Describe the image for a reader who cannot see it.",
        Mode::Ecommerce => {
            " This is a product image in a shop: name the product, its type, colour, material \
             and other visible attributes a buyer needs."
        }
        Mode::Decorative => {
            " The image is decorative; alt_text will be discarded, so keep it empty and write \
             the other fields briefly."
        }
        Mode::Auto => " Describe the image for a reader who cannot see it.",
    });
    s.push_str(&format!(
        " Write every field in the language with ISO 639-1 code \"{}\".",
        o.language.as_str()
    ));
    for field in o.fields.iter() {
        s.push_str(&format!(
            " {}: {} (at most {} characters).",
            field.as_str(),
            field_guide(field),
            field.max_chars(o.max_length)
        ));
    }
    s.push_str(" Answer with a JSON object holding exactly these fields.");
    s
}

fn field_guide(field: Field) -> &'static str {
    match field {
        Field::AltText => "concise alt text conveying the image's content and purpose",
        Field::Title => "a short title or heading for the image",
        Field::Caption => "a caption of one or two sentences with more detail",
        Field::OgDescription => "an engaging Open Graph description for social sharing",
    }
}

/// The request's context, as the user message's text part.
pub fn user_prompt(o: &GenerationOptions) -> String {
    let mut lines = vec!["Write the requested text for this image.".to_string()];
    if !o.keywords.is_empty() {
        lines.push(format!("SEO keywords: {}", o.keywords.join(", ")));
    }
    if !o.negative_keywords.is_empty() {
        lines.push(format!(
            "Never use these words: {}",
            o.negative_keywords.join(", ")
        ));
    }
    if let Some(url) = &o.page_url {
        lines.push(format!("Page URL: {url}"));
    }
    if let Some(context) = &o.page_context {
        lines.push(format!("Text near the image on the page: {context}"));
    }
    if let Some(name) = &o.product.name {
        lines.push(format!("Product name: {name}"));
    }
    if let Some(sku) = &o.product.sku {
        lines.push(format!("Product SKU: {sku}"));
    }
    for (k, v) in &o.product.attributes {
        lines.push(format!("Product {k}: {v}"));
    }
    if let Some(custom) = &o.custom_prompt {
        lines.push(format!(
            "Additional instructions from the customer: {custom}"
        ));
    }
    lines.join("\n")
}

/// A strict JSON schema asking for exactly the requested fields.
pub fn response_schema(o: &GenerationOptions) -> Value {
    let properties: serde_json::Map<String, Value> = o
        .fields
        .iter()
        .map(|f| (f.as_str().to_string(), json!({ "type": "string" })))
        .collect();
    let required: Vec<&str> = o.fields.iter().map(Field::as_str).collect();
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false
    })
}
