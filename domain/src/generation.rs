//! What a caller asks a generation for, as validated types. A request body becomes these
//! before any aggregate sees it; each constructor names the field and what is wrong.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::languages::is_iso_639_1;

mod output;
mod role;

pub use output::{finish_all, FinishedText, GeneratedText};
pub use role::Role;

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
    /// Our addition: the service decides whether the image is decorative, and says why.
    Auto,
}

impl Mode {
    pub const ALL: [Mode; 4] = [
        Mode::Standard,
        Mode::Ecommerce,
        Mode::Decorative,
        Mode::Auto,
    ];

    pub fn parse(s: &str) -> Result<Mode, Invalid> {
        Mode::ALL.into_iter().find(|m| m.as_str() == s).ok_or_else(|| {
            invalid(format!(
                "mode must be one of \"standard\", \"ecommerce\", \"decorative\", \"auto\"; got \"{s}\""
            ))
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Standard => "standard",
            Mode::Ecommerce => "ecommerce",
            Mode::Decorative => "decorative",
            Mode::Auto => "auto",
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

    /// Alt text alone: what `validate` suggests unless asked for more.
    pub fn alt_text_only() -> Fields {
        Fields(vec![Field::AltText])
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
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

    /// `languages`: up to [`limits::LANGUAGES`] codes without repeats, the first the primary.
    /// Each bad code is named with its place in the list.
    pub fn parse_list(codes: &[String]) -> Result<Vec<Language>, Invalid> {
        if codes.is_empty() {
            return Err(invalid("languages must name at least one language"));
        }
        if codes.len() > limits::LANGUAGES {
            return Err(invalid(format!(
                "languages has {} items; the limit is {}",
                codes.len(),
                limits::LANGUAGES
            )));
        }
        let mut out: Vec<Language> = Vec::with_capacity(codes.len());
        for (i, code) in codes.iter().enumerate() {
            let language = Language::parse(code).map_err(|_| {
                invalid(format!(
                    "languages[{i}] must be an ISO 639-1 code such as \"fr\"; got \"{code}\""
                ))
            })?;
            if out.contains(&language) {
                return Err(invalid(format!(
                    "languages[{i}] repeats \"{}\"; name each language once",
                    language.as_str()
                )));
            }
            out.push(language);
        }
        Ok(out)
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
    /// Languages in one call, the primary one included.
    pub const LANGUAGES: usize = 10;
    /// The longest `long_description` a chart gets.
    pub const LONG_DESCRIPTION_CHARS: usize = 1_000;
    /// The longest `decorative_reason`: one sentence.
    pub const DECORATIVE_REASON_CHARS: usize = 200;
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
    /// Languages the text is also written in, beyond `language` (our `languages`); each is
    /// one credit, charged only when delivered. Absent from jobs requested before it existed,
    /// like the other additions below.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_languages: Vec<Language>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Role>,
    /// Where the image links to, for a link or button.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_url: Option<String>,
    /// The alt text the page has now, for the model to judge beside the image (`validate`
    /// with `check_match`); it answers a [`crate::validation::Judgement`] too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_alt_text: Option<String>,
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
            extra_languages: Vec::new(),
            role: None,
            link_url: None,
            judge_alt_text: None,
        }
    }

    /// Whether the text gets a `long_description`: a chart's data and trend.
    pub fn wants_long_description(&self) -> bool {
        self.role == Some(Role::Chart)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn language(code: &str) -> Language {
        Language::parse(code).unwrap()
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

    #[test]
    fn languages_are_bounded_known_and_unrepeated() {
        let codes = |cs: &[&str]| cs.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert_eq!(
            Language::parse_list(&codes(&["en", "FR"])).unwrap(),
            vec![language("en"), language("fr")]
        );
        let unknown = Language::parse_list(&codes(&["en", "xx"])).unwrap_err();
        assert!(
            unknown.0.contains("languages[1]") && unknown.0.contains("\"xx\""),
            "{unknown}"
        );
        let repeat = Language::parse_list(&codes(&["en", "fr", "en"])).unwrap_err();
        assert!(repeat.0.contains("repeats \"en\""), "{repeat}");
        assert!(Language::parse_list(&codes(&["en"; 11])).is_err());
        assert!(Language::parse_list(&[]).is_err());
        let ten = ["en", "fr", "de", "es", "it", "pt", "nl", "sv", "pl", "ja"];
        assert_eq!(Language::parse_list(&codes(&ten)).unwrap().len(), 10);
    }
}
