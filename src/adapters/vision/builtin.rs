//! The builtin describer: no network, no model weights. It says what the pixels show (size,
//! orientation, colours, light, photo or graphic) and what the caller told us (product,
//! keywords, page context), and nothing it cannot know. It writes English, and no translations.
//! The image's role shapes the alt text ([`role`]); in `auto` mode it also judges whether the
//! image is decorative ([`decorative`]).
use altframe_domain::generation::{GeneratedText, GenerationOptions, Language, Mode};
use altframe_domain::job::Tokens;
use altframe_domain::Micros;

use crate::adapters::image::PreparedImage;

use super::{analyse, Analysis, VisionError, VisionOutput, VisionProvider, VisionRequest};

mod address;
mod decorative;
mod role;
#[cfg(test)]
mod tests;

pub struct BuiltinProvider;

pub const BUILTIN_MODEL: &str = "builtin";

/// Whether the image is decorative, and why, judged from its pixels and the caller's context
/// as the builtin's `auto` mode judges it; free, whichever provider is configured (`validate`
/// uses it when no model is asked).
pub fn decorative_verdict(image: &PreparedImage, options: &GenerationOptions) -> (bool, String) {
    let r = &image.reference;
    let verdict = decorative::judge(&analyse(&image.pixels, r.width, r.height), options);
    (verdict.decorative, verdict.reason)
}

#[async_trait::async_trait]
impl VisionProvider for BuiltinProvider {
    fn model(&self) -> &str {
        BUILTIN_MODEL
    }

    fn fixed_language(&self) -> Option<Language> {
        Some(Language::english())
    }

    /// It reads colours and shapes, not meaning: it cannot tell whether a text fits a picture.
    fn judges_alt_text(&self) -> bool {
        false
    }

    async fn describe(&self, request: VisionRequest<'_>) -> Result<VisionOutput, VisionError> {
        let r = &request.image.reference;
        let analysis = analyse(&request.image.pixels, r.width, r.height);
        Ok(VisionOutput {
            text: describe(&analysis, request.options),
            translations: Default::default(),
            model: BUILTIN_MODEL.to_string(),
            tokens: Tokens::default(),
            cost: Micros::ZERO,
            judgement: None,
        })
    }
}

fn describe(a: &Analysis, o: &GenerationOptions) -> GeneratedText {
    let mut text = describe_look(a, o);
    role::apply(&mut text, a, o);
    if o.mode == Mode::Auto {
        let verdict = decorative::judge(a, o);
        text.decorative = Some(verdict.decorative);
        text.decorative_reason = Some(verdict.reason);
    }
    text
}

/// The text from the pixels and what the caller says the image shows, whatever its role.
fn describe_look(a: &Analysis, o: &GenerationOptions) -> GeneratedText {
    let subject = subject(o);
    let look = look(a);
    GeneratedText {
        alt_text: Some(alt_text(subject.as_deref(), &look, o)),
        title: Some(title(subject.as_deref(), a, o)),
        caption: Some(caption(subject.as_deref(), a, o)),
        og_description: Some(og_description(subject.as_deref(), &look, o)),
        ..GeneratedText::default()
    }
}

fn alt_text(subject: Option<&str>, look: &str, o: &GenerationOptions) -> String {
    match (subject, o.keywords.first()) {
        (Some(s), _) => format!("{s}: {look}"),
        (None, Some(topic)) => format!("{}, about {topic}", capitalise(look)),
        (None, None) => capitalise(look),
    }
}

fn title(subject: Option<&str>, a: &Analysis, o: &GenerationOptions) -> String {
    match (subject, o.keywords.first()) {
        (Some(s), _) => s.to_string(),
        (None, Some(k)) => title_case(k),
        (None, None) => title_case(&format!("{} {}", colour_phrase(a), a.kind)),
    }
}

fn caption(subject: Option<&str>, a: &Analysis, o: &GenerationOptions) -> String {
    let mut caption = format!(
        "{} image, {}×{} pixels,{}.",
        capitalise(a.orientation),
        a.width,
        a.height,
        detail(a)
    );
    if let Some(context) = non_empty(o.page_context.as_deref()) {
        caption.push_str(&format!(" Shown with: “{context}”."));
    }
    match subject {
        Some(s) => format!("{s}. {caption}"),
        None => caption,
    }
}

fn og_description(subject: Option<&str>, look: &str, o: &GenerationOptions) -> String {
    let mut og_description = match subject {
        Some(s) => format!("{s}: {look}."),
        None => format!("{}.", capitalise(look)),
    };
    // One keyword, never a list of them: the builtin cannot tell which of the others fit.
    if let Some(topic) = o.keywords.first() {
        og_description.push_str(&format!(" About {topic}."));
    }
    og_description
}

/// What the caller says the image shows: the product, when one is named.
fn subject(o: &GenerationOptions) -> Option<String> {
    let name = non_empty(o.product.name.as_deref())?;
    let attrs: Vec<&str> = o.product.attributes.values().map(String::as_str).collect();
    Some(if attrs.is_empty() || o.mode != Mode::Ecommerce {
        name.to_string()
    } else {
        format!("{name} ({})", attrs.join(", "))
    })
}

/// The caller's text without surrounding blanks, when there is any.
fn non_empty(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

fn look(a: &Analysis) -> String {
    if a.is_invisible() {
        return "a fully transparent image with nothing visible".to_string();
    }
    let mut s = format!(
        "{} {} {} in {} tones",
        article(a.brightness),
        a.brightness,
        a.kind,
        colour_phrase(a)
    );
    if a.transparent_share >= 0.25 {
        s.push_str(" on a transparent background");
    }
    s
}

fn colour_phrase(a: &Analysis) -> String {
    match a.colours.as_slice() {
        [] => "mixed".to_string(),
        [one] => one.to_string(),
        [first, second] => format!("{first} and {second}"),
        [first, rest @ ..] => format!("{first}, {}", rest.join(" and ")),
    }
}

fn detail(a: &Analysis) -> String {
    let kind = if a.kind == "photo" {
        "continuous tones like a photograph"
    } else {
        "flat areas of colour like an illustration or graphic"
    };
    format!(" with {kind}, mostly {}", colour_phrase(a))
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn title_case(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            if w == "and" {
                w.to_string()
            } else {
                capitalise(w)
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
