//! What a caller asks a generation for, as validated types. A request body becomes these
//! before any aggregate sees it; each constructor names the field and what is wrong.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::languages::is_iso_639_1;
use crate::text::{fit_to_length, tidy};

/// A validation failure, worded for the `{"error"}` body of a 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub String);

fn invalid(msg: impl Into<String>) -> Invalid {
    Invalid(msg.into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    #[default]
    Standard,
    Ecommerce,
    /// WCAG: a purely decorative image gets an empty alt attribute.
    Decorative,
}

impl Mode {
    pub const ALL: [Mode; 3] = [Mode::Standard, Mode::Ecommerce, Mode::Decorative];

    pub fn parse(s: &str) -> Result<Mode, Invalid> {
        match s {
            "standard" => Ok(Mode::Standard),
            "ecommerce" => Ok(Mode::Ecommerce),
            "decorative" => Ok(Mode::Decorative),
            other => Err(invalid(format!(
                "mode must be one of \"standard\", \"ecommerce\", \"decorative\"; got \"{other}\""
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Standard => "standard",
            Mode::Ecommerce => "ecommerce",
            Mode::Decorative => "decorative",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    AltText,
    Title,
    Caption,
    OgDescription,
}

impl Field {
    pub const ALL: [Field; 4] = [
        Field::AltText,
        Field::Title,
        Field::Caption,
        Field::OgDescription,
    ];

    pub fn parse(s: &str) -> Result<Field, Invalid> {
        Field::ALL.into_iter().find(|f| f.as_str() == s).ok_or_else(|| {
            invalid(format!(
                "fields: unknown field \"{s}\"; expected \"alt_text\", \"title\", \"caption\" or \"og_description\""
            ))
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Field::AltText => "alt_text",
            Field::Title => "title",
            Field::Caption => "caption",
            Field::OgDescription => "og_description",
        }
    }

    /// The longest text the API returns for this field; alt text takes the request's limit.
    pub fn max_chars(self, max_length: MaxLength) -> usize {
        match self {
            Field::AltText => usize::from(max_length.get()),
            Field::Title => 70,
            Field::Caption => 300,
            Field::OgDescription => 200,
        }
    }
}

/// The requested output fields: non-empty, without duplicates, in the contract's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fields(Vec<Field>);

impl Fields {
    pub fn all() -> Fields {
        Fields(Field::ALL.to_vec())
    }

    pub fn parse(names: &[String]) -> Result<Fields, Invalid> {
        if names.is_empty() {
            return Err(invalid("fields must name at least one field"));
        }
        let mut fields = names
            .iter()
            .map(|n| Field::parse(n))
            .collect::<Result<Vec<_>, _>>()?;
        fields.sort();
        fields.dedup();
        Ok(Fields(fields))
    }

    pub fn iter(&self) -> impl Iterator<Item = Field> + '_ {
        self.0.iter().copied()
    }

    pub fn contains(&self, field: Field) -> bool {
        self.0.contains(&field)
    }
}

/// An ISO 639-1 language code, lower case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Language(String);

impl Language {
    pub fn parse(s: &str) -> Result<Language, Invalid> {
        let code = s.trim().to_ascii_lowercase();
        if is_iso_639_1(&code) {
            Ok(Language(code))
        } else {
            Err(invalid(format!(
                "language must be an ISO 639-1 code such as \"en\"; got \"{s}\""
            )))
        }
    }

    pub fn english() -> Language {
        Language("en".into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The longest alt text a caller accepts: 10 to 1000 characters, 125 unless asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MaxLength(u16);

impl MaxLength {
    pub const MIN: u16 = 10;
    pub const MAX: u16 = 1000;
    pub const DEFAULT: MaxLength = MaxLength(125);

    pub fn new(n: i64) -> Result<MaxLength, Invalid> {
        if (i64::from(Self::MIN)..=i64::from(Self::MAX)).contains(&n) {
            Ok(MaxLength(n as u16))
        } else {
            Err(invalid(format!(
                "max_length must be between {} and {}; got {n}",
                Self::MIN,
                Self::MAX
            )))
        }
    }

    pub fn get(self) -> u16 {
        self.0
    }
}

/// Bounds on the free-text parts of a request, published in the README.
pub mod limits {
    pub const KEYWORDS: usize = 20;
    pub const KEYWORD_CHARS: usize = 50;
    pub const CONTEXT_CHARS: usize = 2_000;
    pub const PRODUCT_ATTRIBUTES: usize = 30;
    pub const PRODUCT_TEXT_CHARS: usize = 200;
    pub const URL_CHARS: usize = 2_048;
}

/// Checks a caller's string against a length bound, in characters.
pub fn bounded(field: &str, value: &str, max_chars: usize) -> Result<(), Invalid> {
    let n = value.chars().count();
    if n > max_chars {
        Err(invalid(format!(
            "{field} is {n} characters long; the limit is {max_chars}"
        )))
    } else {
        Ok(())
    }
}

pub fn parse_keywords(keywords: &[String]) -> Result<Vec<String>, Invalid> {
    parse_words("keywords", keywords)
}

/// Words the text must never hold (a competitor's name, a word the brand avoids); the same
/// bounds as `keywords`.
pub fn parse_negative_keywords(words: &[String]) -> Result<Vec<String>, Invalid> {
    parse_words("negative_keywords", words)
}

fn parse_words(name: &str, words: &[String]) -> Result<Vec<String>, Invalid> {
    if words.len() > limits::KEYWORDS {
        return Err(invalid(format!(
            "{name} has {} items; the limit is {}",
            words.len(),
            limits::KEYWORDS
        )));
    }
    words
        .iter()
        .enumerate()
        .map(|(i, k)| {
            bounded(&format!("{name}[{i}]"), k, limits::KEYWORD_CHARS)?;
            let k = k.trim();
            if k.is_empty() {
                return Err(invalid(format!("{name}[{i}] is empty")));
            }
            Ok(k.to_string())
        })
        .collect()
}

/// Product data that helps ecommerce alt text name what is sold.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Product {
    pub name: Option<String>,
    pub sku: Option<String>,
    pub attributes: BTreeMap<String, String>,
}

impl Product {
    pub fn parse(
        name: Option<String>,
        sku: Option<String>,
        attributes: BTreeMap<String, String>,
    ) -> Result<Product, Invalid> {
        if let Some(n) = &name {
            bounded("product_name", n, limits::PRODUCT_TEXT_CHARS)?;
        }
        if let Some(s) = &sku {
            bounded("product_sku", s, limits::PRODUCT_TEXT_CHARS)?;
        }
        if attributes.len() > limits::PRODUCT_ATTRIBUTES {
            return Err(invalid(format!(
                "product_attributes has {} pairs; the limit is {}",
                attributes.len(),
                limits::PRODUCT_ATTRIBUTES
            )));
        }
        for (k, v) in &attributes {
            bounded("product_attributes key", k, limits::KEYWORD_CHARS)?;
            bounded(
                &format!("product_attributes.{k}"),
                v,
                limits::PRODUCT_TEXT_CHARS,
            )?;
        }
        Ok(Product {
            name,
            sku,
            attributes,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.name.is_none() && self.sku.is_none() && self.attributes.is_empty()
    }
}

/// Everything about a generation except the image itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GenerationOptions {
    pub mode: Mode,
    pub language: Language,
    pub keywords: Vec<String>,
    /// Words the text must never hold. Absent from jobs requested before it existed.
    #[serde(default)]
    pub negative_keywords: Vec<String>,
    pub max_length: MaxLength,
    pub fields: Fields,
    pub page_url: Option<String>,
    pub page_context: Option<String>,
    pub product: Product,
    pub custom_prompt: Option<String>,
}

impl GenerationOptions {
    /// The contract's defaults: standard mode, all four fields, alt text up to 125 characters.
    pub fn defaults(language: Language) -> GenerationOptions {
        GenerationOptions {
            mode: Mode::default(),
            language,
            keywords: Vec::new(),
            negative_keywords: Vec::new(),
            max_length: MaxLength::DEFAULT,
            fields: Fields::all(),
            page_url: None,
            page_context: None,
            product: Product::default(),
            custom_prompt: None,
        }
    }
}

/// Generated text for the requested fields. Absent fields were not asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct GeneratedText {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alt_text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub og_description: Option<String>,
}

impl GeneratedText {
    pub fn get(&self, field: Field) -> Option<&str> {
        match field {
            Field::AltText => self.alt_text.as_deref(),
            Field::Title => self.title.as_deref(),
            Field::Caption => self.caption.as_deref(),
            Field::OgDescription => self.og_description.as_deref(),
        }
    }

    pub fn set(&mut self, field: Field, value: String) {
        let slot = match field {
            Field::AltText => &mut self.alt_text,
            Field::Title => &mut self.title,
            Field::Caption => &mut self.caption,
            Field::OgDescription => &mut self.og_description,
        };
        *slot = Some(value);
    }

    /// Keeps exactly the requested fields, each within its length, and applies the WCAG rule
    /// for decorative images. Every provider's answer goes through here.
    pub fn finish(&self, options: &GenerationOptions) -> GeneratedText {
        let mut out = GeneratedText::default();
        for field in options.fields.iter() {
            let text = if field == Field::AltText && options.mode == Mode::Decorative {
                String::new()
            } else {
                let raw = self.get(field).unwrap_or_default();
                let tidied = tidy(
                    raw,
                    field == Field::AltText,
                    &options.keywords,
                    &options.negative_keywords,
                );
                fit_to_length(&tidied, field.max_chars(options.max_length))
            };
            out.set(field, text);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(fields: &[&str], mode: Mode, max: i64) -> GenerationOptions {
        GenerationOptions {
            mode,
            language: Language::english(),
            keywords: vec![],
            negative_keywords: vec![],
            max_length: MaxLength::new(max).unwrap(),
            fields: Fields::parse(&fields.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap(),
            page_url: None,
            page_context: None,
            product: Product::default(),
            custom_prompt: None,
        }
    }

    fn full_text() -> GeneratedText {
        GeneratedText {
            alt_text: Some("A long description of a red bicycle leaning on a wall".into()),
            title: Some("Red bicycle".into()),
            caption: Some("A caption".into()),
            og_description: Some("An OG description".into()),
        }
    }

    #[test]
    fn finish_keeps_only_requested_fields() {
        let out = full_text().finish(&options(&["title", "alt_text"], Mode::Standard, 125));
        assert!(out.alt_text.is_some() && out.title.is_some());
        assert!(out.caption.is_none() && out.og_description.is_none());
    }

    #[test]
    fn finish_fits_alt_text_to_max_length() {
        let out = full_text().finish(&options(&["alt_text"], Mode::Standard, 20));
        let alt = out.alt_text.unwrap();
        assert!(alt.chars().count() <= 20, "{alt}");
        assert_eq!(alt, "A long description");
    }

    #[test]
    fn decorative_images_get_empty_alt_text() {
        let out = full_text().finish(&options(&["alt_text", "title"], Mode::Decorative, 125));
        assert_eq!(out.alt_text.as_deref(), Some(""));
        assert_eq!(out.title.as_deref(), Some("Red bicycle"));
    }

    #[test]
    fn max_length_bounds() {
        assert!(MaxLength::new(9).is_err());
        assert!(MaxLength::new(10).is_ok());
        assert!(MaxLength::new(1000).is_ok());
        assert!(MaxLength::new(1001).is_err());
    }

    #[test]
    fn fields_reject_unknown_and_empty() {
        assert!(Fields::parse(&["summary".into()]).is_err());
        assert!(Fields::parse(&[]).is_err());
        let f = Fields::parse(&["title".into(), "title".into(), "alt_text".into()]).unwrap();
        assert_eq!(
            f.iter().collect::<Vec<_>>(),
            vec![Field::AltText, Field::Title]
        );
    }

    #[test]
    fn keywords_are_bounded() {
        assert!(parse_keywords(&vec!["k".to_string(); 21]).is_err());
        assert!(parse_keywords(&["x".repeat(51)]).is_err());
        assert_eq!(parse_keywords(&[" a ".into()]).unwrap(), vec!["a"]);
    }
}
