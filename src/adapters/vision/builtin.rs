//! The builtin describer: no network, no model weights. It says what the pixels show (size,
//! orientation, colours, light, photo or graphic) and what the caller told us (product,
//! keywords, page context), and nothing it cannot know. It writes English.
use altframe_domain::generation::{GeneratedText, GenerationOptions, Language, Mode};
use altframe_domain::job::Tokens;
use altframe_domain::Micros;

use super::{analyse, Analysis, VisionError, VisionOutput, VisionProvider, VisionRequest};

pub struct BuiltinProvider;

pub const BUILTIN_MODEL: &str = "builtin";

#[async_trait::async_trait]
impl VisionProvider for BuiltinProvider {
    fn model(&self) -> &str {
        BUILTIN_MODEL
    }

    fn fixed_language(&self) -> Option<Language> {
        Some(Language::english())
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
        })
    }
}

fn describe(a: &Analysis, o: &GenerationOptions) -> GeneratedText {
    let subject = subject(o);
    let look = look(a);
    let alt_text = match (&subject, o.keywords.first()) {
        (Some(s), _) => format!("{s}: {look}"),
        (None, Some(topic)) => format!("{}, about {topic}", capitalise(&look)),
        (None, None) => capitalise(&look),
    };
    let title = subject
        .clone()
        .or_else(|| o.keywords.first().map(|k| title_case(k)))
        .unwrap_or_else(|| title_case(&format!("{} {}", colour_phrase(a), a.kind)));
    let mut caption = format!(
        "{} image, {}×{} pixels,{}.",
        capitalise(a.orientation),
        a.width,
        a.height,
        detail(a)
    );
    if let Some(context) = o.page_context.as_deref().filter(|c| !c.trim().is_empty()) {
        caption.push_str(&format!(" Shown with: “{}”.", context.trim()));
    }
    if let Some(s) = &subject {
        caption = format!("{s}. {caption}");
    }
    let mut og_description = match &subject {
        Some(s) => format!("{s}: {look}."),
        None => format!("{}.", capitalise(&look)),
    };
    if !o.keywords.is_empty() {
        og_description.push_str(&format!(" Topics: {}.", o.keywords.join(", ")));
    }
    GeneratedText {
        alt_text: Some(alt_text),
        title: Some(title),
        caption: Some(caption),
        og_description: Some(og_description),
        ..GeneratedText::default()
    }
}

/// What the caller says the image shows: the product, when one is named.
fn subject(o: &GenerationOptions) -> Option<String> {
    if let Some(name) = o.product.name.as_deref().filter(|n| !n.trim().is_empty()) {
        let attrs: Vec<&str> = o.product.attributes.values().map(String::as_str).collect();
        return Some(if attrs.is_empty() || o.mode != Mode::Ecommerce {
            name.trim().to_string()
        } else {
            format!("{} ({})", name.trim(), attrs.join(", "))
        });
    }
    None
}

fn look(a: &Analysis) -> String {
    if a.transparent_share >= 0.999 {
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use altframe_domain::generation::{Fields, MaxLength, Product};

    use super::*;

    fn analysis() -> Analysis {
        Analysis {
            width: 800,
            height: 600,
            orientation: "landscape",
            colours: vec!["green", "orange"],
            brightness: "bright",
            kind: "photo",
            transparent_share: 0.0,
        }
    }

    fn options(mode: Mode, product: Product, keywords: &[&str]) -> GenerationOptions {
        GenerationOptions {
            mode,
            language: Language::english(),
            keywords: keywords.iter().map(|k| k.to_string()).collect(),
            negative_keywords: vec![],
            max_length: MaxLength::DEFAULT,
            fields: Fields::all(),
            page_url: None,
            page_context: Some("Spring sale".into()),
            product,
            custom_prompt: None,
            extra_languages: vec![],
            role: None,
            link_url: None,
        }
    }

    #[test]
    fn describes_pixels_and_the_callers_context() {
        let text = describe(
            &analysis(),
            &options(Mode::Standard, Product::default(), &["tomato seeds"]),
        );
        assert_eq!(
            text.alt_text.as_deref(),
            Some("A bright photo in green and orange tones, about tomato seeds")
        );
        assert_eq!(text.title.as_deref(), Some("Tomato Seeds"));
        assert!(text.caption.unwrap().contains("800×600 pixels"));
        assert!(text
            .og_description
            .unwrap()
            .contains("Topics: tomato seeds"));
    }

    #[test]
    fn ecommerce_names_the_product_and_its_attributes() {
        let product = Product {
            name: Some("Garden Trowel".into()),
            sku: None,
            attributes: BTreeMap::from([("colour".to_string(), "red".to_string())]),
        };
        let text = describe(&analysis(), &options(Mode::Ecommerce, product, &[]));
        assert_eq!(
            text.alt_text.as_deref(),
            Some("Garden Trowel (red): a bright photo in green and orange tones")
        );
    }

    #[test]
    fn says_so_when_nothing_is_visible() {
        let mut a = analysis();
        a.transparent_share = 1.0;
        a.colours.clear();
        let text = describe(&a, &options(Mode::Standard, Product::default(), &[]));
        assert!(text.alt_text.unwrap().contains("fully transparent"));
    }
}
